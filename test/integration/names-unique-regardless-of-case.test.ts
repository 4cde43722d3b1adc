// The migration that makes credential and provider names unique in an organization regardless of
// case. Applied over rows that already collide ("Prod" and "prod"), it keeps every row and the
// oldest name, renames the others "<name> (<id>)" within 200 characters, and from then on the
// database itself refuses a name that differs from a taken one only in case, whoever writes it.
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { migrate, type Migration, readMigrations } from '../../src/db/migrate';
import { migrationsDirectory } from '../../src/db/project-paths';
import { pgSession } from '../../src/db/sql-session';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const MIGRATION = '20261201120000_names_unique_regardless_of_case';

let database: TestDatabase;
let client: Client;
let before: Migration[];
let from: Migration[];

const orgA = randomUUID();
const orgB = randomUUID();
const ids = { oldest: randomUUID(), younger: randomUUID(), youngest: randomUUID(), long: randomUUID(), longOlder: randomUUID() };
const otherOrg = randomUUID();
const providerIds = { oldest: randomUUID(), younger: randomUUID(), credential: randomUUID() };

async function insertCredential(id: string, organizationId: string, name: string, createdAt: string): Promise<void> {
  await client.query(
    `INSERT INTO credentials (id, organization_id, name, model_provider, auth_type, base_url, stores_key_material, created_by, updated_by, created_at)
     VALUES ($1, $2, $3, 'openai', 'API_KEY', 'https://api.openai.com/v1', false, 'migration-test', 'migration-test', $4)`,
    [id, organizationId, name, createdAt],
  );
}

async function insertProvider(id: string, name: string, createdAt: string): Promise<void> {
  await client.query(
    `INSERT INTO providers (id, organization_id, name, model_provider, credential_id, created_by, created_at)
     VALUES ($1, $2, $3, 'openai', $4, 'migration-test', $5)`,
    [id, orgA, name, providerIds.credential, createdAt],
  );
}

async function credentialRow(id: string) {
  const { rows } = await client.query<{ name: string; name_key: string; revision: number; change_note: string | null }>(
    'SELECT name, name_key, revision, change_note FROM credentials WHERE id = $1',
    [id],
  );
  return rows[0];
}

beforeAll(async () => {
  const migrations = await readMigrations(migrationsDirectory());
  const at = migrations.findIndex((migration) => migration.name === MIGRATION);
  if (at <= 0) throw new Error(`${MIGRATION} is not among the migrations, after another one`);
  before = migrations.slice(0, at);
  from = migrations.slice(at);

  database = await createTestDatabase('names_case');
  client = new Client({ connectionString: database.url });
  await client.connect();
  await migrate(pgSession(client), before);

  await insertCredential(ids.oldest, orgA, 'Prod', '2026-01-01T00:00:00Z');
  await insertCredential(ids.younger, orgA, 'prod', '2026-01-02T00:00:00Z');
  await insertCredential(ids.youngest, orgA, 'PROD', '2026-01-03T00:00:00Z');
  await insertCredential(ids.longOlder, orgA, 'L'.repeat(200), '2026-01-01T00:00:00Z');
  await insertCredential(ids.long, orgA, 'l'.repeat(200), '2026-01-02T00:00:00Z');
  await insertCredential(otherOrg, orgB, 'prod', '2026-01-05T00:00:00Z');
  await insertCredential(providerIds.credential, orgA, 'backing', '2026-01-01T00:00:00Z');
  await insertProvider(providerIds.oldest, 'Route', '2026-01-01T00:00:00Z');
  await insertProvider(providerIds.younger, 'ROUTE', '2026-01-02T00:00:00Z');

  await migrate(pgSession(client), from);
});

afterAll(async () => {
  await client?.end();
  await database?.drop();
});

describe('rows that collided before the migration', () => {
  test('are all kept', async () => {
    const { rows } = await client.query<{ count: number }>('SELECT count(*)::int AS count FROM credentials');
    expect(rows[0].count).toBe(7);
  });

  test('the oldest keeps its name', async () => {
    expect((await credentialRow(ids.oldest)).name).toBe('Prod');
  });

  test('the others get their id appended, and a change note and a new revision saying so', async () => {
    for (const id of [ids.younger, ids.youngest]) {
      const row = await credentialRow(id);
      expect(row.name).toMatch(new RegExp(`^(prod|PROD) \\(${id}\\)$`));
      expect(row.revision).toBe(2);
      expect(row.change_note).toMatch(/unique regardless of case/);
    }
  });

  test('a renamed name stays within 200 characters', async () => {
    const row = await credentialRow(ids.long);
    expect(row.name).toHaveLength(200);
    expect(row.name.endsWith(`(${ids.long})`)).toBe(true);
  });

  test('the same name in another organization is left alone', async () => {
    expect((await credentialRow(otherOrg)).name).toBe('prod');
  });

  test('providers are renamed the same way', async () => {
    const { rows } = await client.query<{ id: string; name: string }>('SELECT id, name FROM providers ORDER BY created_at');
    expect(rows).toEqual([
      { id: providerIds.oldest, name: 'Route' },
      { id: providerIds.younger, name: `ROUTE (${providerIds.younger})` },
    ]);
  });
});

describe('after the migration, the database itself', () => {
  test('keeps name_key as the lower-case name', async () => {
    expect((await credentialRow(ids.oldest)).name_key).toBe('prod');
  });

  test('refuses a credential whose name differs from a taken one only in case', async () => {
    await expect(insertCredential(randomUUID(), orgA, 'pROD', '2026-02-01T00:00:00Z')).rejects.toMatchObject({
      code: '23505',
      constraint: 'credentials_organization_id_name_key',
    });
  });

  test('refuses renaming a credential onto a taken name in another case', async () => {
    await expect(client.query("UPDATE credentials SET name = 'PrOd' WHERE id = $1", [providerIds.credential])).rejects.toMatchObject({
      code: '23505',
    });
  });

  test('refuses a provider whose name differs from a taken one only in case', async () => {
    await expect(insertProvider(randomUUID(), 'route', '2026-02-01T00:00:00Z')).rejects.toMatchObject({
      code: '23505',
      constraint: 'providers_organization_id_name_key',
    });
  });

  test('accepts the same name in another organization', async () => {
    await expect(insertCredential(randomUUID(), randomUUID(), 'PROD', '2026-02-01T00:00:00Z')).resolves.toBeUndefined();
  });

  test('does not let name_key be written apart from the name', async () => {
    await expect(client.query("UPDATE credentials SET name_key = 'other' WHERE id = $1", [ids.oldest])).rejects.toMatchObject({
      code: '428C9',
    });
  });
});
