// The composition root: builds every part from a validated Config and starts the HTTP server.
// main.ts calls it with the process environment; end-to-end tests call it with their own config.
import type { Config } from './config/config';
import { DEFAULT_DEVELOPMENT_ORG_ID, loadOrCreateDevelopmentSecret } from './auth/development-secret';
import { TokenVerifier } from './auth/token-verifier';
import { CredentialRepository } from './credentials/credential.repository';
import { CredentialService } from './credentials/credential.service';
import type { Services } from './context';
import { AuditLog } from './audit/audit-log';
import { AuditService } from './audit/audit.service';
import { type ChangeFeed, NO_CHANGE_FEED } from './db/change-feed';
import { type DatabaseHandle, openDatabase } from './db/database';
import { IdempotencyKeyRepository } from './idempotency/idempotency-key.repository';
import { IdempotencyKeys } from './idempotency/idempotency-keys';
import { IdempotentCreates } from './idempotency/idempotent-creates';
import { ProviderRepository } from './providers/provider.repository';
import { ProviderService } from './providers/provider.service';
import { createLogger, type Logger } from './logging/logger';
import { watchChangeFeed } from './metrics/metrics';
import { createSchema } from './schema';
import { EnvelopeCipher } from './secrets/envelope';
import type { KeyService } from './secrets/key-service';
import { openKeyService } from './secrets/open-key-service';
import { SecretStore } from './secrets/secret-store';
import { createServer, type RunningServer } from './server';
import { AwsSessionMinter } from './runtime/aws-session-minter';
import { createRuntimeApp, listenRuntime, type RunningRuntimeServer } from './runtime/runtime.server';
import { UpstreamAuthService } from './runtime/upstream-auth.service';
import { GoogleAccessTokens } from './google/google-access-tokens';
import { AwsRoleValidator } from './validation/aws-role-validator';
import { GoogleVertexValidator } from './validation/google-vertex-validator';
import { OutboundClient } from './validation/outbound';
import { ValidationService } from './validation/validation.service';
import type { DestinationStream } from 'pino';

export interface Application extends RunningServer {
  /** The runtime listener's origin (POST /v1/upstream-auth); null when RUNTIME_PORT=off. */
  runtimeUrl: string | null;
  database: DatabaseHandle;
  keyService: KeyService;
  logger: Logger;
}

export interface ApplicationOptions {
  /** Where log lines go; standard output by default. */
  logDestination?: DestinationStream;
}

export async function startApplication(config: Config, options: ApplicationOptions = {}): Promise<Application> {
  const logger = createLogger({ level: config.logLevel, destination: options.logDestination });
  const verifierOptions = {
    secret: config.jwt.secret ?? (config.jwt.jwksUri ? undefined : loadOrCreateDevelopmentSecret(config.dataDir)),
    jwksUri: config.jwt.jwksUri,
    issuer: config.jwt.issuer,
    maxTtlSeconds: config.jwt.maxTtlSeconds,
  };
  const verifier = TokenVerifier.create({ ...verifierOptions, audience: config.jwt.audience });
  const keyService = await openKeyService(config);
  let opened: DatabaseHandle | undefined;
  let changes: ChangeFeed | undefined;
  let runtime: RunningRuntimeServer | undefined;
  try {
    // The schema is built (CPU) while the database is opened (mostly waiting on files and the
    // network); both settle before anything goes on, so a failure of one never leaves the other unowned.
    const [databaseOpened, schemaBuilt] = await Promise.allSettled([
      openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, deadlines: config.databaseDeadlines }),
      createSchema(),
    ]);
    if (databaseOpened.status === 'fulfilled') opened = databaseOpened.value;
    const database = settledValue(databaseOpened);
    const schema = settledValue(schemaBuilt);
    const changeFeed = (changes = await database.openChangeFeed(logger));
    const services = createServices(config, database, keyService, logger, changeFeed);
    const server = await createServer({
      schema,
      services,
      verifier,
      logger,
      production: config.production,
      operationLimits: config.operationLimits,
      subgraphSdlPublic: config.subgraphSdlPublic,
      metricsPublic: config.metricsPublic,
      shutdownGraceMs: config.shutdownGraceMs,
      corsOrigins: config.corsOrigins,
      readiness: [
        { name: 'database', check: async () => void (await database.prisma.$queryRaw`SELECT 1`) },
        { name: 'keyService', check: () => keyService.checkReady() },
      ],
    });
    const running = await server.listen(config.port, config.host);
    // The runtime listener: its own address, its own audience (RUNTIME_JWT_AUDIENCE), one route.
    const runtimeVerifier = config.runtime?.jwtAudience
      ? TokenVerifier.create({ ...verifierOptions, audience: config.runtime.jwtAudience })
      : verifier;
    runtime = config.runtime
      ? await listenRuntime(
          createRuntimeApp({ upstreamAuth: services.upstreamAuth, verifier: runtimeVerifier, logger }),
          config.runtime.port,
          config.runtime.host,
          config.shutdownGraceMs,
        )
      : undefined;
    // /metrics reports whether the change feed is live (change_feed_live) until the application stops.
    const unwatchChangeFeed = watchChangeFeed(changeFeed);
    logger.info(
      {
        event: 'started',
        url: running.url,
        runtimeUrl: runtime?.url ?? null,
        database: database.kind,
        ...(database.embeddedCluster ? { embeddedCluster: database.embeddedCluster } : {}),
        keyService: keyService.name,
      },
      'credential vault listening',
    );
    const runtimeListener = runtime;
    // Both listeners stop taking work and drain together; the database and the key service close
    // once no request can need them. A second close() gets the first one's promise.
    const pruning = config.auditRetentionDays === null ? null : pruneAuditDaily(database, config.auditRetentionDays, logger);
    const stop = async () => {
      if (pruning) clearInterval(pruning);
      await Promise.all([runtimeListener?.close(), running.close()]);
      services.upstreamAuth.close();
      unwatchChangeFeed();
      await changeFeed.close();
      await database.close();
      await keyService.close?.();
    };
    let closing: Promise<void> | undefined;
    return {
      ...running,
      runtimeUrl: runtimeListener?.url ?? null,
      database,
      keyService,
      logger,
      close: () => (closing ??= stop()),
    };
  } catch (error) {
    await runtime?.close();
    await changes?.close();
    await opened?.close();
    await keyService.close?.();
    throw error;
  }
}

function settledValue<T>(result: PromiseSettledResult<T>): T {
  if (result.status === 'rejected') throw result.reason;
  return result.value;
}

/**
 * The services over a database and a key service, wired as the running application has them.
 * Without a change feed nothing is kept in memory between requests.
 */
export function createServices(
  config: Config,
  database: DatabaseHandle,
  keyService: KeyService,
  logger: Logger,
  changes: ChangeFeed = NO_CHANGE_FEED,
): Services {
  const secrets = new SecretStore(database.prisma, new EnvelopeCipher(keyService));
  const auditLog = new AuditLog(database.prisma);
  const audit = logger.child({ component: 'audit' });
  const googleTokenUrl = config.google.oauthTokenUrl;
  const credentialRepository = new CredentialRepository(database.prisma, changes);
  const credentials = new CredentialService({
    repository: credentialRepository,
    secrets,
    audit,
    googleTokenUrl,
    awsPrincipalArn: config.aws.principalArn,
    baseUrlAllowPrivate: config.baseUrlAllowPrivate,
  });
  const providerRepository = new ProviderRepository(database.prisma, changes);
  const providers = new ProviderService({ providers: providerRepository, credentials: credentialRepository, audit });
  const outbound = new OutboundClient({ allowPrivate: config.outboundAllowPrivate });
  const google = {
    outbound,
    tokenUrl: googleTokenUrl,
    iamCredentialsEndpoint: config.google.iamCredentialsEndpoint,
    applicationCredentials: config.google.applicationCredentials,
  };
  const validation = new ValidationService({
    credentials: credentialRepository,
    secrets,
    aws: new AwsRoleValidator({ region: config.aws.region, stsEndpoint: config.aws.stsEndpoint }),
    google: new GoogleVertexValidator({ ...google, vertexApiEndpoint: config.google.vertexApiEndpoint }),
    audit,
    auditLog,
    googleTokenUrl,
  });
  const upstreamAuth = new UpstreamAuthService({
    credentials: credentialRepository,
    providers: providerRepository,
    secrets,
    aws: new AwsSessionMinter({ stsEndpoint: config.aws.stsEndpoint }),
    google: new GoogleAccessTokens(google),
    audit,
    awsRegion: config.aws.region,
    changes,
  });
  // Both doors' creates, once per Idempotency-Key (the keys live in PostgreSQL, shared by every replica).
  const idempotentCreates = new IdempotentCreates({
    keys: new IdempotencyKeys({ repository: new IdempotencyKeyRepository(database.prisma), logger }),
    credentials,
    providers,
  });
  return { audit: new AuditService(auditLog), credentials, providers, validation, idempotentCreates, upstreamAuth };
}

/** Removes audit events older than the retention now and every day; the timer does not keep the process alive. */
function pruneAuditDaily(database: DatabaseHandle, retentionDays: number, logger: Logger): NodeJS.Timeout {
  const audit = new AuditLog(database.prisma);
  const prune = () => {
    audit.prune(retentionDays).then(
      (removed) => logger.info({ event: 'audit_pruned', removed, retentionDays }, 'audit events past retention removed'),
      (error: unknown) =>
        logger.warn({ event: 'audit_prune_failed', error: error instanceof Error ? error.message : 'unknown' }, 'audit prune failed'),
    );
  };
  prune();
  const timer = setInterval(prune, 86_400_000);
  timer.unref();
  return timer;
}

/** What to tell a developer who just started the service on embedded defaults. */
export function developmentHints(config: Config, url: string): string[] {
  if (config.production || config.jwt.jwksUri) return [];
  return [
    `GraphQL endpoint and Apollo Sandbox: ${url}`,
    `Get an admin token:  npm run -s token -- --org ${DEFAULT_DEVELOPMENT_ORG_ID} --role admin`,
    'Send it as the header  Authorization: Bearer <token>',
  ];
}
