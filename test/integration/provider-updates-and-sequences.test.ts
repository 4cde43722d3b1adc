// The migration that gives providers a revision and who changed them last, and credentials and
// providers the sequence their lists follow. Applied over existing rows, it numbers them in the
// order the lists showed them until then ((created_at, id), ties of one millisecond included),
// lets the sequence go on after them, and from then on numbers every insert itself, whoever writes.
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { migrate, type Migration, readMigrations } from '../../src/db/migrate';
import { migrationsDirectory } from '../../src/db/project-paths';
import { pgSession } from '../../src/db/sql-session';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const MIGRATION = '20261202000000_provider_updates_and_sequences';

let database: TestDatabase;
let client: Client;

const org = randomUUID();
const otherOrg = randomUUID();
/** Ids that sort before (`0…`) or after (`f…`) any other. */
const low = () => `0${randomUUID().slice(1)}`;
const high = () => `f${randomUUID().slice(1)}`;

/** Credentials as inserted (storage order), and the order the lists showed them: (created_at, id). */
const credentials = {
  later: { id: randomUUID(), createdAt: '2026-11-02T00:00:00.000Z' },
  tieHigh: { id: high(), createdAt: '2026-11-01T00:00:00.123Z' },
  tieLow: { id: low(), createdAt: '2026-11-01T00:00:00.123Z' },
  other: { id: randomUUID(), createdAt: '2026-10-01T00:00:00.000Z', organizationId: otherOrg },
};
const providers = {
  later: { id: randomUUID(), createdAt: '2026-11-03T00:00:00.000Z' },
  earlier: { id: randomUUID(), createdAt: '2026-11-01T00:00:00.000Z' },
};

async function insertCredential(id: string, createdAt: string, organizationId = org, extra: { seq?: number } = {}): Promise<void> {
  await client.query(
    `INSERT INTO credentials (id, organization_id, name, model_provider, auth_type, base_url, stores_key_material, created_by, updated_by, created_at${extra.seq === undefined ? '' : ', seq'})
     VALUES ($1, $2, $3, 'openai', 'API_KEY', 'https://api.openai.com/v1', false, 'migration-test', 'migration-test', $4${extra.seq === undefined ? '' : ', $5'})`,
    [id, organizationId, `credential-${id}`, createdAt, ...(extra.seq === undefined ? [] : [extra.seq])],
  );
}

async function insertProvider(id: string, createdAt: string): Promise<void> {
  await client.query(
    `INSERT INTO providers (id, organization_id, name, model_provider, oauth_passthrough, created_by, created_at)
     VALUES ($1, $2, $3, 'anthropic', true, $4, $5)`,
    [id, org, `provider-${id}`, `creator-of-${id}`, createdAt],
  );
}

async function seqOf(table: 'credentials' | 'providers', id: string): Promise<number> {
  const { rows } = await client.query<{ seq: string }>(`SELECT seq FROM ${table} WHERE id = $1`, [id]);
  return Number(rows[0].seq);
}

beforeAll(async () => {
  const migrations = await readMigrations(migrationsDirectory());
  const at = migrations.findIndex((migration) => migration.name === MIGRATION);
  if (at <= 0) throw new Error(`${MIGRATION} is not among the migrations, after another one`);
  const before: Migration[] = migrations.slice(0, at);
  const from: Migration[] = migrations.slice(at);

  database = await createTestDatabase('sequences');
  client = new Client({ connectionString: database.url });
  await client.connect();
  await migrate(pgSession(client), before);

  for (const row of [credentials.later, credentials.tieHigh, credentials.tieLow]) await insertCredential(row.id, row.createdAt);
  await insertCredential(credentials.other.id, credentials.other.createdAt, otherOrg);
  for (const row of [providers.later, providers.earlier]) await insertProvider(row.id, row.createdAt);
  // Moves the row in storage: storage order is not the order the lists showed.
  await client.query("UPDATE credentials SET name = name || '-moved' WHERE id = $1", [credentials.tieLow.id]);

  await migrate(pgSession(client), from);
});

afterAll(async () => {
  await client?.end();
  await database?.drop();
});

describe('existing rows', () => {
  test("credentials are numbered 1..n in the order the lists showed them, millisecond ties by id, every organization's in one sequence", async () => {
    const { rows } = await client.query<{ id: string; seq: string }>('SELECT id, seq FROM credentials ORDER BY seq');

    expect(rows.map((row) => [row.id, Number(row.seq)])).toEqual([
      [credentials.other.id, 1],
      [credentials.tieLow.id, 2],
      [credentials.tieHigh.id, 3],
      [credentials.later.id, 4],
    ]);
  });

  test('providers are numbered in the order the lists showed them', async () => {
    expect([await seqOf('providers', providers.earlier.id), await seqOf('providers', providers.later.id)]).toEqual([1, 2]);
  });

  test('providers start at revision 1, last changed when and by whom they were created', async () => {
    const { rows } = await client.query<{ revision: number; same_time: boolean; updated_by: string; created_by: string }>(
      'SELECT revision, updated_at = created_at AS same_time, updated_by, created_by FROM providers ORDER BY seq',
    );

    expect(rows).toEqual([
      { revision: 1, same_time: true, updated_by: `creator-of-${providers.earlier.id}`, created_by: `creator-of-${providers.earlier.id}` },
      { revision: 1, same_time: true, updated_by: `creator-of-${providers.later.id}`, created_by: `creator-of-${providers.later.id}` },
    ]);
  });
});

describe('rows inserted afterwards', () => {
  test('come after every existing row, whatever their created_at', async () => {
    const id = randomUUID();
    await insertCredential(id, '2000-01-01T00:00:00.000Z');

    expect(await seqOf('credentials', id)).toBeGreaterThan(4);
  });

  test('take their number from the sequence even when the writer names one', async () => {
    const id = randomUUID();
    await insertCredential(id, '2026-12-01T00:00:00.000Z', org, { seq: 1 });

    expect(await seqOf('credentials', id)).toBeGreaterThan(4);
  });

  test('a provider inserted by a writer that does not know updated_by is accepted', async () => {
    const id = randomUUID();
    await insertProvider(id, '2026-12-01T00:00:00.000Z');

    expect(await seqOf('providers', id)).toBeGreaterThan(2);
  });
});

describe('indexes', () => {
  test('seq is unique per organization, and the (created_at, id) indexes are gone', async () => {
    const { rows } = await client.query<{ indexname: string; indexdef: string }>(
      "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('credentials', 'providers') AND indexdef LIKE '%seq%' ORDER BY indexname",
    );
    const { rows: old } = await client.query("SELECT 1 FROM pg_indexes WHERE indexname LIKE '%created_at_id_idx'");

    expect(rows.map((row) => row.indexname)).toEqual([
      'credentials_organization_id_model_provider_seq_idx',
      'credentials_organization_id_seq_key',
      'providers_organization_id_seq_key',
    ]);
    expect(rows.filter((row) => row.indexname.endsWith('_key')).every((row) => row.indexdef.startsWith('CREATE UNIQUE INDEX'))).toBe(true);
    expect(old).toEqual([]);
  });
});
