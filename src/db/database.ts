// Opens the vault's database: PostgreSQL through @prisma/adapter-pg when a URL is configured,
// otherwise an embedded PostgreSQL (PGlite) persisted under DATA_DIR. Both run the same
// migrations before the Prisma client is handed out.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import { Client } from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaClient } from '../generated/prisma/client';
import type { Logger } from '../logging/logger';
import { SEALED_SECRET_COLUMNS } from '../secrets/sealed-columns';
import { type ChangeFeed, PgliteChangeFeed, PostgresChangeFeed } from './change-feed';
import { acquireEmbeddedOwnerLock } from './embedded-owner-lock';
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
  /** Starts hearing of other replicas' (and this one's) credential and provider writes; the caller closes it. */
  openChangeFeed(logger: Logger): Promise<ChangeFeed>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  databaseUrl?: string;
  dataDir: string;
  /** How long PostgreSQL may take (the embedded database runs in this process and needs none). */
  deadlines?: DatabaseDeadlines;
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
      openChangeFeed: (logger) => PostgresChangeFeed.open({ connectionString, logger, connectTimeoutMs: deadlines.connectTimeoutMs }),
      close: () => prisma.$disconnect(),
    };
  }

  const directory = path.join(options.dataDir, 'pgdata');
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  // One process at a time: a second one opening the same files corrupts them.
  const owner = acquireEmbeddedOwnerLock(options.dataDir);
  let pglite: PGlite | undefined;
  try {
    pglite = new PGlite(directory);
    await pglite.waitReady;
    await migrate(pgliteSession(pglite), migrations);
  } catch (error) {
    await pglite?.close().catch(() => undefined);
    owner.release();
    throw error;
  }
  const embedded = pglite;
  const prisma = createClient(new PrismaPGlite(embedded));
  return {
    prisma,
    kind: 'embedded',
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
