// Applies the SQL migrations in prisma/migrations at start-up, recording them in
// `_prisma_migrations` exactly as `prisma migrate deploy` would, so the real CLI agrees with us
// wherever it can run. An advisory lock serializes instances that start together.
import { createHash, randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { SqlSession } from './sql-session';

/** Arbitrary but fixed: every instance of the vault takes the same lock. */
const MIGRATION_LOCK_KEY = 72_707_369_133;

const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export class MigrationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MigrationError';
  }
}

export async function readMigrations(migrationsDir: string): Promise<Migration[]> {
  const entries = await fs.readdir(migrationsDir, { withFileTypes: true });
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await fs.readFile(path.join(migrationsDir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    }),
  );
}

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

/**
 * Applies every migration not yet recorded, each in its own transaction. Returns the names applied.
 * Throws when a recorded migration's file changed or a migration is recorded as failed.
 */
export async function migrate(session: SqlSession, migrations: Migration[]): Promise<string[]> {
  await session.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
  try {
    // CREATE TABLE IF NOT EXISTS takes a catalog lock and costs a start-up on the embedded database
    // ~0.1 s even when the table is there, which is every start but the first.
    const [table] = await session.query<{ present: boolean }>(`SELECT to_regclass('"_prisma_migrations"') IS NOT NULL AS present`);
    if (!table?.present) await session.execute(CREATE_MIGRATIONS_TABLE);
    const applied = await session.query<AppliedRow>(
      'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL',
    );
    const byName = new Map(applied.map((row) => [row.migration_name, row]));
    for (const row of applied) {
      if (row.finished_at === null) {
        throw new MigrationError(`migration ${row.migration_name} is recorded as failed; resolve it before starting`);
      }
    }

    const newlyApplied: string[] = [];
    for (const migration of migrations) {
      const recorded = byName.get(migration.name);
      if (recorded) {
        if (recorded.checksum !== migration.checksum) {
          throw new MigrationError(`migration ${migration.name} was modified after it was applied`);
        }
        continue;
      }
      await applyOne(session, migration);
      newlyApplied.push(migration.name);
    }
    return newlyApplied;
  } finally {
    await session.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
  }
}

async function applyOne(session: SqlSession, migration: Migration): Promise<void> {
  await session.execute('BEGIN');
  try {
    await session.execute(migration.sql);
    await session.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
       VALUES ($1, $2, $3, now(), now(), 1)`,
      [randomUUID(), migration.checksum, migration.name],
    );
    await session.execute('COMMIT');
  } catch (error) {
    await session.execute('ROLLBACK');
    throw new MigrationError(`migration ${migration.name} failed and was rolled back`, { cause: error });
  }
}
