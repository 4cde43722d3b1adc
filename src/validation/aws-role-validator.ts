// Validates an AWS role the way the gateway will use it: STS AssumeRole with the role ARN and
// external id, from this service's own AWS identity (the SDK's default credential chain). A
// second AssumeRole without the external id probes for the confused-deputy hole. The temporary
// credentials STS returns are dropped at once: never stored, logged or returned.
import { randomBytes } from 'node:crypto';
import type { STSClient } from '@aws-sdk/client-sts';
import { createStsClient, type StsModule } from '../aws/sts-client';
import type { AwsRoleAuth } from '../secrets/secret-payload';
import { resultOf, runStep, type ValidationCheck, type ValidationResult } from './validation-result';

export interface AwsRoleValidatorOptions {
  region: string;
  /** AWS_STS_ENDPOINT: an override for emulators and private endpoints. */
  stsEndpoint?: string;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
}

/** The shortest session STS grants. */
const SESSION_SECONDS = 900;

export class AwsRoleValidator {
  constructor(private readonly options: AwsRoleValidatorOptions) {}

  async validate(role: AwsRoleAuth, context: { organizationId: string; region?: string }): Promise<ValidationResult> {
    const { client, sts } = await createStsClient({
      region: context.region ?? this.options.region,
      endpoint: this.options.stsEndpoint,
      connectTimeoutMs: this.options.connectTimeoutMs,
      requestTimeoutMs: this.options.requestTimeoutMs,
    });
    const checks: ValidationCheck[] = [];
    try {
      const assumed = await runStep(
        checks,
        'assume-role',
        async () => {
          const arn = await assumeRole(client, sts, role.iamRoleArn, role.externalId, context.organizationId);
          return { ok: true, detail: `assumed ${arn.assumedRoleArn}; temporary credentials valid until ${arn.expiration} were discarded` };
        },
        describeStsFailure,
      );
      if (assumed.ok) {
        await runStep(
          checks,
          'external-id-required',
          async () => {
            try {
              const withoutExternalId = await assumeRole(client, sts, role.iamRoleArn, undefined, context.organizationId);
              return {
                ok: false,
                detail: `the role can be assumed without an external id (as ${withoutExternalId.assumedRoleArn}): its trust policy must require sts:ExternalId, or any AWS customer of this service could use it`,
              };
            } catch (error) {
              // Refused without the external id: exactly what a safe trust policy does.
              if (errorName(error) === 'AccessDenied') return { ok: true, detail: 'the trust policy requires the external id' };
              throw error;
            }
          },
          (error) => `could not confirm that the trust policy requires the external id: ${describeStsFailure(error)}`,
        );
      }
    } finally {
      client.destroy();
    }
    return resultOf('AWS_ROLE', checks);
  }
}

async function assumeRole(
  client: STSClient,
  sts: StsModule,
  roleArn: string,
  externalId: string | undefined,
  organizationId: string,
): Promise<{ assumedRoleArn: string; expiration: string }> {
  const response = await client.send(
    new sts.AssumeRoleCommand({
      RoleArn: roleArn,
      ...(externalId !== undefined ? { ExternalId: externalId } : {}),
      // Names this service and the organization in the role's CloudTrail entries.
      RoleSessionName: `credential-vault-${organizationId}-${randomBytes(4).toString('hex')}`,
      DurationSeconds: SESSION_SECONDS,
    }),
  );
  const assumedRoleArn = response.AssumedRoleUser?.Arn ?? 'the role';
  const expiration = response.Credentials?.Expiration?.toISOString() ?? 'unknown';
  // Nothing of the credentials outlives this function.
  response.Credentials = undefined;
  return { assumedRoleArn, expiration };
}

function errorName(error: unknown): string {
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === 'string' ? name : 'Error';
}

/** STS and SDK errors as a sentence for the caller; the raw message is never passed on. */
export function describeStsFailure(error: unknown): string {
  switch (errorName(error)) {
    case 'AccessDenied':
      return 'this service is not allowed to assume the role; check the trust policy and external id';
    case 'InvalidClientTokenId':
    case 'SignatureDoesNotMatch':
    case 'ExpiredToken':
    case 'UnrecognizedClientException':
      return "STS rejected this service's own AWS identity (invalid or expired credentials)";
    case 'CredentialsProviderError':
      return "this service has no AWS identity to call STS with (the SDK's default credential chain found none)";
    case 'RegionDisabledException':
      return 'STS is not activated in this region for the account';
    case 'MalformedPolicyDocument':
    case 'ValidationError':
      return 'STS refused the request parameters (check the role ARN)';
    case 'TimeoutError':
    case 'RequestTimeout':
      return 'STS did not answer in time';
    default: {
      const code = (error as { code?: unknown } | null)?.code;
      if (typeof code === 'string' && /^(ECONN|ENOTFOUND|EAI_|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH)/.test(code)) return 'could not reach STS';
      return 'STS could not be asked (unexpected error)';
    }
  }
}
