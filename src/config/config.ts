// Configuration: read once from the environment by loadConfig, validated in one pass so that every
// bad variable is named at once. Nothing else in the service reads process.env.
import path from 'node:path';
import { DEFAULT_JWT_MAX_TTL_SECONDS, MIN_JWT_SECRET_LENGTH } from '../auth/token-verifier';
import { DATABASE_DEADLINE_DEFAULTS, type DatabaseDeadlines, MAX_DEADLINE_MS, QUERY_TIMEOUT_MARGIN_MS } from '../db/database-deadlines';
import { GOOGLE_OAUTH_TOKEN_URL } from '../google/google-apis';
import { DATA_KEY_CACHE_DEFAULTS } from '../secrets/data-key-cache';
import { KMS_CALL_TIMEOUT_DEFAULT_MS } from '../secrets/kms-endpoint';
import { parseKmsEndpoint } from '../secrets/kms-endpoint';
import { parseCorsOrigins } from '../cors/cors-origins';
import { OPERATION_LIMIT_DEFAULTS, type OperationLimits } from '../request-guards/operation-limits';
import { otlpTracesUrl } from '../tracing/otlp-endpoint';
import { parseDurationSeconds } from './duration';

export interface JwtConfig {
  /** HS256 shared secret. */
  secret?: string;
  /** JWKS endpoint for RS256/ES256 keys. */
  jwksUri?: string;
  issuer?: string;
  audience?: string;
  /** JWT_MAX_TTL: the longest token lifetime accepted, in seconds. */
  maxTtlSeconds: number;
}

export interface Config {
  production: boolean;
  /** SHUTDOWN_GRACE_MS: how long a stop lets requests in flight finish before it closes their connections. */
  shutdownGraceMs: number;
  /** AUDIT_RETENTION_DAYS: audit events older than this are pruned daily; null keeps them forever. */
  auditRetentionDays: number | null;
  port: number;
  host: string;
  /** PostgreSQL URL; undefined means the embedded PGlite database under dataDir. */
  databaseUrl?: string;
  dataDir: string;
  /** DATABASE_*_TIMEOUT_MS: how long PostgreSQL may take to connect and to answer (src/db/database-deadlines.ts). */
  databaseDeadlines: DatabaseDeadlines;
  jwt: JwtConfig;
  kmsKeyName?: string;
  kmsApiEndpoint?: string;
  /** KMS_TIMEOUT_MS: the deadline of every Cloud KMS call, in milliseconds. */
  kmsTimeoutMs: number;
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
  /** BASE_URL_ALLOW_PRIVATE: credentials' base URLs may use http and point at loopback, private or link-local hosts. */
  baseUrlAllowPrivate: boolean;
  logLevel: string;
  /** The runtime listener (POST /v1/upstream-auth); null when RUNTIME_PORT=off. */
  runtime: { host: string; port: number; jwtAudience?: string } | null;
  /** GRAPHQL_MAX_*: what every GraphQL operation is held to before it runs. */
  operationLimits: OperationLimits;
  /** SUBGRAPH_SDL_PUBLIC: in production, `_service { sdl }` answers without a token. */
  subgraphSdlPublic: boolean;
  /** METRICS_PUBLIC: in production, GET /metrics answers without an admin token. */
  metricsPublic: boolean;
  /** OTEL_EXPORTER_OTLP_ENDPOINT: where spans are exported over OTLP/HTTP; unset means no tracing at all (src/tracing/tracing.ts). */
  otlpEndpoint?: string;
  /** CORS_ORIGINS: the exact origins whose pages may call /graphql, the REST door and /openapi.json; empty means CORS is off. */
  corsOrigins: string[];
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
  const allowEmbeddedText = (read(env, 'ALLOW_EMBEDDED_DATABASE') ?? 'false').toLowerCase();
  if (!['true', 'false', '1', '0'].includes(allowEmbeddedText)) problems.push('ALLOW_EMBEDDED_DATABASE must be true or false');
  if (production && !databaseUrl && allowEmbeddedText !== 'true' && allowEmbeddedText !== '1') {
    problems.push(
      'DATABASE_URL is required when NODE_ENV=production: the embedded database lives on local disk, which a container loses ' +
        '(set ALLOW_EMBEDDED_DATABASE=true to run on it anyway)',
    );
  }

  const jwtSecret = read(env, 'JWT_SECRET');
  const jwksUri = read(env, 'JWT_JWKS_URI');
  if (jwtSecret && jwtSecret.length < MIN_JWT_SECRET_LENGTH)
    problems.push(`JWT_SECRET must be at least ${MIN_JWT_SECRET_LENGTH} characters`);
  if (jwksUri && !isUrl(jwksUri, ['https:', 'http:'])) problems.push('JWT_JWKS_URI must be an http(s) URL');
  if (jwksUri && production && !isUrl(jwksUri, ['https:'])) problems.push('JWT_JWKS_URI must use https in production');
  const maxTtlText = read(env, 'JWT_MAX_TTL');
  const jwtMaxTtlSeconds = maxTtlText === undefined ? DEFAULT_JWT_MAX_TTL_SECONDS : parseDurationSeconds(maxTtlText);
  if (jwtMaxTtlSeconds === undefined) {
    problems.push(`JWT_MAX_TTL must be a positive duration such as 24h, 90m, 3600s or a number of seconds, got "${maxTtlText}"`);
  }
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
  const baseUrlAllowPrivateText = (read(env, 'BASE_URL_ALLOW_PRIVATE') ?? 'false').toLowerCase();
  if (!['true', 'false', '1', '0'].includes(baseUrlAllowPrivateText)) problems.push('BASE_URL_ALLOW_PRIVATE must be true or false');
  const baseUrlAllowPrivate = baseUrlAllowPrivateText === 'true' || baseUrlAllowPrivateText === '1';

  const runtimePortText = (read(env, 'RUNTIME_PORT') ?? '4001').toLowerCase();
  const runtimePort = Number(runtimePortText);
  if (runtimePortText !== 'off' && (!/^\d+$/.test(runtimePortText) || runtimePort > 65535)) {
    problems.push(`RUNTIME_PORT must be a port number (0-65535) or off, got "${runtimePortText}"`);
  }

  const operationLimits: OperationLimits = {
    maxDepth: positiveInteger('GRAPHQL_MAX_DEPTH', OPERATION_LIMIT_DEFAULTS.maxDepth),
    maxAliases: positiveInteger('GRAPHQL_MAX_ALIASES', OPERATION_LIMIT_DEFAULTS.maxAliases),
    maxCost: positiveInteger('GRAPHQL_MAX_COST', OPERATION_LIMIT_DEFAULTS.maxCost),
    maxTokens: positiveInteger('GRAPHQL_MAX_TOKENS', OPERATION_LIMIT_DEFAULTS.maxTokens),
    maxDirectives: positiveInteger('GRAPHQL_MAX_DIRECTIVES', OPERATION_LIMIT_DEFAULTS.maxDirectives),
    maxValidationMutations: positiveInteger('GRAPHQL_MAX_VALIDATION_MUTATIONS', OPERATION_LIMIT_DEFAULTS.maxValidationMutations),
  };
  const shutdownGraceMs = positiveInteger('SHUTDOWN_GRACE_MS', 10_000);
  const auditRetentionDays = read(env, 'AUDIT_RETENTION_DAYS') === undefined ? null : positiveInteger('AUDIT_RETENTION_DAYS', 1);
  const sdlPublicText = (read(env, 'SUBGRAPH_SDL_PUBLIC') ?? 'false').toLowerCase();
  if (!['true', 'false', '1', '0'].includes(sdlPublicText)) problems.push('SUBGRAPH_SDL_PUBLIC must be true or false');

  /** A deadline: a positive number of milliseconds that Node's timers and PostgreSQL both take. */
  const milliseconds = (name: string, fallback: number): number => {
    const value = positiveInteger(name, fallback);
    if (value <= MAX_DEADLINE_MS) return value;
    problems.push(`${name} must be at most ${MAX_DEADLINE_MS} milliseconds, got "${value}"`);
    return fallback;
  };
  const statementTimeoutMs = milliseconds('DATABASE_STATEMENT_TIMEOUT_MS', DATABASE_DEADLINE_DEFAULTS.statementTimeoutMs);
  const databaseDeadlines: DatabaseDeadlines = {
    connectTimeoutMs: milliseconds('DATABASE_CONNECT_TIMEOUT_MS', DATABASE_DEADLINE_DEFAULTS.connectTimeoutMs),
    statementTimeoutMs,
    idleInTransactionTimeoutMs: milliseconds('DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS', statementTimeoutMs),
    queryTimeoutMs: milliseconds('DATABASE_QUERY_TIMEOUT_MS', Math.min(statementTimeoutMs + QUERY_TIMEOUT_MARGIN_MS, MAX_DEADLINE_MS)),
  };
  const kmsTimeoutMs = milliseconds('KMS_TIMEOUT_MS', KMS_CALL_TIMEOUT_DEFAULT_MS);
  const metricsPublicText = (read(env, 'METRICS_PUBLIC') ?? 'false').toLowerCase();
  if (!['true', 'false', '1', '0'].includes(metricsPublicText)) problems.push('METRICS_PUBLIC must be true or false');
  const otlpEndpoint = read(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  if (otlpEndpoint && !otlpTracesUrl(otlpEndpoint)) {
    problems.push('OTEL_EXPORTER_OTLP_ENDPOINT must be the http(s) URL of an OTLP/HTTP receiver, such as http://collector:4318');
  }
  const cors = parseCorsOrigins(read(env, 'CORS_ORIGINS'));
  problems.push(...cors.problems);
  if (databaseDeadlines.queryTimeoutMs <= statementTimeoutMs) {
    problems.push(
      `DATABASE_QUERY_TIMEOUT_MS (${databaseDeadlines.queryTimeoutMs}) must be greater than DATABASE_STATEMENT_TIMEOUT_MS ` +
        `(${statementTimeoutMs}), so that a live server's own timeout answers first`,
    );
  }

  if (problems.length > 0) throw new ConfigError(problems);

  return {
    production,
    port,
    host: read(env, 'HOST') ?? '127.0.0.1',
    databaseUrl,
    dataDir: path.resolve(cwd, read(env, 'DATA_DIR') ?? '.data'),
    databaseDeadlines,
    jwt: {
      secret: jwtSecret,
      jwksUri,
      issuer: read(env, 'JWT_ISSUER'),
      audience: read(env, 'JWT_AUDIENCE'),
      maxTtlSeconds: jwtMaxTtlSeconds ?? DEFAULT_JWT_MAX_TTL_SECONDS,
    },
    kmsKeyName,
    kmsApiEndpoint,
    kmsTimeoutMs,
    kmsDataKeyCache,
    aws: { region: read(env, 'AWS_REGION') ?? 'us-east-1', stsEndpoint, principalArn },
    google: {
      oauthTokenUrl,
      iamCredentialsEndpoint,
      vertexApiEndpoint,
      applicationCredentials: read(env, 'GOOGLE_APPLICATION_CREDENTIALS'),
    },
    outboundAllowPrivate,
    baseUrlAllowPrivate,
    logLevel: read(env, 'LOG_LEVEL') ?? 'info',
    runtime:
      runtimePortText === 'off'
        ? null
        : { host: read(env, 'RUNTIME_HOST') ?? '127.0.0.1', port: runtimePort, jwtAudience: read(env, 'RUNTIME_JWT_AUDIENCE') },
    operationLimits,
    shutdownGraceMs,
    auditRetentionDays,
    subgraphSdlPublic: sdlPublicText === 'true' || sdlPublicText === '1',
    metricsPublic: metricsPublicText === 'true' || metricsPublicText === '1',
    otlpEndpoint,
    corsOrigins: cors.origins,
  };
}
