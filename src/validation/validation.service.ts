// Validation use cases (admin only): check an AWS role or a Google identity the way the gateway
// will use it, from inline auth (checked, never stored) or from a stored credential, whose
// secret is opened through the secret store and nowhere else. Bad input is an error; a check
// that fails is a ValidationResult with ok: false.
import { AWS_REGION, VERTEX_LOCATION } from '../catalog/provider-catalog';
import { type Principal, requireWriter } from '../auth/principal';
import type { CredentialRepository } from '../credentials/credential.repository';
import {
  type AwsRoleAuth,
  checkAwsRole,
  checkGoogleAdc,
  checkImpersonation,
  exactlyOneOf,
  checkServiceAccount,
  GOOGLE_PROJECT_ID,
  type GoogleAdcAuth,
  type GoogleImpersonationAuth,
  type GoogleServiceAccountAuth,
} from '../credentials/credential-auth';
import { BadUserInputError, NotFoundError } from '../errors/app-error';
import { requireUuid } from '../ids/uuid';
import type { Logger } from '../logging/logger';
import type { SecretStore } from '../secrets/secret-store';
import type { AwsRoleToValidate, AwsRoleValidator } from './aws-role-validator';
import { DEFAULT_VERTEX_MODEL, type GoogleAuthToValidate, type GoogleVertexValidator } from './google-vertex-validator';
import type { ValidationResult } from './validation-result';

export interface AwsRoleValidationInput {
  role?: AwsRoleAuth | null;
  credentialId?: string | null;
}

export interface GoogleVertexValidationInput {
  googleAdc?: GoogleAdcAuth | null;
  googleServiceAccount?: GoogleServiceAccountAuth | null;
  googleImpersonation?: GoogleImpersonationAuth | null;
  credentialId?: string | null;
}

export interface VertexTarget {
  projectId: string;
  location?: string | null;
  model?: string | null;
}

const MODEL = /^[a-z0-9][a-z0-9._@-]{0,127}$/;

export class ValidationService {
  constructor(
    private readonly credentials: CredentialRepository,
    private readonly secrets: SecretStore,
    private readonly aws: AwsRoleValidator,
    private readonly google: GoogleVertexValidator,
    private readonly audit: Logger,
    private readonly options: { googleTokenUrl: string },
  ) {}

  async validateAwsRole(principal: Principal, input: AwsRoleValidationInput, region: string | null | undefined): Promise<ValidationResult> {
    requireWriter(principal);
    if (region !== null && region !== undefined && !AWS_REGION.pattern.test(region)) {
      throw new BadUserInputError('region', `region must be ${AWS_REGION.description}.`);
    }
    const member = exactlyOne(input, ['role', 'credentialId']);
    let role: AwsRoleToValidate;
    let storedRegion: string | undefined;
    if (member === 'role') {
      role = checkAwsRole('input.role', input.role) as unknown as AwsRoleToValidate;
    } else {
      const { payload, settings } = await this.openStored(principal, input.credentialId as string, ['AWS_ROLE']);
      role = { iamRoleArn: String(payload?.iamRoleArn), externalId: String(payload?.externalId) };
      const setting = settings.region;
      if (typeof setting === 'string' && AWS_REGION.pattern.test(setting)) storedRegion = setting;
    }
    const result = await this.aws.validate(role, { organizationId: principal.orgId, region: region ?? storedRegion });
    this.record('validation.aws_role', principal, input.credentialId ?? null, result);
    return result;
  }

  async validateGoogleVertex(principal: Principal, input: GoogleVertexValidationInput, target: VertexTarget): Promise<ValidationResult> {
    requireWriter(principal);
    if (!GOOGLE_PROJECT_ID.test(target.projectId)) {
      throw new BadUserInputError('projectId', 'projectId must be a Google Cloud project id (6-30 lower-case letters, digits or hyphens).');
    }
    const location = target.location ?? 'us-central1';
    // The location becomes part of a host name: only real location shapes pass.
    if (location !== 'global' && !VERTEX_LOCATION.pattern.test(location)) {
      throw new BadUserInputError('location', `location must be ${VERTEX_LOCATION.description}, or global.`);
    }
    const model = target.model ?? DEFAULT_VERTEX_MODEL;
    if (!MODEL.test(model)) throw new BadUserInputError('model', 'model must be a Vertex publisher model id such as gemini-2.5-flash.');

    const member = exactlyOne(input, ['googleAdc', 'googleServiceAccount', 'googleImpersonation', 'credentialId']);
    let auth: GoogleAuthToValidate;
    switch (member) {
      case 'googleAdc':
        auth = { type: 'GOOGLE_ADC', quotaProjectId: checkGoogleAdc('input.googleAdc', input.googleAdc) };
        break;
      case 'googleServiceAccount':
        auth = {
          type: 'GOOGLE_SERVICE_ACCOUNT',
          ...(checkServiceAccount(
            'input.googleServiceAccount',
            input.googleServiceAccount,
            this.options.googleTokenUrl,
          ) as unknown as GoogleServiceAccountAuth),
        };
        break;
      case 'googleImpersonation':
        auth = {
          type: 'GOOGLE_IMPERSONATION',
          ...(checkImpersonation('input.googleImpersonation', input.googleImpersonation) as unknown as GoogleImpersonationAuth),
        };
        break;
      default: {
        const stored = await this.openStored(principal, input.credentialId as string, [
          'GOOGLE_ADC',
          'GOOGLE_SERVICE_ACCOUNT',
          'GOOGLE_IMPERSONATION',
        ]);
        auth =
          stored.authType === 'GOOGLE_ADC'
            ? { type: 'GOOGLE_ADC', quotaProjectId: (stored.authParameters.quotaProjectId as string | undefined) ?? null }
            : ({ type: stored.authType, ...stored.payload } as GoogleAuthToValidate);
      }
    }
    const result = await this.google.validate(auth, { projectId: target.projectId, location, model });
    this.record('validation.google_vertex', principal, input.credentialId ?? null, result);
    return result;
  }

  private async openStored(principal: Principal, credentialId: string, authTypes: string[]) {
    requireUuid('input.credentialId', credentialId);
    const credential = await this.credentials.findById(principal.orgId, credentialId);
    if (!credential) throw new NotFoundError('Credential', credentialId);
    if (!authTypes.includes(credential.authType)) {
      throw new BadUserInputError(
        'input.credentialId',
        `The credential is ${credential.authType}; this validation takes ${authTypes.join(' or ')}.`,
      );
    }
    const opened = await this.secrets.open(principal.orgId, credentialId);
    if (!opened) throw new NotFoundError('Credential', credentialId);
    return { authType: opened.authType, payload: opened.payload, settings: credential.settings, authParameters: credential.authParameters };
  }

  private record(event: string, principal: Principal, credentialId: string | null, result: ValidationResult): void {
    this.audit.info(
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
