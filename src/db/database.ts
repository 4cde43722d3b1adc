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
}

export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  const migrations = await readMigrations(migrationsDirectory());
  if (options.databaseUrl) {
    const schema = new URL(options.databaseUrl).searchParams.get('schema') ?? undefined;
    const migrationClient = new Client({ connectionString: options.databaseUrl });
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
    const adapter = new PrismaPg(
      { connectionString: options.databaseUrl, ...(schema ? { options: `-c search_path=${quoteIdentifier(schema)}` } : {}) },
      schema ? { schema } : undefined,
    );
    const prisma = createClient(adapter);
    const connectionString = options.databaseUrl;
    return {
      prisma,
      kind: 'postgresql',
      openChangeFeed: (logger) => PostgresChangeFeed.open({ connectionString, logger }),
      close: () => prisma.$disconnect(),
    };
  }

  const directory = path.join(options.dataDir, 'pgdata');
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  const pglite = new PGlite(directory);
  await pglite.waitReady;
  await migrate(pgliteSession(pglite), migrations);
  const prisma = createClient(new PrismaPGlite(pglite));
  return {
    prisma,
    kind: 'embedded',
    openChangeFeed: () => PgliteChangeFeed.open(pglite),
    async close() {
      await prisma.$disconnect();
      await pglite.close();
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
