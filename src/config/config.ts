// Configuration: read once from the environment by loadConfig, validated in one pass so that every
// bad variable is named at once. Nothing else in the service reads process.env.
import path from 'node:path';
import { MIN_JWT_SECRET_LENGTH } from '../auth/token-verifier';
import { GOOGLE_OAUTH_TOKEN_URL } from '../google/google-apis';
import { DATA_KEY_CACHE_DEFAULTS } from '../secrets/data-key-cache';
import { parseKmsEndpoint } from '../secrets/kms-endpoint';

export interface JwtConfig {
  /** HS256 shared secret. */
  secret?: string;
  /** JWKS endpoint for RS256/ES256 keys. */
  jwksUri?: string;
  issuer?: string;
  audience?: string;
}

export interface Config {
  production: boolean;
  port: number;
  host: string;
  /** PostgreSQL URL; undefined means the embedded PGlite database under dataDir. */
  databaseUrl?: string;
  dataDir: string;
  jwt: JwtConfig;
  kmsKeyName?: string;
  kmsApiEndpoint?: string;
  /** Limits of the Cloud KMS key service's cache of unwrapped data keys; false turns it off (unset: the defaults). */
  kmsDataKeyCache?: { maxAgeMs: number; maxUses: number; maxEntries: number } | false;
  aws: { region: string; stsEndpoint?: string; principalArn?: string };
  google: {
    oauthTokenUrl: string;
    iamCredentialsEndpoint?: string;
    vertexApiEndpoint?: string;
    applicationCredentials?: string;
  };
  outboundAllowPrivate: boolean;
  logLevel: string;
  /** The runtime listener (POST /v1/upstream-auth); null when RUNTIME_PORT=off. */
  runtime: { host: string; port: number; jwtAudience?: string } | null;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** A variable set to the empty string counts as unset. */
function read(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function isUrl(value: string, protocols: string[]): boolean {
  try {
    return protocols.includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

export function loadConfig(env: Env, cwd = process.cwd()): Config {
  const problems: string[] = [];
  const production = read(env, 'NODE_ENV') === 'production';

  const portText = read(env, 'PORT') ?? '4000';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) problems.push(`PORT must be a port number (0-65535), got "${portText}"`);

  const databaseUrl = read(env, 'DATABASE_URL');
  if (databaseUrl && !isUrl(databaseUrl, ['postgres:', 'postgresql:'])) {
    problems.push('DATABASE_URL must be a postgres:// or postgresql:// URL');
  }

  const jwtSecret = read(env, 'JWT_SECRET');
  const jwksUri = read(env, 'JWT_JWKS_URI');
  if (jwtSecret && jwtSecret.length < MIN_JWT_SECRET_LENGTH)
    problems.push(`JWT_SECRET must be at least ${MIN_JWT_SECRET_LENGTH} characters`);
  if (jwksUri && !isUrl(jwksUri, ['https:', 'http:'])) problems.push('JWT_JWKS_URI must be an http(s) URL');
  if (jwksUri && production && !isUrl(jwksUri, ['https:'])) problems.push('JWT_JWKS_URI must use https in production');
  if (production && !jwtSecret && !jwksUri) {
    problems.push('JWT_SECRET or JWT_JWKS_URI is required when NODE_ENV=production');
  }

  const kmsKeyName = read(env, 'KMS_KEY_NAME');
  if (kmsKeyName && !/^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+$/.test(kmsKeyName)) {
    problems.push('KMS_KEY_NAME must be projects/P/locations/L/keyRings/R/cryptoKeys/K');
  }
  if (production && !kmsKeyName) {
    problems.push('KMS_KEY_NAME is required when NODE_ENV=production (the local key ring is for development only)');
  }
  const kmsApiEndpoint = read(env, 'KMS_API_ENDPOINT');
  if (kmsApiEndpoint) {
    const endpoint = parseKmsEndpoint(kmsApiEndpoint);
    if (!endpoint) problems.push('KMS_API_ENDPOINT must be host:port or http://host:port');
    if (endpoint?.plaintext && production)
      problems.push('KMS_API_ENDPOINT with http:// (no TLS, no auth) is refused when NODE_ENV=production');
  }

  const cacheText = (read(env, 'KMS_DATA_KEY_CACHE') ?? 'true').toLowerCase();
  if (!['true', 'false', '1', '0'].includes(cacheText)) problems.push('KMS_DATA_KEY_CACHE must be true or false');
  const positiveInteger = (name: string, fallback: number): number => {
    const text = read(env, name);
    if (text === undefined) return fallback;
    if (!/^[1-9]\d*$/.test(text) || !Number.isSafeInteger(Number(text))) {
      problems.push(`${name} must be a positive integer, got "${text}"`);
      return fallback;
    }
    return Number(text);
  };
  const kmsDataKeyCache =
    cacheText === 'false' || cacheText === '0'
      ? (false as const)
      : {
          maxAgeMs: positiveInteger('KMS_DATA_KEY_CACHE_MAX_AGE_MS', DATA_KEY_CACHE_DEFAULTS.maxAgeMs),
          maxUses: positiveInteger('KMS_DATA_KEY_CACHE_MAX_USES', DATA_KEY_CACHE_DEFAULTS.maxUses),
          maxEntries: positiveInteger('KMS_DATA_KEY_CACHE_MAX_ENTRIES', DATA_KEY_CACHE_DEFAULTS.maxEntries),
        };

  const principalArn = read(env, 'AWS_PRINCIPAL_ARN');
  if (
    principalArn &&
    !/^arn:aws[-a-z]*:(iam::\d{12}:(role|user)\/[\w+=,.@\-/]{1,512}|sts::\d{12}:assumed-role\/[\w+=,.@\-/]{1,512})$/.test(principalArn)
  ) {
    problems.push('AWS_PRINCIPAL_ARN must be an IAM role or user ARN (arn:aws:iam::123456789012:role/name)');
  }
  const stsEndpoint = read(env, 'AWS_STS_ENDPOINT');
  if (stsEndpoint && !isUrl(stsEndpoint, ['https:', 'http:'])) problems.push('AWS_STS_ENDPOINT must be an http(s) URL');
  const oauthTokenUrl = read(env, 'GOOGLE_OAUTH_TOKEN_URL') ?? GOOGLE_OAUTH_TOKEN_URL;
  if (!isUrl(oauthTokenUrl, ['https:', 'http:'])) problems.push('GOOGLE_OAUTH_TOKEN_URL must be an http(s) URL');
  const iamCredentialsEndpoint = read(env, 'GOOGLE_IAM_CREDENTIALS_ENDPOINT');
  if (iamCredentialsEndpoint && !isUrl(iamCredentialsEndpoint, ['https:', 'http:'])) {
    problems.push('GOOGLE_IAM_CREDENTIALS_ENDPOINT must be an http(s) URL');
  }
  const vertexApiEndpoint = read(env, 'VERTEX_API_ENDPOINT');
  if (vertexApiEndpoint && !isUrl(vertexApiEndpoint, ['https:', 'http:'])) problems.push('VERTEX_API_ENDPOINT must be an http(s) URL');

  const allowPrivateText = (read(env, 'OUTBOUND_ALLOW_PRIVATE') ?? 'false').toLowerCase();
  if (!['true', 'false', '1', '0'].includes(allowPrivateText)) problems.push('OUTBOUND_ALLOW_PRIVATE must be true or false');
  const outboundAllowPrivate = allowPrivateText === 'true' || allowPrivateText === '1';
  if (outboundAllowPrivate && production) problems.push('OUTBOUND_ALLOW_PRIVATE=true is refused when NODE_ENV=production');

  const runtimePortText = (read(env, 'RUNTIME_PORT') ?? '4001').toLowerCase();
  const runtimePort = Number(runtimePortText);
  if (runtimePortText !== 'off' && (!/^\d+$/.test(runtimePortText) || runtimePort > 65535)) {
    problems.push(`RUNTIME_PORT must be a port number (0-65535) or off, got "${runtimePortText}"`);
  }

  if (problems.length > 0) throw new ConfigError(problems);

  return {
    production,
    port,
    host: read(env, 'HOST') ?? '127.0.0.1',
    databaseUrl,
    dataDir: path.resolve(cwd, read(env, 'DATA_DIR') ?? '.data'),
    jwt: { secret: jwtSecret, jwksUri, issuer: read(env, 'JWT_ISSUER'), audience: read(env, 'JWT_AUDIENCE') },
    kmsKeyName,
    kmsApiEndpoint,
    kmsDataKeyCache,
    aws: { region: read(env, 'AWS_REGION') ?? 'us-east-1', stsEndpoint, principalArn },
    google: {
      oauthTokenUrl,
      iamCredentialsEndpoint,
      vertexApiEndpoint,
      applicationCredentials: read(env, 'GOOGLE_APPLICATION_CREDENTIALS'),
    },
    outboundAllowPrivate,
    logLevel: read(env, 'LOG_LEVEL') ?? 'info',
    runtime:
      runtimePortText === 'off'
        ? null
        : { host: read(env, 'RUNTIME_HOST') ?? '127.0.0.1', port: runtimePort, jwtAudience: read(env, 'RUNTIME_JWT_AUDIENCE') },
  };
}
