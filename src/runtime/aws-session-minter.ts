// Short-lived AWS credentials for the gateway: AssumeRole with a stored role and external id, or
// GetSessionToken signed with a stored long-lived key pair, so that the key pair itself never
// leaves the vault. STS failures become UPSTREAM_AUTH_FAILED naming the call, never STS's text.
import { randomBytes } from 'node:crypto';
import type { Credentials } from '@aws-sdk/client-sts';
import { createStsClient } from '../aws/sts-client';
import { UpstreamAuthFailedError } from '../errors/app-error';
import type { AwsKeysAuth, AwsRoleAuth } from '../secrets/secret-payload';
import { describeStsFailure } from '../validation/aws-role-validator';
import type { Minted } from './minted-credential-cache';

export interface AwsSession {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string | null;
  region: string;
}

export interface AwsSessionMinterOptions {
  /** AWS_STS_ENDPOINT. */
  stsEndpoint?: string;
  /** How long a minted session lasts; STS allows 900 s at the least. */
  sessionSeconds?: number;
}

const DEFAULT_SESSION_SECONDS = 3600;

export class AwsSessionMinter {
  constructor(private readonly options: AwsSessionMinterOptions = {}) {}

  async assumeRole(role: AwsRoleAuth, context: { organizationId: string; region: string }): Promise<Minted<AwsSession>> {
    const { client, sts } = await createStsClient({ region: context.region, endpoint: this.options.stsEndpoint });
    try {
      const response = await client.send(
        new sts.AssumeRoleCommand({
          RoleArn: role.iamRoleArn,
          ExternalId: role.externalId,
          // Names this service and the organization in the role's CloudTrail entries.
          RoleSessionName: `credential-vault-${context.organizationId}-${randomBytes(4).toString('hex')}`,
          DurationSeconds: this.sessionSeconds(),
        }),
      );
      return sessionOf(response.Credentials, context.region, 'sts:AssumeRole');
    } catch (error) {
      throw asUpstreamFailure('sts:AssumeRole', error);
    } finally {
      client.destroy();
    }
  }

  /**
   * Session credentials for a stored key pair. A stored pair that already carries a session token
   * is temporary itself: STS refuses GetSessionToken for it, so it is handed out as stored.
   */
  async sessionToken(keys: AwsKeysAuth, region: string): Promise<Minted<AwsSession> | { value: AwsSession; expiresAt: null }> {
    if (keys.sessionToken) {
      return {
        value: { accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey, sessionToken: keys.sessionToken, region },
        expiresAt: null,
      };
    }
    const { client, sts } = await createStsClient({
      region,
      endpoint: this.options.stsEndpoint,
      credentials: { accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey },
    });
    try {
      const response = await client.send(new sts.GetSessionTokenCommand({ DurationSeconds: this.sessionSeconds() }));
      return sessionOf(response.Credentials, region, 'sts:GetSessionToken');
    } catch (error) {
      throw asUpstreamFailure('sts:GetSessionToken', error);
    } finally {
      client.destroy();
    }
  }

  private sessionSeconds(): number {
    return this.options.sessionSeconds ?? DEFAULT_SESSION_SECONDS;
  }
}

function sessionOf(credentials: Credentials | undefined, region: string, check: string): Minted<AwsSession> {
  const { AccessKeyId, SecretAccessKey, SessionToken, Expiration } = credentials ?? {};
  if (!AccessKeyId || !SecretAccessKey || !SessionToken || !Expiration) {
    throw new UpstreamAuthFailedError(check, 'STS answered without complete credentials');
  }
  return {
    value: { accessKeyId: AccessKeyId, secretAccessKey: SecretAccessKey, sessionToken: SessionToken, region },
    expiresAt: Expiration,
  };
}

function asUpstreamFailure(check: string, error: unknown): Error {
  if (error instanceof UpstreamAuthFailedError) return error;
  const name = (error as { name?: unknown } | null)?.name;
  // GetSessionToken is signed with the stored pair, not this service's identity.
  if (check === 'sts:GetSessionToken' && typeof name === 'string' && STORED_KEYS_REFUSED.has(name)) {
    return new UpstreamAuthFailedError(check, 'STS refused the stored access key pair (invalid, disabled or deleted)');
  }
  return new UpstreamAuthFailedError(check, describeStsFailure(error));
}

const STORED_KEYS_REFUSED = new Set(['InvalidClientTokenId', 'SignatureDoesNotMatch', 'ExpiredToken', 'AccessDenied']);
