// The runtime route's use case: what the gateway's data plane needs to authenticate one upstream
// call for a provider (route) or a credential of its organization, and nothing more. API keys
// become the headers the vendor expects; cloud identities become short-lived credentials, minted
// once per credential version and lifetime and shared by concurrent callers. Every resolve is
// counted; lastUsedAt and an audit line are written at most once a minute per credential.
// The rows a resolve reads (the credential with its still-sealed secret, the provider) are kept in
// memory while the change feed is live, so a warm resolve makes no database round trip.
import type { AuditEntry } from '../audit/audit-log';
import { type Principal, requireRuntime } from '../auth/principal';
import { apiKeyHeaders, AWS_REGION, type AuthType, defaultBaseUrl, type ModelProvider } from '../catalog/model-provider-catalog';
import type { Credential } from '../credentials/credential.model';
import type { CredentialRepository } from '../credentials/credential.repository';
import { exactlyOneOf } from '../credentials/credential-auth';
import { type ChangeFeed, NO_CHANGE_FEED } from '../db/change-feed';
import { NotFoundError, UpstreamAuthFailedError } from '../errors/app-error';
import type { GoogleAccessTokens, GoogleIdentity } from '../google/google-access-tokens';
import { requireUuid } from '../ids/uuid';
import type { Logger } from '../logging/logger';
import type { Provider } from '../providers/provider.model';
import type { ProviderRepository } from '../providers/provider.repository';
import type { OpenedSecret, SecretStore, StoredSecret } from '../secrets/secret-store';
import { describeTokenFailure } from '../validation/google-vertex-validator';
import type { AwsSession, AwsSessionMinter } from './aws-session-minter';
import { MintedCredentialCache, mintedKey } from './minted-credential-cache';
import { ROW_CACHE_DEFAULTS, RowCache, type RowCacheOptions } from './row-cache';

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
  secrets: Pick<SecretStore, 'read' | 'openStored'>;
  /** Tells the row caches what changed; without a live feed every resolve reads the database. */
  changes?: Pick<ChangeFeed, 'live' | 'subscribe'>;
  rowCache?: RowCacheOptions;
  aws: Pick<AwsSessionMinter, 'assumeRole' | 'sessionToken'>;
  google: Pick<GoogleAccessTokens, 'accessToken'>;
  audit: Logger;
  /** AWS_REGION: the region of STS calls for a credential without settings.region. */
  awsRegion: string;
  /** How long a Google access token is trusted when its issuer does not say. */
  googleTokenFallbackSeconds?: number;
  now?: () => number;
}

/** A credential as a resolve needs it: its metadata and its secret, still sealed, of the same version. */
interface StoredCredential {
  credential: Credential;
  secret: StoredSecret;
}

/** lastUsedAt and the audit line are written at most this often per credential. */
const USAGE_WRITE_INTERVAL_MS = 60_000;

export class UpstreamAuthService {
  private readonly aws = new MintedCredentialCache<AwsSession>();
  private readonly google = new MintedCredentialCache<GoogleToken>();
  /** Per credential: when usage was last written, and resolves counted since. */
  private readonly usage = new Map<string, { writtenAt: number; resolves: number }>();
  private readonly credentialRows: RowCache<StoredCredential>;
  private readonly providerRows: RowCache<Provider>;
  private readonly now: () => number;

  constructor(private readonly dependencies: UpstreamAuthServiceDependencies) {
    this.now = dependencies.now ?? Date.now;
    const changes = dependencies.changes ?? NO_CHANGE_FEED;
    const options = { ...(dependencies.rowCache ?? ROW_CACHE_DEFAULTS), now: this.now };
    this.credentialRows = new RowCache('credentials', changes, options);
    this.providerRows = new RowCache('providers', changes, options);
  }

  /** Stops listening for changes and forgets the rows held. */
  close(): void {
    this.credentialRows.close();
    this.providerRows.close();
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
      const id = providerId;
      const provider = await this.providerRows.get(principal.orgId, id, () => this.dependencies.providers.findById(principal.orgId, id));
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

    const id = credentialId;
    const stored = await this.credentialRows.get(principal.orgId, id, () => this.readCredential(principal.orgId, id));
    if (!stored) throw new NotFoundError('Credential', credentialId);
    const { credential } = stored;
    const { material, expiresAt, secretVersion } = await this.materialFor(principal, stored);
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

  /**
   * The credential row and its sealed secret, of one version: two reads, so a rotation between
   * them is seen as a version mismatch and the pair is read again.
   */
  private async readCredential(organizationId: string, id: string): Promise<StoredCredential | null> {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const credential = await this.dependencies.credentials.findById(organizationId, id);
      if (!credential) return null;
      const secret = await this.dependencies.secrets.read(organizationId, id);
      if (!secret) return null;
      if (secret.secretVersion === credential.secretVersion && secret.authType === credential.authType) return { credential, secret };
    }
    throw new UpstreamAuthFailedError('vault', `the credential ${id} kept changing while it was being resolved; retry`);
  }

  private async materialFor(
    principal: Principal,
    stored: StoredCredential,
  ): Promise<{ material: UpstreamMaterial; expiresAt: Date | null; secretVersion: number }> {
    const { credential } = stored;
    const cacheKey = mintedKey(credential.id, credential.secretVersion);
    switch (credential.authType) {
      case 'AWS_ROLE':
      case 'AWS_KEYS': {
        const region = regionOf(credential, this.dependencies.awsRegion);
        const minted = await this.aws.get(cacheKey, async () => {
          const secret = await this.open(principal, stored);
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
        const minted = await this.google.get(cacheKey, async () => this.googleToken(principal, stored));
        return { material: { kind: 'google', google: minted.value }, expiresAt: minted.expiresAt, secretVersion: credential.secretVersion };
      }
      case 'API_KEY':
      case 'BEDROCK_API_KEY': {
        const secret = await this.open(principal, stored);
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

  private async googleToken(principal: Principal, stored: StoredCredential): Promise<{ value: GoogleToken; expiresAt: Date }> {
    const { credential } = stored;
    let identity: GoogleIdentity;
    if (credential.authType === 'GOOGLE_ADC') {
      identity = { type: 'GOOGLE_ADC', quotaProjectId: credential.authParameters.quotaProjectId ?? null };
    } else {
      const secret = await this.open(principal, stored);
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

  private open(principal: Principal, stored: StoredCredential): Promise<OpenedSecret> {
    return this.dependencies.secrets.openStored(principal.orgId, stored.credential.id, stored.secret);
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
    // Off the request path: a failed bookkeeping write must not fail the gateway's call; its count
    // goes into the next write.
    const entry: AuditEntry = {
      organizationId: principal.orgId,
      actor: principal.userId,
      action: 'credential.resolved',
      targetType: 'credential',
      targetId: credential.id,
      details: { resolves },
      secretVersion: credential.secretVersion,
      origin: principal.origin ?? null,
    };
    this.dependencies.credentials.touchLastUsed(principal.orgId, credential.id, new Date(now), entry).catch((error: unknown) => {
      usage.resolves += resolves;
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
