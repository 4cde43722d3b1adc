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
  /** Left out: a stored credential's settings.project_id, else a service account's own project. */
  projectId?: string | null;
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
/** The settings key that names a Vertex credential's project (the REST contract's), and its camel-case spelling. */
const PROJECT_ID_SETTINGS = ['project_id', 'projectId'] as const;
const GOOGLE_AUTH_TYPES: readonly AuthType[] = ['GOOGLE_ADC', 'GOOGLE_SERVICE_ACCOUNT', 'GOOGLE_IMPERSONATION'];

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
    const givenProjectId = target.projectId ?? undefined;
    if (givenProjectId !== undefined) checkGoogleProjectId('projectId', 'projectId', givenProjectId);
    const location = target.location ?? VERTEX_LOCATION.fallback;
    // The location becomes part of a host name: only real location shapes pass.
    if (location !== 'global' && !VERTEX_LOCATION.pattern.test(location)) {
      throw new BadUserInputError('location', `location must be ${VERTEX_LOCATION.description}, or global.`);
    }
    const apiFamily = target.apiFamily ?? 'vertex_gemini';
    const model = target.model ?? (apiFamily === 'anthropic_messages' ? DEFAULT_VERTEX_ANTHROPIC_MODEL : DEFAULT_VERTEX_MODEL);
    if (!MODEL.test(model)) throw new BadUserInputError('model', 'model must be a Vertex publisher model id such as gemini-2.5-flash.');

    const { identity: auth, projectId: defaultProjectId } = await this.googleAuthOf(principal, input, givenProjectId === undefined);
    const projectId = givenProjectId ?? defaultProjectId;
    if (projectId === undefined) throw projectIdRequired();
    const result = await this.dependencies.google.validate(auth, { projectId, location, model, apiFamily });
    await this.record('validation.google_vertex', principal, input.credentialId ?? null, result);
    return result;
  }

  /**
   * The Google identity to validate, and the project it names when projectId is left out: a stored
   * credential's settings.project_id, else a service account's own project (not a secret: it is in
   * the key file's clear fields). A stored credential without either is refused before its secret
   * is opened when no projectId was given (`projectIdNeeded`).
   */
  private async googleAuthOf(
    principal: Principal,
    input: GoogleVertexValidationRequest,
    projectIdNeeded: boolean,
  ): Promise<{ identity: GoogleIdentity; projectId?: string }> {
    switch (
      exactlyOne(input, ['googleAdc', 'googleServiceAccount', 'googleServiceAccountKeyFile', 'googleImpersonation', 'credentialId'])
    ) {
      case 'googleAdc':
        return { identity: { type: 'GOOGLE_ADC', quotaProjectId: checkGoogleAdc('input.googleAdc', input.googleAdc) } };
      case 'googleServiceAccount': {
        const account = checkServiceAccount('input.googleServiceAccount', input.googleServiceAccount, this.dependencies.googleTokenUrl);
        return { identity: { type: 'GOOGLE_SERVICE_ACCOUNT', ...account }, projectId: account.projectId };
      }
      case 'googleServiceAccountKeyFile': {
        const field = 'input.googleServiceAccountKeyFile';
        const keyFile = serviceAccountOfKeyFile(field, input.googleServiceAccountKeyFile);
        const account = checkServiceAccount(field, keyFile, this.dependencies.googleTokenUrl, SERVICE_ACCOUNT_KEY_FILE_NAMES);
        return { identity: { type: 'GOOGLE_SERVICE_ACCOUNT', ...account }, projectId: account.projectId };
      }
      case 'googleImpersonation':
        return {
          identity: { type: 'GOOGLE_IMPERSONATION', ...checkImpersonation('input.googleImpersonation', input.googleImpersonation) },
        };
      case 'credentialId': {
        let settingsProjectId: string | undefined;
        const { credential, secret } = await this.openStored(principal, input.credentialId, GOOGLE_AUTH_TYPES, (stored) => {
          if (!projectIdNeeded) return;
          settingsProjectId = projectIdOfSettings(stored);
          if (settingsProjectId === undefined && stored.authType !== 'GOOGLE_SERVICE_ACCOUNT') throw projectIdRequired();
        });
        switch (secret.authType) {
          case 'GOOGLE_ADC':
            return {
              identity: { type: 'GOOGLE_ADC', quotaProjectId: credential.authParameters.quotaProjectId ?? null },
              projectId: settingsProjectId,
            };
          case 'GOOGLE_SERVICE_ACCOUNT':
            return {
              identity: { type: 'GOOGLE_SERVICE_ACCOUNT', ...secret.payload },
              projectId: settingsProjectId ?? secret.payload.projectId,
            };
          case 'GOOGLE_IMPERSONATION':
            return { identity: { type: 'GOOGLE_IMPERSONATION', ...secret.payload }, projectId: settingsProjectId };
          default:
            throw wrongAuthType(credential, GOOGLE_AUTH_TYPES);
        }
      }
    }
  }

  /**
   * A stored credential of the caller's organization with its opened secret. Its auth type (and
   * whatever `check` looks at) is checked before the secret is opened: a credential that cannot
   * be validated costs no key service call.
   */
  private async openStored(
    principal: Principal,
    credentialId: string | null | undefined,
    authTypes: readonly AuthType[],
    check: (credential: Credential) => void = () => undefined,
  ): Promise<{ credential: Credential; secret: OpenedSecret }> {
    const id = credentialId ?? '';
    requireUuid('input.credentialId', id);
    const credential = await this.dependencies.credentials.findById(principal.orgId, id);
    if (!credential) throw new NotFoundError('Credential', id);
    if (!authTypes.includes(credential.authType)) throw wrongAuthType(credential, authTypes);
    check(credential);
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

/** The project a stored credential's settings name (`project_id`); one that is not a project id is refused. */
function projectIdOfSettings(credential: Credential): string | undefined {
  for (const key of PROJECT_ID_SETTINGS) {
    const value = credential.settings[key];
    if (value === undefined || value === null) continue;
    const label = `projectId was left out, and the credential's settings.${key}`;
    if (typeof value !== 'string') throw new BadUserInputError('projectId', `${label} is not a string; give projectId.`);
    return checkGoogleProjectId('projectId', label, value);
  }
  return undefined;
}

function projectIdRequired(): BadUserInputError {
  return new BadUserInputError(
    'projectId',
    'projectId is required: this identity names no project (a stored credential gives its settings.project_id, a service account its own project).',
  );
}

function wrongAuthType(credential: Credential, authTypes: readonly AuthType[]): BadUserInputError {
  return new BadUserInputError(
    'input.credentialId',
    `The credential is ${credential.authType}; this validation takes ${authTypes.join(' or ')}.`,
  );
}
