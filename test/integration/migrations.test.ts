// The migration runner against real PostgreSQL: it applies prisma/migrations and keeps Prisma's
// `_prisma_migrations` bookkeeping the way `prisma migrate deploy` does, refuses edited history,
// rolls a failing migration back whole, and serializes instances that start together.
import { createHash, randomUUID } from 'node:crypto';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { openDatabase } from '../../src/db/database';
import { migrate, MigrationError, readMigrations } from '../../src/db/migrate';
import { migrationsDirectory } from '../../src/db/project-paths';
import { pgSession } from '../../src/db/sql-session';
import { sleep } from '../support/sleep';
import { TempDirs } from '../support/temp-dirs';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

interface MigrationRow {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}

const migrationFolders = readdirSync(migrationsDirectory(), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

// Advisory locks are per database, but pg_locks lists the whole cluster: other test files migrate too.
const IN_THIS_DATABASE = "locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())";
const OUR_ADVISORY_LOCKS = `SELECT 1 FROM pg_locks WHERE ${IN_THIS_DATABASE}`;

const temporaryDirectories = new TempDirs('vault-migrations-');
const openClients: Client[] = [];
const databases: TestDatabase[] = [];

/** A fresh, empty database of this file; dropped after all tests. */
async function freshDatabase(): Promise<TestDatabase> {
  const database = await createTestDatabase('migrations');
  databases.push(database);
  return database;
}

async function connect(database: TestDatabase, options: { searchPath?: string } = {}): Promise<Client> {
  const client = new Client({ connectionString: database.url });
  await client.connect();
  openClients.push(client);
  if (options.searchPath) await client.query(`SET search_path TO ${options.searchPath}`);
  return client;
}

/** A copy of prisma/migrations that a test may edit. */
function copyOfMigrations(): string {
  const directory = temporaryDirectories.make();
  cpSync(migrationsDirectory(), directory, { recursive: true });
  return directory;
}

function addMigration(directory: string, name: string, sql: string): void {
  mkdirSync(path.join(directory, name));
  writeFileSync(path.join(directory, name, 'migration.sql'), sql);
}

async function migrationRows(database: TestDatabase): Promise<MigrationRow[]> {
  return database.query<MigrationRow>('SELECT * FROM "_prisma_migrations" ORDER BY migration_name');
}

async function tableExists(database: TestDatabase, table: string, schema = 'public'): Promise<boolean> {
  const rows = await database.query<{ exists: boolean }>('SELECT to_regclass($1) IS NOT NULL AS exists', [`"${schema}"."${table}"`]);
  return rows[0].exists;
}

afterAll(async () => {
  await Promise.all(openClients.map((client) => client.end().catch(() => undefined)));
  for (const database of databases) await database.drop();
  temporaryDirectories.removeAll();
});

describe('on a fresh database', () => {
  let database: TestDatabase;
  let applied: string[];
  let rows: MigrationRow[];

  beforeAll(async () => {
    database = await freshDatabase();
    const client = await connect(database);
    applied = await migrate(pgSession(client), await readMigrations(migrationsDirectory()));
    rows = await migrationRows(database);
  });

  test('there is at least one migration to apply (so the checks below are not vacuous)', () => {
    expect(migrationFolders.length).toBeGreaterThan(0);
  });

  test('migrate() applies every migration folder, in name order, and returns their names', () => {
    expect(applied).toEqual(migrationFolders);
  });

  test('the migrations really ran: the tables they create exist', async () => {
    expect(await tableExists(database, 'credentials')).toBe(true);
  });

  test('each migration is recorded once under its folder name', () => {
    expect(rows.map((row) => row.migration_name)).toEqual(migrationFolders);
  });

  test('each record carries the sha256 hex of its migration.sql as checksum', () => {
    const expected = migrationFolders.map((name) =>
      createHash('sha256')
        .update(readFileSync(path.join(migrationsDirectory(), name, 'migration.sql')))
        .digest('hex'),
    );
    expect(rows.map((row) => row.checksum)).toEqual(expected);
  });

  test('each record is finished, not rolled back, with one applied step and no logs', () => {
    for (const row of rows) {
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.finished_at!.getTime()).toBeGreaterThanOrEqual(row.started_at.getTime());
      expect(row.rolled_back_at).toBeNull();
      expect(row.applied_steps_count).toBe(1);
      expect(row.logs).toBeNull();
    }
  });

  test('each record has a distinct UUID as id, as Prisma writes it', () => {
    const ids = rows.map((row) => row.id);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  test("_prisma_migrations has the columns and types of Prisma's own table", async () => {
    const columns = await database.query<{ column_name: string; data_type: string; is_nullable: string }>(
      `SELECT column_name, data_type, is_nullable FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name = '_prisma_migrations' ORDER BY ordinal_position`,
    );
    expect(columns).toEqual([
      { column_name: 'id', data_type: 'character varying', is_nullable: 'NO' },
      { column_name: 'checksum', data_type: 'character varying', is_nullable: 'NO' },
      { column_name: 'finished_at', data_type: 'timestamp with time zone', is_nullable: 'YES' },
      { column_name: 'migration_name', data_type: 'character varying', is_nullable: 'NO' },
      { column_name: 'logs', data_type: 'text', is_nullable: 'YES' },
      { column_name: 'rolled_back_at', data_type: 'timestamp with time zone', is_nullable: 'YES' },
      { column_name: 'started_at', data_type: 'timestamp with time zone', is_nullable: 'NO' },
      { column_name: 'applied_steps_count', data_type: 'integer', is_nullable: 'NO' },
    ]);
  });

  test('running migrate() again applies nothing and records nothing new', async () => {
    const client = await connect(database);
    expect(await migrate(pgSession(client), await readMigrations(migrationsDirectory()))).toEqual([]);
    expect(await migrationRows(database)).toEqual(rows);
  });

  test('migrate() releases its advisory lock when it is done', async () => {
    const locks = await database.query(OUR_ADVISORY_LOCKS);
    expect(locks).toEqual([]);
  });
});

describe('a migration edited after it was applied', () => {
  let database: TestDatabase;
  let directory: string;
  let before: MigrationRow[];

  beforeAll(async () => {
    database = await freshDatabase();
    directory = copyOfMigrations();
    await migrate(pgSession(await connect(database)), await readMigrations(directory));
    before = await migrationRows(database);
    const edited = path.join(directory, migrationFolders[0], 'migration.sql');
    writeFileSync(edited, `${readFileSync(edited, 'utf8')}\n-- an innocent-looking edit\n`);
  });

  test('is refused with a MigrationError naming the migration', async () => {
    const attempt = migrate(pgSession(await connect(database)), await readMigrations(directory));
    await expect(attempt).rejects.toThrow(MigrationError);
    await expect(migrate(pgSession(await connect(database)), await readMigrations(directory))).rejects.toThrow(
      `migration ${migrationFolders[0]} was modified after it was applied`,
    );
  });

  test('is refused before anything is written, even when new migrations wait behind it', async () => {
    addMigration(directory, '29990101000000_after_edit', 'CREATE TABLE after_edit (id int);');
    await expect(migrate(pgSession(await connect(database)), await readMigrations(directory))).rejects.toThrow(MigrationError);
    expect(await tableExists(database, 'after_edit')).toBe(false);
    expect(await migrationRows(database)).toEqual(before);
  });
});

describe('a migration whose SQL fails', () => {
  const badName = '29990101000000_bad';
  let database: TestDatabase;
  let directory: string;
  let failure: unknown;

  beforeAll(async () => {
    database = await freshDatabase();
    directory = copyOfMigrations();
    // Several statements succeed before the last one fails: all of them must be undone.
    addMigration(
      directory,
      badName,
      [
        'CREATE TABLE will_vanish (id int);',
        'ALTER TABLE credentials ADD COLUMN will_vanish int;',
        "CREATE TYPE will_vanish_enum AS ENUM ('a');",
        'INSERT INTO will_vanish VALUES (1);',
        'SELECT * FROM no_such_table;',
      ].join('\n'),
    );
    failure = await migrate(pgSession(await connect(database)), await readMigrations(directory)).then(
      () => undefined,
      (error: unknown) => error,
    );
  });

  test('makes migrate() reject with a MigrationError naming it', () => {
    expect(failure).toBeInstanceOf(MigrationError);
    expect((failure as Error).message).toBe(`migration ${badName} failed and was rolled back`);
  });

  test('keeps the database error as the cause, for the logs', () => {
    expect(((failure as Error).cause as Error).message).toMatch(/relation "no_such_table" does not exist/);
  });

  test('leaves nothing of itself: no table, no column, no type', async () => {
    expect(await tableExists(database, 'will_vanish')).toBe(false);
    const columns = await database.query(
      "SELECT 1 FROM information_schema.columns WHERE table_name = 'credentials' AND column_name = 'will_vanish'",
    );
    expect(columns).toEqual([]);
    expect(await database.query("SELECT 1 FROM pg_type WHERE typname = 'will_vanish_enum'")).toEqual([]);
  });

  test('is not recorded in _prisma_migrations', async () => {
    const names = (await migrationRows(database)).map((row) => row.migration_name);
    expect(names).not.toContain(badName);
  });

  test('does not undo the migrations before it, which stay applied and recorded', async () => {
    expect((await migrationRows(database)).map((row) => row.migration_name)).toEqual(migrationFolders);
    expect(await tableExists(database, 'credentials')).toBe(true);
  });

  test('releases the advisory lock, so the next start can migrate', async () => {
    expect(await database.query(OUR_ADVISORY_LOCKS)).toEqual([]);
    rmSync(path.join(directory, badName), { recursive: true });
    expect(await migrate(pgSession(await connect(database)), await readMigrations(directory))).toEqual([]);
  });
});

describe('a migration recorded as failed by another tool', () => {
  test('blocks migrate() until someone resolves it', async () => {
    const database = await freshDatabase();
    await migrate(pgSession(await connect(database)), await readMigrations(migrationsDirectory()));
    // What `prisma migrate deploy` leaves behind when a migration fails half-way.
    await database.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, applied_steps_count, logs)
       VALUES ($1, $2, '29990101000000_half_done', now(), NULL, 0, 'error')`,
      [randomUUID(), 'f'.repeat(64)],
    );
    await expect(migrate(pgSession(await connect(database)), await readMigrations(migrationsDirectory()))).rejects.toThrow(
      'migration 29990101000000_half_done is recorded as failed; resolve it before starting',
    );
  });
});

describe('two instances starting together', () => {
  test('both succeed, and each migration is applied and recorded exactly once', async () => {
    const database = await freshDatabase();
    const migrations = await readMigrations(migrationsDirectory());
    const [first, second] = [await connect(database), await connect(database)];
    const results = await Promise.all([migrate(pgSession(first), migrations), migrate(pgSession(second), migrations)]);
    expect([...results[0], ...results[1]].sort()).toEqual(migrationFolders);
    const names = (await migrationRows(database)).map((row) => row.migration_name);
    expect(names).toEqual(migrationFolders);
  });

  test('the second waits on the advisory lock while the first holds it, then applies nothing', async () => {
    const database = await freshDatabase();
    const migrations = await readMigrations(migrationsDirectory());
    // Hold the first instance inside its critical section: it blocks on a table lock after taking
    // the advisory lock. The bookkeeping table is created beforehand so there is something to lock.
    const blocker = await connect(database);
    await blocker.query(`CREATE TABLE "_prisma_migrations" (
      "id" VARCHAR(36) PRIMARY KEY NOT NULL, "checksum" VARCHAR(64) NOT NULL, "finished_at" TIMESTAMPTZ,
      "migration_name" VARCHAR(255) NOT NULL, "logs" TEXT, "rolled_back_at" TIMESTAMPTZ,
      "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(), "applied_steps_count" INTEGER NOT NULL DEFAULT 0)`);
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE "_prisma_migrations" IN ACCESS EXCLUSIVE MODE');

    const [first, second] = [await connect(database), await connect(database)];
    const [firstPid, secondPid] = await Promise.all(
      [first, second].map(async (client) => (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid),
    );
    const firstRun = migrate(pgSession(first), migrations);
    await waitFor(async () => (await advisoryLocks(database)).some((lock) => lock.pid === firstPid && lock.granted));
    const secondRun = migrate(pgSession(second), migrations);
    await waitFor(async () => (await advisoryLocks(database)).some((lock) => lock.pid === secondPid && !lock.granted));

    // While the first is held, the second has applied nothing: it waits on the same advisory lock.
    expect(await tableExists(database, 'credentials')).toBe(false);
    await blocker.query('COMMIT');

    expect(await firstRun).toEqual(migrationFolders);
    expect(await secondRun).toEqual([]);
    expect((await migrationRows(database)).map((row) => row.migration_name)).toEqual(migrationFolders);
  });
});

async function advisoryLocks(database: TestDatabase): Promise<{ pid: number; granted: boolean }[]> {
  return database.query(`SELECT pid, granted FROM pg_locks WHERE ${IN_THIS_DATABASE}`);
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await sleep(20);
  }
}

describe('openDatabase({ databaseUrl })', () => {
  const dataDir = path.join(os.tmpdir(), 'vault-unused-data-dir');

  test('migrates a fresh database and hands out a working Prisma client', async () => {
    const database = await freshDatabase();
    const handle = await openDatabase({ databaseUrl: database.url, dataDir });
    try {
      expect(handle.kind).toBe('postgresql');
      const id = randomUUID();
      const organizationId = randomUUID();
      await handle.prisma.credential.create({
        data: {
          id,
          organizationId,
          name: 'n',
          modelProvider: 'openai',
          authType: 'API_KEY',
          baseUrl: 'https://api.openai.com/v1',
          storesKeyMaterial: false,
          createdBy: 'u',
          updatedBy: 'u',
        },
      });
      const read = await handle.prisma.credential.findFirst({ where: { id, organizationId } });
      expect(read).toMatchObject({ id, organizationId, name: 'n', settings: {}, secretVersion: 1 });
      expect((await migrationRows(database)).map((row) => row.migration_name)).toEqual(migrationFolders);
    } finally {
      await handle.close();
    }
  });

  test('opening an up-to-date database again applies nothing', async () => {
    const database = await freshDatabase();
    await (await openDatabase({ databaseUrl: database.url, dataDir })).close();
    const rows = await migrationRows(database);
    await (await openDatabase({ databaseUrl: database.url, dataDir })).close();
    expect(await migrationRows(database)).toEqual(rows);
  });

  describe('with ?schema=custom', () => {
    let database: TestDatabase;

    beforeAll(async () => {
      database = await freshDatabase();
      await database.query('CREATE SCHEMA custom');
    });

    test('puts the tables, the enum and _prisma_migrations in that schema, not in public', async () => {
      const handle = await openDatabase({ databaseUrl: `${database.url}?schema=custom`, dataDir });
      await handle.close();
      const tables = await database.query<{ table_schema: string; table_name: string }>(
        `SELECT table_schema, table_name FROM information_schema.tables
          WHERE table_schema IN ('public', 'custom') ORDER BY table_schema, table_name`,
      );
      expect(tables.every((table) => table.table_schema === 'custom')).toBe(true);
      expect(tables.map((table) => table.table_name)).toEqual(expect.arrayContaining(['_prisma_migrations', 'credentials']));
      const enums = await database.query(
        "SELECT n.nspname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.typname = 'auth_type'",
      );
      expect(enums).toEqual([{ nspname: 'custom' }]);
    });

    test('the Prisma client reads and writes the tables of that schema', async () => {
      const handle = await openDatabase({ databaseUrl: `${database.url}?schema=custom`, dataDir });
      try {
        const id = randomUUID();
        await handle.prisma.credential.create({
          data: {
            id,
            organizationId: randomUUID(),
            name: 'in custom',
            modelProvider: 'openai',
            authType: 'API_KEY',
            baseUrl: 'https://x.test',
            storesKeyMaterial: false,
            createdBy: 'u',
            updatedBy: 'u',
          },
        });
        expect(await database.query('SELECT name FROM custom.credentials WHERE id = $1', [id])).toEqual([{ name: 'in custom' }]);
        expect(await handle.prisma.credential.count()).toBe(1);
      } finally {
        await handle.close();
      }
    });

    test('raw SQL through the Prisma client resolves unqualified table names in that schema', async () => {
      // The repositories use $queryRaw with unqualified names (e.g. the row lock before a delete).
      const handle = await openDatabase({ databaseUrl: `${database.url}?schema=custom`, dataDir });
      try {
        const rows = await handle.prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM credentials`;
        expect(rows).toHaveLength(1);
      } finally {
        await handle.close();
      }
    });

    test('the runner records the migrations in that schema as Prisma would', async () => {
      const client = await connect(database, { searchPath: 'custom' });
      expect(await migrate(pgSession(client), await readMigrations(migrationsDirectory()))).toEqual([]);
      const names = await database.query<{ migration_name: string }>(
        'SELECT migration_name FROM custom."_prisma_migrations" ORDER BY migration_name',
      );
      expect(names.map((row) => row.migration_name)).toEqual(migrationFolders);
    });
  });

  test('with ?schema= naming a schema that does not exist yet, creates it as prisma migrate deploy does', async () => {
    const database = await freshDatabase();
    const handle = await openDatabase({ databaseUrl: `${database.url}?schema=not_yet_created`, dataDir });
    await handle.close();
    expect(await tableExists(database, 'credentials', 'not_yet_created')).toBe(true);
  });
});
