// Opens the vault's database: PostgreSQL through @prisma/adapter-pg when a URL is configured,
// otherwise an embedded PostgreSQL (PGlite) persisted under DATA_DIR. Both run the same
// migrations before the Prisma client is handed out. PGlite and its adapter are optional
// dependencies, loaded only for the embedded database: an install without optional dependencies
// (the Docker image) runs on PostgreSQL alone.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import type { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import { Client } from 'pg';
import type { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaClient } from '../generated/prisma/client';
import type { Logger } from '../logging/logger';
import { SEALED_SECRET_COLUMNS } from '../secrets/sealed-columns';
import { type ChangeFeed, PgliteChangeFeed, PostgresChangeFeed } from './change-feed';
import { acquireEmbeddedOwnerLock } from './embedded-owner-lock';
import {
  defaultEmbeddedTemplateDir,
  embeddedFingerprint,
  embeddedStartParams,
  prepareEmbeddedTemplate,
  seedFromTemplate,
  type TemplateOutcome,
} from './embedded-template';
import { DATABASE_DEADLINE_DEFAULTS, type DatabaseDeadlines, openDeadlinePool } from './database-deadlines';
import { migrate, readMigrations } from './migrate';
import { migrationsDirectory } from './project-paths';
import { pgliteSession, pgSession } from './sql-session';

/** Every ordinary read leaves the sealed columns out; only the secret store selects them. */
const OMIT = { credential: SEALED_SECRET_COLUMNS } as const;

export type Database = PrismaClient<'query', typeof OMIT>;

export interface DatabaseHandle {
  prisma: Database;
  /** `postgresql` or `embedded` (PGlite). */
  kind: 'postgresql' | 'embedded';
  /**
   * Embedded only: how its cluster came to be on this start: copied from the prepared template, created
   * here (initdb, the slow way), or already there. Null on PostgreSQL.
   */
  embeddedCluster: 'template' | 'created' | 'existing' | null;
  /** Starts hearing of other replicas' (and this one's) credential and provider writes; the caller closes it. */
  openChangeFeed(logger: Logger): Promise<ChangeFeed>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  databaseUrl?: string;
  dataDir: string;
  /** How long PostgreSQL may take (the embedded database runs in this process and needs none). */
  deadlines?: DatabaseDeadlines;
  /**
   * Embedded only: the prepared cluster a first start copies (src/db/embedded-template.ts); null to
   * always create one. Default: dist/embedded-template, written by `npm run embedded:prepare`.
   */
  embeddedTemplateDir?: string | null;
}

export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  const migrations = await readMigrations(migrationsDirectory());
  if (options.databaseUrl) {
    const schema = new URL(options.databaseUrl).searchParams.get('schema') ?? undefined;
    const deadlines = options.deadlines ?? DATABASE_DEADLINE_DEFAULTS;
    // Migrations get the connect deadline only: a migration may rightly run long, and waiting for
    // another instance's advisory lock is part of the job.
    const migrationClient = new Client({ connectionString: options.databaseUrl, connectionTimeoutMillis: deadlines.connectTimeoutMs });
    await migrationClient.connect();
    try {
      if (schema) {
        // As `prisma migrate deploy` does, a schema named in the URL is created when missing.
        await migrationClient.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`);
        await migrationClient.query(`SET search_path TO ${quoteIdentifier(schema)}`);
      }
      await migrate(pgSession(migrationClient), migrations);
    } finally {
      await migrationClient.end();
    }
    // adapter-pg ignores ?schema= in the URL (prisma#28961), so it is passed explicitly; the
    // search_path makes our few raw statements (row locks) land in the same schema.
    const pool = openDeadlinePool(
      { connectionString: options.databaseUrl, ...(schema ? { options: `-c search_path=${quoteIdentifier(schema)}` } : {}) },
      deadlines,
    );
    const adapter = new PrismaPg(pool, { ...(schema ? { schema } : {}), disposeExternalPool: true });
    const prisma = createClient(adapter);
    const connectionString = options.databaseUrl;
    return {
      prisma,
      kind: 'postgresql',
      embeddedCluster: null,
      openChangeFeed: (logger) => PostgresChangeFeed.open({ connectionString, logger, connectTimeoutMs: deadlines.connectTimeoutMs }),
      close: () => prisma.$disconnect(),
    };
  }

  const embeddedModules = await loadEmbeddedDatabaseModules();
  const directory = path.join(options.dataDir, 'pgdata');
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  // One process at a time: a second one opening the same files corrupts them.
  const owner = acquireEmbeddedOwnerLock(options.dataDir);
  let pglite: PGlite | undefined;
  let cluster: 'template' | 'created' | 'existing';
  try {
    const templateDir = options.embeddedTemplateDir === undefined ? defaultEmbeddedTemplateDir() : options.embeddedTemplateDir;
    if (existsSync(path.join(directory, 'PG_VERSION'))) cluster = 'existing';
    else if (templateDir !== null && seedFromTemplate(templateDir, embeddedFingerprint(embeddedModules.PGlite, migrations), directory)) {
      cluster = 'template';
    } else cluster = 'created';
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    const restoreTiering = compileWasmWithBaselineOnly();
    try {
      pglite = new embeddedModules.PGlite(directory, { startParams: embeddedStartParams(embeddedModules.PGlite) });
      await pglite.waitReady;
    } finally {
      restoreTiering();
    }
    await migrate(pgliteSession(pglite), migrations);
  } catch (error) {
    await pglite?.close().catch(() => undefined);
    owner.release();
    throw error;
  }
  const embedded = pglite;
  const prisma = createClient(new embeddedModules.PrismaPGlite(embedded));
  return {
    prisma,
    kind: 'embedded',
    embeddedCluster: cluster,
    openChangeFeed: () => PgliteChangeFeed.open(embedded),
    async close() {
      try {
        await prisma.$disconnect();
        await embedded.close();
      } finally {
        owner.release();
      }
    },
  };
}

/**
 * Builds the embedded database's template (see embedded-template.ts) unless a matching one is there;
 * 'unavailable' when PGlite is not installed (then there is no embedded database to prepare for).
 */
export async function prepareEmbeddedDatabaseTemplate(
  templateDir: string = defaultEmbeddedTemplateDir(),
): Promise<TemplateOutcome | 'unavailable'> {
  let modules;
  try {
    modules = await loadEmbeddedDatabaseModules();
  } catch {
    return 'unavailable';
  }
  return prepareEmbeddedTemplate(modules.PGlite, await readMigrations(migrationsDirectory()), templateDir);
}

const BASELINE_ONLY_FLAG = '--liftoff-only';

/**
 * PostgreSQL compiled to WebAssembly is large, and V8's default dynamic tiering recompiles its hot
 * functions with the optimising compiler during the first queries: measured here, that doubled
 * the embedded database's start-up CPU, stalled the event loop for ~0.25 s after it was ready, and
 * held ~50 MB more, for no gain in steady-state query time. Its module is compiled with the baseline
 * compiler (Liftoff) only; the flag is read when a module is compiled, so it is set around PGlite's
 * start and restored at once, and every other module (Prisma's query compiler) tiers up as usual.
 * Returns the function that restores the flag; nothing is changed when the flag was set at launch.
 */
function compileWasmWithBaselineOnly(): () => void {
  const launchedWith = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].includes(BASELINE_ONLY_FLAG);
  if (launchedWith) return () => undefined;
  v8.setFlagsFromString(BASELINE_ONLY_FLAG);
  return () => v8.setFlagsFromString('--no-liftoff-only');
}

const EMBEDDED_DATABASE_PACKAGES = ['@electric-sql/pglite', 'pglite-prisma-adapter'];

/** PGlite and its Prisma adapter, or an error that says how to do without them when they are not installed. */
async function loadEmbeddedDatabaseModules(): Promise<{ PGlite: typeof PGlite; PrismaPGlite: typeof PrismaPGlite }> {
  try {
    const [pglite, adapter] = await Promise.all([import('@electric-sql/pglite'), import('pglite-prisma-adapter')]);
    return { PGlite: pglite.PGlite, PrismaPGlite: adapter.PrismaPGlite };
  } catch (error) {
    const missing = EMBEDDED_DATABASE_PACKAGES.find((name) => isModuleNotFound(error, name));
    if (!missing) throw error;
    throw new Error(
      `the embedded database needs ${missing}, an optional dependency this installation left out ` +
        '(the Docker image installs without optional dependencies): set DATABASE_URL to a PostgreSQL database',
      { cause: error },
    );
  }
}

function isModuleNotFound(error: unknown, name: string): boolean {
  if (!(error instanceof Error) || (error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') return false;
  return error.message.includes(`'${name}'`);
}

function createClient(adapter: PrismaPg | PrismaPGlite): Database {
  return new PrismaClient({
    adapter,
    omit: OMIT,
    // Query events feed the statement-count tests; nothing logs them by default.
    log: [{ emit: 'event', level: 'query' }] as const,
  });
}

function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
