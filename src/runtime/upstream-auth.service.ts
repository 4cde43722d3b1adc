// The runtime route's use case: what the gateway's data plane needs to authenticate one upstream
// call for a provider (route) or a credential of its organization, and nothing more. API keys
// become the headers the vendor expects; cloud identities become short-lived credentials, minted
// once per credential version and lifetime and shared by concurrent callers. Every resolve is
// counted; lastUsedAt and an audit line are written at most once a minute per credential.
import { type Principal, requireRuntime } from '../auth/principal';
import { apiKeyHeaders, AWS_REGION, type AuthType, defaultBaseUrl, type ModelProvider } from '../catalog/model-provider-catalog';
import type { Credential } from '../credentials/credential.model';
import type { CredentialRepository } from '../credentials/credential.repository';
import { exactlyOneOf } from '../credentials/credential-auth';
import { NotFoundError, UpstreamAuthFailedError } from '../errors/app-error';
import type { GoogleAccessTokens, GoogleIdentity } from '../google/google-access-tokens';
import { requireUuid } from '../ids/uuid';
import type { Logger } from '../logging/logger';
import type { ProviderRepository } from '../providers/provider.repository';
import type { OpenedSecret, SecretStore } from '../secrets/secret-store';
import { describeTokenFailure } from '../validation/google-vertex-validator';
import type { AwsSession, AwsSessionMinter } from './aws-session-minter';
import { MintedCredentialCache, mintedKey } from './minted-credential-cache';

export interface UpstreamAuthRequest {
  providerId?: string | null;
  credentialId?: string | null;
}

export interface GoogleToken {
  accessToken: string;
  expiresAt: Date;
}

/** How the gateway authenticates: exactly one of these. */
export type UpstreamMaterial =
  | { kind: 'headers'; headers: Record<string, string> }
  | { kind: 'aws'; aws: AwsSession }
  | { kind: 'google'; google: GoogleToken }
  | { kind: 'oauthPassthrough' };

export interface UpstreamAuth {
  providerId: string | null;
  credentialId: string | null;
  modelProvider: ModelProvider;
  authType: AuthType;
  baseUrl: string | null;
  settings: Record<string, unknown>;
  secretVersion: number | null;
  /** When the material stops working; null for static keys (and passthrough). */
  expiresAt: Date | null;
  material: UpstreamMaterial;
}

export interface UpstreamAuthServiceDependencies {
  credentials: Pick<CredentialRepository, 'findById' | 'touchLastUsed'>;
  providers: Pick<ProviderRepository, 'findById'>;
  secrets: Pick<SecretStore, 'open'>;
  aws: Pick<AwsSessionMinter, 'assumeRole' | 'sessionToken'>;
  google: Pick<GoogleAccessTokens, 'accessToken'>;
  audit: Logger;
  /** AWS_REGION: the region of STS calls for a credential without settings.region. */
  awsRegion: string;
  /** How long a Google access token is trusted when its issuer does not say. */
  googleTokenFallbackSeconds?: number;
  now?: () => number;
}

/** lastUsedAt and the audit line are written at most this often per credential. */
const USAGE_WRITE_INTERVAL_MS = 60_000;

export class UpstreamAuthService {
  private readonly aws = new MintedCredentialCache<AwsSession>();
  private readonly google = new MintedCredentialCache<GoogleToken>();
  /** Per credential: when usage was last written, and resolves counted since. */
  private readonly usage = new Map<string, { writtenAt: number; resolves: number }>();
  private readonly now: () => number;

  constructor(private readonly dependencies: UpstreamAuthServiceDependencies) {
    this.now = dependencies.now ?? Date.now;
  }

  async resolve(principal: Principal, request: UpstreamAuthRequest): Promise<UpstreamAuth> {
    requireRuntime(principal);
    const member = exactlyOneOf(
      request,
      ['providerId', 'credentialId'],
      'input',
      (count) => `Give exactly one of provider_id or credential_id; got ${count}.`,
    );
    let credentialId: string;
    let providerId: string | null = null;
    let providerSettings: Record<string, unknown> | null = null;
    if (member === 'providerId') {
      providerId = request.providerId ?? '';
      requireUuid('input.providerId', providerId);
      const provider = await this.dependencies.providers.findById(principal.orgId, providerId);
      if (!provider) throw new NotFoundError('Provider', providerId);
      providerSettings = provider.settings;
      if (!provider.credentialId) {
        const baseUrl = defaultBaseUrl(provider.modelProvider, provider.settings);
        return {
          providerId: provider.id,
          credentialId: null,
          modelProvider: provider.modelProvider,
          authType: 'OAUTH_PASSTHROUGH',
          baseUrl: 'url' in baseUrl ? baseUrl.url : null,
          settings: provider.settings,
          secretVersion: null,
          expiresAt: null,
          material: { kind: 'oauthPassthrough' },
        };
      }
      credentialId = provider.credentialId;
    } else {
      credentialId = request.credentialId ?? '';
      requireUuid('input.credentialId', credentialId);
    }

    const credential = await this.dependencies.credentials.findById(principal.orgId, credentialId);
    if (!credential) throw new NotFoundError('Credential', credentialId);
    const { material, expiresAt, secretVersion } = await this.materialFor(principal, credential);
    this.recordUse(principal, credential);
    return {
      providerId,
      credentialId: credential.id,
      modelProvider: credential.modelProvider,
      authType: credential.authType,
      baseUrl: credential.baseUrl,
      settings: { ...credential.settings, ...providerSettings },
      secretVersion,
      expiresAt,
      material,
    };
  }

  private async materialFor(
    principal: Principal,
    credential: Credential,
  ): Promise<{ material: UpstreamMaterial; expiresAt: Date | null; secretVersion: number }> {
    const cacheKey = mintedKey(credential.id, credential.secretVersion);
    switch (credential.authType) {
      case 'AWS_ROLE':
      case 'AWS_KEYS': {
        const region = regionOf(credential, this.dependencies.awsRegion);
        const minted = await this.aws.get(cacheKey, async () => {
          const secret = await this.open(principal, credential);
          if (secret.authType === 'AWS_ROLE')
            return this.dependencies.aws.assumeRole(secret.payload, { organizationId: principal.orgId, region });
          if (secret.authType === 'AWS_KEYS') {
            const session = await this.dependencies.aws.sessionToken(secret.payload, region);
            // A stored temporary key pair has no expiry the vault knows: it is not cached past a minute.
            return { value: session.value, expiresAt: session.expiresAt ?? new Date(this.now() + 60_000) };
          }
          throw changedUnderfoot(credential);
        });
        // Session credentials work in every region: the region is the credential's as it is now.
        return {
          material: { kind: 'aws', aws: { ...minted.value, region } },
          expiresAt: minted.expiresAt,
          secretVersion: credential.secretVersion,
        };
      }
      case 'GOOGLE_ADC':
      case 'GOOGLE_SERVICE_ACCOUNT':
      case 'GOOGLE_IMPERSONATION': {
        const minted = await this.google.get(cacheKey, async () => this.googleToken(principal, credential));
        return { material: { kind: 'google', google: minted.value }, expiresAt: minted.expiresAt, secretVersion: credential.secretVersion };
      }
      case 'API_KEY':
      case 'BEDROCK_API_KEY': {
        const secret = await this.open(principal, credential);
        if (secret.authType !== 'API_KEY' && secret.authType !== 'BEDROCK_API_KEY') throw changedUnderfoot(credential);
        return {
          material: { kind: 'headers', headers: apiKeyHeaders(credential.modelProvider, secret.payload.apiKey) },
          expiresAt: null,
          secretVersion: secret.secretVersion,
        };
      }
      case 'OAUTH_PASSTHROUGH':
        throw changedUnderfoot(credential);
    }
  }

  private async googleToken(principal: Principal, credential: Credential): Promise<{ value: GoogleToken; expiresAt: Date }> {
    let identity: GoogleIdentity;
    if (credential.authType === 'GOOGLE_ADC') {
      identity = { type: 'GOOGLE_ADC', quotaProjectId: credential.authParameters.quotaProjectId ?? null };
    } else {
      const secret = await this.open(principal, credential);
      if (secret.authType === 'GOOGLE_SERVICE_ACCOUNT') identity = { type: 'GOOGLE_SERVICE_ACCOUNT', ...secret.payload };
      else if (secret.authType === 'GOOGLE_IMPERSONATION') identity = { type: 'GOOGLE_IMPERSONATION', ...secret.payload };
      else throw changedUnderfoot(credential);
    }
    try {
      const { token, expiresAt } = await this.dependencies.google.accessToken(identity);
      const expiry = expiresAt ?? new Date(this.now() + (this.dependencies.googleTokenFallbackSeconds ?? 300) * 1000);
      return { value: { accessToken: token, expiresAt: expiry }, expiresAt: expiry };
    } catch (error) {
      // The impersonation target is sealed and never shown by the admin doors: the error does not name it either.
      const described: GoogleIdentity =
        identity.type === 'GOOGLE_IMPERSONATION' ? { ...identity, targetPrincipal: 'the target service account' } : identity;
      throw new UpstreamAuthFailedError(googleCheck(identity), describeTokenFailure(described, error));
    }
  }

  private async open(principal: Principal, credential: Credential): Promise<OpenedSecret> {
    const secret = await this.dependencies.secrets.open(principal.orgId, credential.id);
    // Deleted between the read and the open.
    if (!secret) throw new NotFoundError('Credential', credential.id);
    return secret;
  }

  /** Counts the resolve; writes lastUsedAt and one audit line per credential per minute at most. */
  private recordUse(principal: Principal, credential: Credential): void {
    const now = this.now();
    const usage = this.usage.get(credential.id) ?? { writtenAt: 0, resolves: 0 };
    usage.resolves += 1;
    this.usage.set(credential.id, usage);
    if (now - usage.writtenAt < USAGE_WRITE_INTERVAL_MS) return;
    const resolves = usage.resolves;
    usage.writtenAt = now;
    usage.resolves = 0;
    this.dependencies.audit.info(
      { event: 'credential.resolved', orgId: principal.orgId, actor: principal.userId, credentialId: credential.id, resolves },
      'credential resolved',
    );
    // Off the request path: a failed bookkeeping write must not fail the gateway's call.
    this.dependencies.credentials.touchLastUsed(principal.orgId, credential.id, new Date(now)).catch((error: unknown) => {
      this.dependencies.audit.warn(
        { event: 'last_used_write_failed', credentialId: credential.id, error: error instanceof Error ? error.name : 'unknown' },
        'could not record lastUsedAt',
      );
    });
  }
}

function regionOf(credential: Credential, fallback: string): string {
  const region = credential.settings.region;
  return typeof region === 'string' && AWS_REGION.pattern.test(region) ? region : fallback;
}

function googleCheck(identity: GoogleIdentity): string {
  switch (identity.type) {
    case 'GOOGLE_SERVICE_ACCOUNT':
      return 'oauth2:jwt-bearer';
    case 'GOOGLE_IMPERSONATION':
      return 'iamcredentials:generateAccessToken';
    case 'GOOGLE_ADC':
      return 'adc:token';
  }
}

/** The stored secret is of another auth type than the row said a moment ago: a concurrent rotation. */
function changedUnderfoot(credential: Credential): UpstreamAuthFailedError {
  return new UpstreamAuthFailedError('vault', `the credential ${credential.id} changed while it was being resolved; retry`);
}
