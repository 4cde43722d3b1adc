// The composition root: builds every part from a validated Config and starts the HTTP server.
// main.ts calls it with the process environment; end-to-end tests call it with their own config.
import type { Config } from './config/config';
import { loadOrCreateDevelopmentSecret } from './auth/development-secret';
import { DEFAULT_DEVELOPMENT_ORG_ID } from './auth/token-minter';
import { TokenVerifier } from './auth/token-verifier';
import { CredentialRepository } from './credentials/credential.repository';
import { CredentialService } from './credentials/credential.service';
import type { Services } from './context';
import { type DatabaseHandle, openDatabase } from './db/database';
import { ProviderRepository } from './providers/provider.repository';
import { ProviderService } from './providers/provider.service';
import { createLogger, type Logger } from './logging/logger';
import { createSchema } from './schema';
import { EnvelopeCipher } from './secrets/envelope';
import type { KeyService } from './secrets/key-service';
import { openKeyService } from './secrets/open-key-service';
import { SecretStore } from './secrets/secret-store';
import { createServer, type RunningServer } from './server';
import { AwsRoleValidator } from './validation/aws-role-validator';
import { GoogleVertexValidator } from './validation/google-vertex-validator';
import { OutboundClient } from './validation/outbound';
import { ValidationService } from './validation/validation.service';
import type { DestinationStream } from 'pino';

export interface Application extends RunningServer {
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
  const verifier = TokenVerifier.create({
    secret: config.jwt.secret ?? (config.jwt.jwksUri ? undefined : loadOrCreateDevelopmentSecret(config.dataDir)),
    jwksUri: config.jwt.jwksUri,
    issuer: config.jwt.issuer,
    audience: config.jwt.audience,
  });
  const keyService = await openKeyService(config);
  let opened: DatabaseHandle | undefined;
  try {
    const database = (opened = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir }));
    const services = createServices(config, database, keyService, logger);
    const server = await createServer({
      schema: await createSchema(),
      services,
      verifier,
      logger,
      production: config.production,
      readiness: [
        { name: 'database', check: async () => void (await database.prisma.$queryRaw`SELECT 1`) },
        { name: 'keyService', check: () => keyService.checkReady() },
      ],
    });
    const running = await server.listen(config.port, config.host);
    logger.info({ event: 'started', url: running.url, database: database.kind, keyService: keyService.name }, 'credential vault listening');
    return {
      ...running,
      database,
      keyService,
      logger,
      async close() {
        await running.close();
        await database.close();
        await keyService.close?.();
      },
    };
  } catch (error) {
    await opened?.close();
    await keyService.close?.();
    throw error;
  }
}

/** The services over a database and a key service, wired as the running application has them. */
export function createServices(config: Config, database: DatabaseHandle, keyService: KeyService, logger: Logger): Services {
  const secrets = new SecretStore(database.prisma, new EnvelopeCipher(keyService));
  const audit = logger.child({ component: 'audit' });
  const googleTokenUrl = config.google.oauthTokenUrl;
  const credentialRepository = new CredentialRepository(database.prisma);
  const credentials = new CredentialService({
    repository: credentialRepository,
    secrets,
    audit,
    googleTokenUrl,
    awsPrincipalArn: config.aws.principalArn,
  });
  const providers = new ProviderService({ providers: new ProviderRepository(database.prisma), credentials: credentialRepository, audit });
  const validation = new ValidationService({
    credentials: credentialRepository,
    secrets,
    aws: new AwsRoleValidator({ region: config.aws.region, stsEndpoint: config.aws.stsEndpoint }),
    google: new GoogleVertexValidator({
      outbound: new OutboundClient({ allowPrivate: config.outboundAllowPrivate }),
      tokenUrl: googleTokenUrl,
      iamCredentialsEndpoint: config.google.iamCredentialsEndpoint,
      vertexApiEndpoint: config.google.vertexApiEndpoint,
      applicationCredentials: config.google.applicationCredentials,
    }),
    audit,
    googleTokenUrl,
  });
  return { credentials, providers, validation };
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
