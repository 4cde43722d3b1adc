// Validation use cases (admin only): check an AWS role or a Google identity the way the gateway
// will use it, from inline auth (checked, never stored) or from a stored credential, whose
// secret is opened through the secret store and nowhere else. Bad input is an error; a check
// that fails is a ValidationResult with ok: false.
import { type AuthType, AWS_REGION, VERTEX_LOCATION } from '../catalog/model-provider-catalog';
import type { AuditLog } from '../audit/audit-log';
import { type Principal, requireWriter } from '../auth/principal';
import type { CredentialRepository } from '../credentials/credential.repository';
import {
  type AwsRoleRequest,
  checkAwsRole,
  checkGoogleAdc,
  checkGoogleProjectId,
  checkImpersonation,
  checkServiceAccount,
  exactlyOneOf,
  SERVICE_ACCOUNT_KEY_FILE_NAMES,
  serviceAccountOfKeyFile,
} from '../credentials/credential-auth';
import { BadUserInputError, NotFoundError } from '../errors/app-error';
import { requireUuid } from '../ids/uuid';
import type { Logger } from '../logging/logger';
import type { AwsRoleAuth, GoogleAdcAuth, GoogleImpersonationAuth, GoogleServiceAccountAuth } from '../secrets/secret-payload';
import type { OpenedSecret, SecretStore } from '../secrets/secret-store';
import type { GoogleIdentity } from '../google/google-access-tokens';
import type { AwsRoleValidator } from './aws-role-validator';
import {
  DEFAULT_VERTEX_ANTHROPIC_MODEL,
  DEFAULT_VERTEX_MODEL,
  type GoogleVertexValidator,
  type VertexApiFamily,
} from './google-vertex-validator';
import type { ValidationResult } from './validation-result';
import type { Credential } from '../credentials/credential.model';

/** validateAwsRole's input: exactly one of an inline role or a stored AWS_ROLE credential. */
export interface AwsRoleValidationRequest {
  /** Both fields are required here: a role is validated with the external id it will be assumed with. */
  role?: AwsRoleRequest | null;
  credentialId?: string | null;
}

/** validateGoogleVertex's input: exactly one inline Google identity or a stored VERTEX credential. */
export interface GoogleVertexValidationRequest {
  googleAdc?: GoogleAdcAuth | null;
  googleServiceAccount?: GoogleServiceAccountAuth | null;
  /** A service-account key file as Google issues it: its JSON text, or the parsed object. */
  googleServiceAccountKeyFile?: string | object | null;
  googleImpersonation?: GoogleImpersonationAuth | null;
  credentialId?: string | null;
}

export interface VertexTarget {
  projectId: string;
  location?: string | null;
  model?: string | null;
  apiFamily?: VertexApiFamily | null;
}

/** What the service uses, and only that. */
export interface ValidationServiceDependencies {
  credentials: Pick<CredentialRepository, 'findById'>;
  secrets: Pick<SecretStore, 'open'>;
  aws: Pick<AwsRoleValidator, 'validate'>;
  google: Pick<GoogleVertexValidator, 'validate'>;
  audit: Logger;
  /** The audit trail: every validation run is an event of the organization. */
  auditLog: Pick<AuditLog, 'record'>;
  /** The token URL a service account's tokenUri must equal. */
  googleTokenUrl: string;
}

const MODEL = /^[a-z0-9][a-z0-9._@-]{0,127}$/;

export class ValidationService {
  constructor(private readonly dependencies: ValidationServiceDependencies) {}

  async validateAwsRole(
    principal: Principal,
    input: AwsRoleValidationRequest,
    region: string | null | undefined,
  ): Promise<ValidationResult> {
    requireWriter(principal);
    if (region !== null && region !== undefined && !AWS_REGION.pattern.test(region)) {
      throw new BadUserInputError('region', `region must be ${AWS_REGION.description}.`);
    }
    let role: AwsRoleAuth;
    let storedRegion: string | undefined;
    if (exactlyOne(input, ['role', 'credentialId']) === 'role') {
      role = checkAwsRole('input.role', input.role);
    } else {
      const { credential, secret } = await this.openStored(principal, input.credentialId, ['AWS_ROLE']);
      if (secret.authType !== 'AWS_ROLE') throw wrongAuthType(credential, ['AWS_ROLE']);
      role = secret.payload;
      const setting = credential.settings.region;
      if (typeof setting === 'string' && AWS_REGION.pattern.test(setting)) storedRegion = setting;
    }
    const result = await this.dependencies.aws.validate(role, { organizationId: principal.orgId, region: region ?? storedRegion });
    await this.record('validation.aws_role', principal, input.credentialId ?? null, result);
    return result;
  }

  async validateGoogleVertex(principal: Principal, input: GoogleVertexValidationRequest, target: VertexTarget): Promise<ValidationResult> {
    requireWriter(principal);
    checkGoogleProjectId('projectId', 'projectId', target.projectId);
    const location = target.location ?? VERTEX_LOCATION.fallback;
    // The location becomes part of a host name: only real location shapes pass.
    if (location !== 'global' && !VERTEX_LOCATION.pattern.test(location)) {
      throw new BadUserInputError('location', `location must be ${VERTEX_LOCATION.description}, or global.`);
    }
    const apiFamily = target.apiFamily ?? 'vertex_gemini';
    const model = target.model ?? (apiFamily === 'anthropic_messages' ? DEFAULT_VERTEX_ANTHROPIC_MODEL : DEFAULT_VERTEX_MODEL);
    if (!MODEL.test(model)) throw new BadUserInputError('model', 'model must be a Vertex publisher model id such as gemini-2.5-flash.');

    const auth = await this.googleAuthOf(principal, input);
    const result = await this.dependencies.google.validate(auth, { projectId: target.projectId, location, model, apiFamily });
    await this.record('validation.google_vertex', principal, input.credentialId ?? null, result);
    return result;
  }

  private async googleAuthOf(principal: Principal, input: GoogleVertexValidationRequest): Promise<GoogleIdentity> {
    switch (
      exactlyOne(input, ['googleAdc', 'googleServiceAccount', 'googleServiceAccountKeyFile', 'googleImpersonation', 'credentialId'])
    ) {
      case 'googleAdc':
        return { type: 'GOOGLE_ADC', quotaProjectId: checkGoogleAdc('input.googleAdc', input.googleAdc) };
      case 'googleServiceAccount':
        return {
          type: 'GOOGLE_SERVICE_ACCOUNT',
          ...checkServiceAccount('input.googleServiceAccount', input.googleServiceAccount, this.dependencies.googleTokenUrl),
        };
      case 'googleServiceAccountKeyFile': {
        const field = 'input.googleServiceAccountKeyFile';
        const account = serviceAccountOfKeyFile(field, input.googleServiceAccountKeyFile);
        const names = SERVICE_ACCOUNT_KEY_FILE_NAMES;
        return { type: 'GOOGLE_SERVICE_ACCOUNT', ...checkServiceAccount(field, account, this.dependencies.googleTokenUrl, names) };
      }
      case 'googleImpersonation':
        return { type: 'GOOGLE_IMPERSONATION', ...checkImpersonation('input.googleImpersonation', input.googleImpersonation) };
      case 'credentialId': {
        const googleAuthTypes: AuthType[] = ['GOOGLE_ADC', 'GOOGLE_SERVICE_ACCOUNT', 'GOOGLE_IMPERSONATION'];
        const { credential, secret } = await this.openStored(principal, input.credentialId, googleAuthTypes);
        switch (secret.authType) {
          case 'GOOGLE_ADC':
            return { type: 'GOOGLE_ADC', quotaProjectId: credential.authParameters.quotaProjectId ?? null };
          case 'GOOGLE_SERVICE_ACCOUNT':
            return { type: 'GOOGLE_SERVICE_ACCOUNT', ...secret.payload };
          case 'GOOGLE_IMPERSONATION':
            return { type: 'GOOGLE_IMPERSONATION', ...secret.payload };
          default:
            throw wrongAuthType(credential, googleAuthTypes);
        }
      }
    }
  }

  /**
   * A stored credential of the caller's organization with its opened secret. Its auth type is
   * checked before the secret is opened: a credential of the wrong kind costs no key service call.
   */
  private async openStored(
    principal: Principal,
    credentialId: string | null | undefined,
    authTypes: readonly AuthType[],
  ): Promise<{ credential: Credential; secret: OpenedSecret }> {
    const id = credentialId ?? '';
    requireUuid('input.credentialId', id);
    const credential = await this.dependencies.credentials.findById(principal.orgId, id);
    if (!credential) throw new NotFoundError('Credential', id);
    if (!authTypes.includes(credential.authType)) throw wrongAuthType(credential, authTypes);
    const secret = await this.dependencies.secrets.open(principal.orgId, id);
    if (!secret) throw new NotFoundError('Credential', id);
    return { credential, secret };
  }

  private async record(
    event: 'validation.aws_role' | 'validation.google_vertex',
    principal: Principal,
    credentialId: string | null,
    result: ValidationResult,
  ): Promise<void> {
    await this.dependencies.auditLog.record({
      organizationId: principal.orgId,
      actor: principal.userId,
      action: credentialId ? 'credential.validated' : 'validation.run',
      targetType: credentialId ? 'credential' : null,
      targetId: credentialId,
      details: {
        validation: event === 'validation.aws_role' ? 'aws_role' : 'google_vertex',
        ok: result.ok,
        checks: result.checks.map((check) => ({ name: check.name, ok: check.ok })),
      },
      origin: principal.origin ?? null,
    });
    this.dependencies.audit.info(
      {
        event,
        orgId: principal.orgId,
        actor: principal.userId,
        credentialId,
        ok: result.ok,
        checks: result.checks.map((check) => `${check.name}:${check.ok ? 'ok' : 'failed'}`),
      },
      event.replace('.', ' '),
    );
  }
}

function exactlyOne<Key extends string>(input: Partial<Record<Key, unknown>>, members: Key[]): Key {
  return exactlyOneOf(input, members, 'input', (count) => `Give exactly one of ${members.join(', ')}; got ${count}.`);
}

function wrongAuthType(credential: Credential, authTypes: readonly AuthType[]): BadUserInputError {
  return new BadUserInputError(
    'input.credentialId',
    `The credential is ${credential.authType}; this validation takes ${authTypes.join(' or ')}.`,
  );
}
