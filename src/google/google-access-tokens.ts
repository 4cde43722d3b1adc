// Access tokens for a Google identity, obtained the way the gateway uses them: a service-account
// JWT grant, this service's own Application Default Credentials, or ADC impersonating a target
// through IAM Credentials. Every request goes through the outbound client (SSRF-safe, with
// deadlines); the library's own retries are off so a deadline means what it says. The library is
// loaded on the first token asked for: a vault without Google identities never loads it.
import type * as GoogleAuthSdk from 'google-auth-library';
import type { GoogleAuth, Impersonated, JWT, gaxios } from 'google-auth-library';
import { httpStatusOutcome, outboundFailureOutcome } from '../metrics/call-outcomes';
import { timedCloudCall } from '../metrics/metrics';
import type { GoogleAdcAuth, GoogleImpersonationAuth, GoogleServiceAccountAuth } from '../secrets/secret-payload';
import type { OutboundClient } from '../validation/outbound';
import { CLOUD_PLATFORM_SCOPE, GOOGLE_IAM_CREDENTIALS_ENDPOINT, GOOGLE_OAUTH_TOKEN_URL } from './google-apis';

/** A Google identity in the shape the vault seals it, tagged with its auth type. */
export type GoogleIdentity =
  | ({ type: 'GOOGLE_ADC' } & GoogleAdcAuth)
  | ({ type: 'GOOGLE_SERVICE_ACCOUNT' } & GoogleServiceAccountAuth)
  | ({ type: 'GOOGLE_IMPERSONATION' } & GoogleImpersonationAuth);

export interface GoogleAccessTokensOptions {
  outbound: OutboundClient;
  /** GOOGLE_OAUTH_TOKEN_URL. */
  tokenUrl: string;
  iamCredentialsEndpoint?: string;
  /** GOOGLE_APPLICATION_CREDENTIALS: this service's own identity; otherwise the library's default chain. */
  applicationCredentials?: string;
  /** Lifetime asked of IAM Credentials for an impersonated token. */
  impersonationLifetimeSeconds?: number;
}

export interface GoogleAccessToken {
  token: string;
  /** When the token expires, as the issuer said; null when it did not say. */
  expiresAt: Date | null;
}

type GoogleAuthLibrary = typeof GoogleAuthSdk;

export class GoogleAccessTokens {
  private loaded: Promise<{ library: GoogleAuthLibrary; transporter: InstanceType<typeof gaxios.Gaxios> }> | undefined;

  constructor(private readonly options: GoogleAccessTokensOptions) {}

  /** The library and the transporter every one of its clients sends through, made on first use. */
  private load() {
    return (this.loaded ??= import('google-auth-library').then((library) => ({ library, transporter: this.transporterOf(library) })));
  }

  private transporterOf(library: GoogleAuthLibrary): InstanceType<typeof gaxios.Gaxios> {
    const options = this.options;
    const fetch = options.outbound.fetch;
    const transporter = new library.gaxios.Gaxios({
      // Every token request is counted and timed (cloud_calls_total{service="google"}).
      fetchImplementation: (input: string | URL | Request, init?: RequestInit) =>
        timedCloudCall('google', googleOperation(input, options.tokenUrl), () => fetch(input, init), {
          ofResult: (response) => httpStatusOutcome(response.status),
          ofError: outboundFailureOutcome,
        }),
    });
    transporter.interceptors.request.add({
      resolved: async (config) => {
        // google-auth-library ignores token_uri and always posts to Google's own token URL.
        if (String(config.url) === GOOGLE_OAUTH_TOKEN_URL && options.tokenUrl !== GOOGLE_OAUTH_TOKEN_URL) {
          config.url = new URL(options.tokenUrl);
        }
        // One attempt per request: the library's own retries would multiply the outbound deadline.
        config.retry = false;
        config.retryConfig = { retry: 0 };
        return config;
      },
    });
    return transporter;
  }

  async accessToken(identity: GoogleIdentity): Promise<GoogleAccessToken> {
    const { library, transporter } = await this.load();
    let client: JWT | Impersonated | Awaited<ReturnType<GoogleAuth['getClient']>>;
    switch (identity.type) {
      case 'GOOGLE_SERVICE_ACCOUNT':
        client = new library.JWT({
          email: identity.clientEmail,
          key: identity.privateKey,
          keyId: identity.privateKeyId,
          scopes: [CLOUD_PLATFORM_SCOPE],
          transporter,
        });
        break;
      case 'GOOGLE_ADC':
        client = await this.applicationDefaultClient(library, transporter);
        break;
      case 'GOOGLE_IMPERSONATION':
        client = new library.Impersonated({
          sourceClient: await this.applicationDefaultClient(library, transporter),
          targetPrincipal: identity.targetPrincipal,
          delegates: identity.delegates ?? [],
          targetScopes: identity.scopes ?? [CLOUD_PLATFORM_SCOPE],
          lifetime: this.options.impersonationLifetimeSeconds ?? 600,
          endpoint: this.options.iamCredentialsEndpoint ?? GOOGLE_IAM_CREDENTIALS_ENDPOINT,
          transporter,
        });
        break;
    }
    const { token } = await client.getAccessToken();
    if (!token) throw new Error('no access token in the answer');
    const expiry = client.credentials.expiry_date;
    return { token, expiresAt: typeof expiry === 'number' ? new Date(expiry) : null };
  }

  private async applicationDefaultClient(library: GoogleAuthLibrary, transporter: InstanceType<typeof gaxios.Gaxios>) {
    const auth = new library.GoogleAuth({
      ...(this.options.applicationCredentials ? { keyFilename: this.options.applicationCredentials } : {}),
      scopes: [CLOUD_PLATFORM_SCOPE],
      clientOptions: { transporter },
    });
    return auth.getClient();
  }
}

/** Which Google call a token request is, by its URL: a fixed name, never the URL itself. */
function googleOperation(input: string | URL | Request, tokenUrl: string): string {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  if (url === GOOGLE_OAUTH_TOKEN_URL || url === tokenUrl) return 'oauth2:token';
  if (url.endsWith(':generateAccessToken')) return 'iamcredentials:generateAccessToken';
  return 'other';
}
