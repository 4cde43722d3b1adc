// schema.prisma and the SQL migrations must describe the same database: `prisma migrate` cannot
// run here, so nothing else notices when one changes without the other. The migrations are
// applied to a fresh database and compared with Prisma's own reading of schema.prisma (DMMF).
// The second half proves the comparison can fail: each deliberate alteration, of the database or
// of the schema, must be reported.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { openDatabase } from '../../src/db/database';
import { migrate, readMigrations } from '../../src/db/migrate';
import { findProjectRoot, migrationsDirectory } from '../../src/db/project-paths';
import { pgSession } from '../../src/db/sql-session';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { type Datamodel, readDatamodel } from '../support/prisma-dmmf';
import { type DatabaseSnapshot, findDrift, snapshotDatabase } from '../support/schema-drift';

const schemaFile = path.join(findProjectRoot(), 'prisma', 'schema.prisma');
const schemaText = readFileSync(schemaFile, 'utf8');

let migrated: TestDatabase;
let altered: TestDatabase;
let datamodel: Datamodel;
let snapshot: DatabaseSnapshot;

async function applyMigrations(database: TestDatabase): Promise<void> {
  const client = new Client({ connectionString: database.url });
  await client.connect();
  try {
    await migrate(pgSession(client), await readMigrations(migrationsDirectory()));
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  datamodel = readDatamodel(schemaText);
  migrated = await createTestDatabase('drift');
  altered = await createTestDatabase('drift_altered');
  await applyMigrations(migrated);
  await applyMigrations(altered);
  snapshot = await snapshotDatabase(migrated.query.bind(migrated));
});

afterAll(async () => {
  await migrated?.drop();
  await altered?.drop();
});

describe('schema.prisma and prisma/migrations', () => {
  test('describe the same tables, columns, indexes, foreign keys and enums', () => {
    expect(findDrift(datamodel, snapshot)).toEqual([]);
  });

  test('the comparison saw every model and enum of schema.prisma', () => {
    // Guards the test above against passing on an empty reading of either side.
    const tables = datamodel.models.map((model) => model.dbName ?? model.name);
    expect(tables.length).toBeGreaterThan(0);
    for (const table of tables) expect(snapshot.tables.get(table)?.columns.length).toBeGreaterThan(0);
    expect(snapshot.tables.get('credentials')?.indexes.length).toBeGreaterThanOrEqual(4);
    expect(datamodel.enums.map((entry) => entry.dbName ?? entry.name)).toContain('auth_type');
    expect(snapshot.enums.get('auth_type')?.length).toBeGreaterThan(0);
  });

  test('the generated client was generated from the current schema.prisma', async () => {
    const database = await openDatabase({ databaseUrl: migrated.url, dataDir: '/nonexistent' });
    try {
      const engineConfig = (database.prisma as unknown as { _engineConfig?: { inlineSchema?: string } })._engineConfig;
      expect(engineConfig?.inlineSchema).toBe(schemaText);
    } finally {
      await database.close();
    }
  });
});

describe('the drift check reports a database that differs from schema.prisma', () => {
  /** Alters the second database inside a transaction, compares, and rolls the alteration back. */
  async function driftAfter(sql: string): Promise<string[]> {
    await altered.query('BEGIN');
    try {
      await altered.query(sql);
      return findDrift(datamodel, await snapshotDatabase(altered.query.bind(altered)));
    } finally {
      await altered.query('ROLLBACK');
    }
  }

  test('the unaltered copy has no drift (so every report below comes from its alteration)', async () => {
    expect(findDrift(datamodel, await snapshotDatabase(altered.query.bind(altered)))).toEqual([]);
  });

  test.each([
    [
      'an extra column',
      'ALTER TABLE credentials ADD COLUMN x int',
      /^column credentials\.x exists in the database but not in model Credential$/,
    ],
    [
      'a missing column',
      'ALTER TABLE credentials DROP COLUMN key_last4',
      /^column credentials\.key_last4 \(Credential\.keyLast4\) is missing/,
    ],
    [
      'a changed type',
      'ALTER TABLE credentials ALTER COLUMN secret_version TYPE bigint',
      /^column credentials\.secret_version .* has type bigint, schema\.prisma says integer$/,
    ],
    [
      'a uuid stored as text',
      'ALTER TABLE providers ALTER COLUMN id TYPE text',
      /^column providers\.id .* has type text, schema\.prisma says uuid$/,
    ],
    [
      'a changed timestamp precision',
      'ALTER TABLE credentials ALTER COLUMN created_at TYPE timestamptz(6)',
      /created_at .* has type timestamp\(6\) with time zone, schema\.prisma says timestamp\(3\) with time zone$/,
    ],
    [
      'a timestamp without time zone',
      'ALTER TABLE credentials ALTER COLUMN updated_at TYPE timestamp(3)',
      /updated_at .* has type timestamp\(3\) without time zone/,
    ],
    [
      'json instead of jsonb',
      'ALTER TABLE credentials ALTER COLUMN settings TYPE json',
      /settings .* has type json, schema\.prisma says jsonb$/,
    ],
    [
      'an enum column turned into text',
      'ALTER TABLE credentials ALTER COLUMN auth_type TYPE text',
      /auth_type .* has type text, schema\.prisma says enum auth_type$/,
    ],
    [
      'a required column made nullable',
      'ALTER TABLE credentials ALTER COLUMN base_url DROP NOT NULL',
      /^column credentials\.base_url .* is nullable, schema\.prisma says required$/,
    ],
    [
      'an optional column made NOT NULL',
      'ALTER TABLE credentials ALTER COLUMN key_last4 SET NOT NULL',
      /^column credentials\.key_last4 .* is NOT NULL, schema\.prisma says optional$/,
    ],
    [
      'a dropped default',
      'ALTER TABLE credentials ALTER COLUMN settings DROP DEFAULT',
      /^column credentials\.settings .* default is missing/,
    ],
    [
      'a changed default',
      'ALTER TABLE credentials ALTER COLUMN secret_version SET DEFAULT 2',
      /^column credentials\.secret_version .* default should be 1, is 2$/,
    ],
    [
      'a default schema.prisma does not declare',
      "ALTER TABLE credentials ALTER COLUMN name SET DEFAULT 'x'",
      /^column credentials\.name .* has a database default/,
    ],
    [
      'a missing index',
      'DROP INDEX credentials_organization_id_model_provider_seq_idx',
      /^index credentials_organization_id_model_provider_seq_idx .* is missing from the database$/,
    ],
    [
      'an index with its columns in another order',
      'DROP INDEX credentials_organization_id_model_provider_seq_idx; CREATE INDEX credentials_organization_id_model_provider_seq_idx ON credentials (seq, organization_id, model_provider)',
      /^index credentials_organization_id_model_provider_seq_idx .* covers \(seq, organization_id, model_provider\), schema\.prisma says \(organization_id, model_provider, seq\)$/,
    ],
    [
      'a unique index that is no longer unique',
      'DROP INDEX credentials_organization_id_name_key; CREATE INDEX credentials_organization_id_name_key ON credentials (organization_id, name)',
      /^index credentials_organization_id_name_key .* is not unique in the database$/,
    ],
    [
      'an extra index',
      'CREATE INDEX credentials_name_idx ON credentials (name)',
      /^index credentials_name_idx on credentials\(name\) exists in the database but not in model Credential$/,
    ],
    [
      'a missing primary key',
      'ALTER TABLE credentials DROP CONSTRAINT credentials_pkey CASCADE',
      /^index credentials_pkey .* is missing from the database$/,
    ],
    ['an extra table', 'CREATE TABLE stray (id int)', /^table stray exists in the database but not in schema\.prisma$/],
    ['a missing table', 'DROP TABLE providers', /^table providers \(model Provider\) is missing from the database$/],
    ['an extra enum label', "ALTER TYPE auth_type ADD VALUE 'EXTRA'", /^enum auth_type has labels \(.*, EXTRA\), schema\.prisma says/],
    ['a renamed enum label', "ALTER TYPE auth_type RENAME VALUE 'AWS_KEYS' TO 'AWS_KEY'", /^enum auth_type has labels/],
    ['an extra enum', "CREATE TYPE mood AS ENUM ('ok')", /^enum mood exists in the database but not in schema\.prisma$/],
    [
      'a missing foreign key',
      'ALTER TABLE providers DROP CONSTRAINT providers_organization_id_credential_id_fkey',
      /^foreign key of Provider\.credential .* is missing from the database$/,
    ],
    [
      'a foreign key with another delete rule',
      'ALTER TABLE providers DROP CONSTRAINT providers_organization_id_credential_id_fkey; ALTER TABLE providers ADD CONSTRAINT providers_organization_id_credential_id_fkey FOREIGN KEY (organization_id, credential_id) REFERENCES credentials (organization_id, id) ON DELETE CASCADE ON UPDATE RESTRICT',
      /^foreign key of Provider\.credential .* is ON DELETE Cascade in the database, schema\.prisma says Restrict$/,
    ],
  ])('%s', async (_label, sql, expected) => {
    expect(await driftAfter(sql)).toContainEqual(expect.stringMatching(expected));
  });
});

describe('the drift check reports a schema.prisma that differs from the database', () => {
  function driftWith(from: string | RegExp, to: string): string[] {
    const changed = schemaText.replace(from, to);
    // A replacement that matched nothing would make the test below pass for no reason.
    expect(changed).not.toBe(schemaText);
    return findDrift(readDatamodel(changed), snapshot);
  }

  test('a field added to a model without a migration', () => {
    expect(driftWith(/(\n\s*name\s+String\n)/, '$1  nickname String?\n')).toContainEqual(
      expect.stringMatching(/^column credentials\.nickname \(Credential\.nickname\) is missing from the database$/),
    );
  });

  test('a field made optional without a migration', () => {
    expect(driftWith(/baseUrl(\s+)String(\s+)@map\("base_url"\)/, 'baseUrl$1String?$2@map("base_url")')).toContainEqual(
      expect.stringMatching(/^column credentials\.base_url .* is NOT NULL, schema\.prisma says optional$/),
    );
  });

  test('a native type changed without a migration', () => {
    expect(driftWith(/(createdAt\s+DateTime[^\n]*)@db\.Timestamptz\(3\)/, '$1@db.Timestamptz(6)')).toContainEqual(
      expect.stringMatching(
        /^column credentials\.created_at .* has type timestamp\(3\) with time zone, schema\.prisma says timestamp\(6\) with time zone$/,
      ),
    );
  });

  test('an index removed from the schema but still in the database', () => {
    expect(driftWith(/\n\s*@@index\(\[organizationId, modelProvider, seq\][^\n]*/, '')).toContainEqual(
      expect.stringMatching(
        /^index credentials_organization_id_model_provider_seq_idx on credentials.* exists in the database but not in model Credential$/,
      ),
    );
  });

  test('an enum value added without a migration', () => {
    expect(driftWith(/(\n\s*OAUTH_PASSTHROUGH\n)/, '$1  AZURE_AD\n')).toContainEqual(expect.stringMatching(/^enum auth_type has labels/));
  });

  test('a model added without a migration', () => {
    expect(driftWith(/$/, '\nmodel Audit {\n  id Int @id\n  @@map("audits")\n}\n')).toContainEqual(
      expect.stringMatching(/^table audits \(model Audit\) is missing from the database$/),
    );
  });
});
