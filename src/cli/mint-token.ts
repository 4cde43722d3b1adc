// `npm run -s token -- [--org <uuid>] [--role admin|viewer ...] [--sub name] [--ttl seconds]`:
// mints an HS256 bearer token for development. The token alone goes to stdout, so that
// `TOKEN=$(npm run -s token)` works; what was minted is described on stderr. Its lifetime never
// exceeds JWT_MAX_TTL, so that the service accepts every token minted here.
import { parseArgs } from 'node:util';
import { DEFAULT_DEVELOPMENT_ORG_ID, loadOrCreateDevelopmentSecret } from '../auth/development-secret';
import { isUuid } from '../ids/uuid';
import { isRole, ROLES, type Role } from '../auth/principal';
import { DEFAULT_DEVELOPMENT_SUBJECT, DEFAULT_DEVELOPMENT_TOKEN_TTL_SECONDS, mintDevelopmentToken } from '../auth/token-minter';
import { isValidSubject, MAX_SUBJECT_LENGTH } from '../auth/token-verifier';
import { type CliIo, EXIT_OK, EXIT_USAGE, loadCliConfig, processIo } from './cli-io';

/** A development token that outlives a month is more likely a mistake than an intent. */
const MAX_TTL_SECONDS = 30 * 24 * 60 * 60;

const USAGE = `Usage: mint-token [--org <uuid>] [--role admin|viewer|runtime]... [--sub <name>] [--ttl <seconds>]
  --org   organization id (default ${DEFAULT_DEVELOPMENT_ORG_ID})
  --role  admin, viewer or runtime; repeat for several (default admin)
  --sub   acting user (default ${DEFAULT_DEVELOPMENT_SUBJECT})
  --ttl   lifetime in seconds, 1-${MAX_TTL_SECONDS} and at most JWT_MAX_TTL
          (default ${DEFAULT_DEVELOPMENT_TOKEN_TTL_SECONDS}, or JWT_MAX_TTL when that is shorter)
Signs with JWT_SECRET, or with the development secret under DATA_DIR when no JWT settings are configured.`;

class UsageError extends Error {}

interface MintArguments {
  orgId: string;
  roles: Role[];
  sub: string;
  /** Undefined: the default, bounded by JWT_MAX_TTL once the configuration is read. */
  ttlSeconds: number | undefined;
}

function parseMintArguments(argv: string[]): MintArguments | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        org: { type: 'string' },
        role: { type: 'string', multiple: true },
        sub: { type: 'string' },
        ttl: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    // parseArgs explains the problem (unknown option, missing value) in its message.
    const message = typeof error === 'object' && error !== null && 'message' in error ? String(error.message) : String(error);
    throw new UsageError(message);
  }
  if (values.help) return 'help';

  const orgId = values.org ?? DEFAULT_DEVELOPMENT_ORG_ID;
  if (!isUuid(orgId)) throw new UsageError(`--org must be a UUID (8-4-4-4-12 hex digits), got "${orgId}".`);

  const roles: Role[] = [];
  for (const role of values.role ?? ['admin']) {
    if (!isRole(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}, got "${role}".`);
    if (!roles.includes(role)) roles.push(role);
  }

  const sub = values.sub ?? DEFAULT_DEVELOPMENT_SUBJECT;
  // The same rule the verifier applies, so that a minted token is always accepted.
  if (!isValidSubject(sub)) {
    throw new UsageError(`--sub must be a non-empty name of at most ${MAX_SUBJECT_LENGTH} characters without control characters.`);
  }

  let ttlSeconds: number | undefined;
  if (values.ttl !== undefined) {
    ttlSeconds = Number(values.ttl);
    if (!/^\d+$/.test(values.ttl) || ttlSeconds < 1 || ttlSeconds > MAX_TTL_SECONDS) {
      throw new UsageError(`--ttl must be a whole number of seconds between 1 and ${MAX_TTL_SECONDS}, got "${values.ttl}".`);
    }
  }

  return { orgId: orgId.toLowerCase(), roles, sub, ttlSeconds };
}

/** Runs the CLI and returns its exit code: 0 on success, 2 for bad arguments or configuration. */
export function main(argv: string[], env: Record<string, string | undefined>, io: CliIo = processIo): number {
  let args: MintArguments | 'help';
  try {
    args = parseMintArguments(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr(`mint-token: ${error.message}\n${USAGE}\n`);
    return EXIT_USAGE;
  }
  if (args === 'help') {
    io.stderr(`${USAGE}\n`);
    return EXIT_OK;
  }

  const config = loadCliConfig('mint-token', env, io);
  if (!config) return EXIT_USAGE;

  const maxTtlSeconds = config.jwt.maxTtlSeconds;
  if (args.ttlSeconds !== undefined && args.ttlSeconds > maxTtlSeconds) {
    io.stderr(
      `mint-token: --ttl must be at most ${maxTtlSeconds} seconds, the longest lifetime the service accepts (JWT_MAX_TTL), ` +
        `got "${args.ttlSeconds}".\n${USAGE}\n`,
    );
    return EXIT_USAGE;
  }
  const ttlSeconds = args.ttlSeconds ?? Math.min(DEFAULT_DEVELOPMENT_TOKEN_TTL_SECONDS, maxTtlSeconds);

  let secret: string;
  let secretSource: string;
  if (config.jwt.secret) {
    secret = config.jwt.secret;
    secretSource = 'JWT_SECRET';
  } else if (config.jwt.jwksUri) {
    io.stderr(
      'mint-token: JWT_JWKS_URI is set, so the service only accepts tokens signed by your identity provider; ' +
        'this tool cannot mint those. Get a token from the identity provider, or set JWT_SECRET to use HS256 tokens.\n',
    );
    return EXIT_USAGE;
  } else if (config.production) {
    // Unreachable while loadConfig refuses production without JWT settings; kept so that a change there
    // can never make this tool mint with a development secret in production.
    io.stderr('mint-token: the development secret is not used when NODE_ENV=production; set JWT_SECRET.\n');
    return EXIT_USAGE;
  } else {
    secret = loadOrCreateDevelopmentSecret(config.dataDir);
    secretSource = `the development secret in ${config.dataDir}`;
  }

  const token = mintDevelopmentToken(secret, {
    orgId: args.orgId,
    roles: args.roles,
    sub: args.sub,
    expiresInSeconds: ttlSeconds,
    issuer: config.jwt.issuer,
    audience: args.roles.includes('runtime') && config.runtime?.jwtAudience ? config.runtime.jwtAudience : config.jwt.audience,
  });
  io.stderr(
    `Minted an HS256 token for org ${args.orgId}, role${args.roles.length > 1 ? 's' : ''} ${args.roles.join(', ')}, ` +
      `sub ${args.sub}, valid for ${ttlSeconds} s, signed with ${secretSource}.\n`,
  );
  io.stdout(`${token}\n`);
  return EXIT_OK;
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2), process.env);
}
