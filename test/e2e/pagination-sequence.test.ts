// Paging never skips a row. Lists follow each row's sequence number, not (createdAt, id): rows
// that share a millisecond, whatever their ids, come in the order they were inserted, and a row
// inserted after a cursor was handed out comes after it even when its id is smaller than the
// cursor's. Inserts into one organization take turns until they commit, so a row that commits
// late can never land behind a cursor a reader already holds. Cursors of the old order are refused.
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { aCredentialInput } from '../support/factories';
import { anOrganization, type Member } from '../support/organizations';
import { startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { base64urlJson } from '../support/tokens';
import { expectBadUserInput } from '../support/vault-client';

let database: TestDatabase;
let vault: TestApp;

beforeAll(async () => {
  database = await createTestDatabase('pagination_sequence');
  vault = await startTestApp({ databaseUrl: database.url });
});

afterAll(async () => {
  await vault?.stop();
  await database?.drop();
});

/** One instant, to the millisecond, that every row of a test shares. */
const SAME_MILLISECOND = '2026-12-02T10:00:00.123Z';

/** A fresh id that sorts before (`0…`) or after (`f…`) any other, as UUIDs compare. */
function anId(sorts: 'first' | 'last' | 'anywhere' = 'anywhere'): string {
  const id = randomUUID();
  return sorts === 'anywhere' ? id : `${sorts === 'first' ? '0' : 'f'}${id.slice(1)}`;
}

/** Inserts a credential row as another writer would, created at `createdAt`. */
async function insertCredential(orgId: string, id: string, createdAt = SAME_MILLISECOND, modelProvider = 'vertex'): Promise<string> {
  await database.query(
    `INSERT INTO credentials (id, organization_id, name, model_provider, auth_type, base_url, stores_key_material, created_by, updated_by, created_at)
     VALUES ($1, $2, $3, $4, 'GOOGLE_ADC', 'https://us-central1-aiplatform.googleapis.com', false, 'sql-writer', 'sql-writer', $5)`,
    [id, orgId, `sql-${id}`, modelProvider, createdAt],
  );
  return id;
}

/** Inserts an OAuth passthrough provider row as another writer would, created at `createdAt`. */
async function insertProvider(orgId: string, id: string, createdAt = SAME_MILLISECOND): Promise<string> {
  await database.query(
    `INSERT INTO providers (id, organization_id, name, model_provider, oauth_passthrough, created_by, updated_by, created_at)
     VALUES ($1, $2, $3, 'anthropic', true, 'sql-writer', 'sql-writer', $4)`,
    [id, orgId, `sql-${id}`, createdAt],
  );
  return id;
}

interface Lister {
  /** One page: the ids in it and the cursor to continue after it. */
  page(first: number, after: string | null): Promise<{ ids: string[]; endCursor: string | null; hasNextPage: boolean }>;
}

function credentialsOf(member: Member, modelProvider?: 'VERTEX' | 'OPENAI'): Lister {
  return {
    async page(first, after) {
      const page = await member.listed({ first, after, ...(modelProvider ? { modelProvider } : {}) });
      return { ids: page.edges.map((edge) => edge.node.id), endCursor: page.pageInfo.endCursor, hasNextPage: page.pageInfo.hasNextPage };
    },
  };
}

function providersOf(member: Member): Lister {
  return {
    async page(first, after) {
      const page = await member.providers.listed({ first, after });
      return { ids: page.edges.map((edge) => edge.node.id), endCursor: page.pageInfo.endCursor, hasNextPage: page.pageInfo.hasNextPage };
    },
  };
}

/** Every id from `after` on, one page of `first` at a time. */
async function walk(lister: Lister, first: number, after: string | null = null): Promise<string[]> {
  const ids: string[] = [];
  for (let pages = 0; ; pages += 1) {
    if (pages > 100) throw new Error('pagination does not end');
    const page = await lister.page(first, after);
    ids.push(...page.ids);
    if (!page.hasNextPage) return ids;
    after = page.endCursor;
  }
}

const TABLES = [
  { table: 'credentials', insert: insertCredential, list: (member: Member) => credentialsOf(member) },
  { table: 'providers', insert: insertProvider, list: providersOf },
] as const;

describe.each(TABLES)('$table', ({ table, insert, list }) => {
  test("a row inserted in the cursor's millisecond with a smaller id than the cursor's row comes after the cursor", async () => {
    const org = anOrganization(vault);
    const first = await insert(org.id, anId('last'));
    const { ids, endCursor } = await list(org.admin).page(1, null);

    const late = await insert(org.id, anId('first'));

    expect(ids).toEqual([first]);
    expect(await walk(list(org.admin), 1, endCursor)).toEqual([late]);
  });

  test('rows sharing one millisecond are each listed exactly once, in insertion order, a page of one at a time', async () => {
    const org = anOrganization(vault);
    const inserted: string[] = [];
    for (let index = 0; index < 12; index += 1) inserted.push(await insert(org.id, anId(index % 2 === 0 ? 'last' : 'first')));

    expect(await walk(list(org.admin), 1)).toEqual(inserted);
    expect(await walk(list(org.admin), 5)).toEqual(inserted);
  });

  test('a row created earlier by its clock but inserted later comes later: the order is the order of insertion', async () => {
    const org = anOrganization(vault);
    const inserted = [await insert(org.id, anId(), '2026-12-02T10:00:00.500Z'), await insert(org.id, anId(), '2026-12-02T09:59:59.000Z')];

    expect(await walk(list(org.admin), 1)).toEqual(inserted);
  });

  test('a cursor of the earlier (createdAt, id) order is BAD_USER_INPUT on after, asking to list again from the start', async () => {
    const org = anOrganization(vault);
    await insert(org.id, anId());
    const earlier = base64urlJson({ t: SAME_MILLISECOND, i: anId() });

    const response = await (table === 'providers'
      ? org.admin.providers.list({ first: 1, after: earlier })
      : org.admin.list({ first: 1, after: earlier }));

    expectBadUserInput(response, 'after', /earlier version .* list again from the start/);
  });
});

test('the modelProvider filter pages through rows sharing one millisecond exactly once, in insertion order', async () => {
  const org = anOrganization(vault);
  const vertex: string[] = [];
  for (let index = 0; index < 8; index += 1) {
    const id = await insertCredential(
      org.id,
      anId(index % 2 === 0 ? 'last' : 'first'),
      SAME_MILLISECOND,
      index % 3 === 0 ? 'openai' : 'vertex',
    );
    if (index % 3 !== 0) vertex.push(id);
  }

  expect(await walk(credentialsOf(org.admin, 'VERTEX'), 1)).toEqual(vertex);
});

test('a row that commits after a later-inserted one still comes after the cursor: inserts of an organization take turns', async () => {
  const org = anOrganization(vault);
  const before = await insertCredential(org.id, anId());
  const writer = new Client({ connectionString: database.url });
  await writer.connect();
  try {
    // Another writer inserts and has not committed yet.
    await writer.query('BEGIN');
    const pending = anId('first');
    await writer.query(
      `INSERT INTO credentials (id, organization_id, name, model_provider, auth_type, base_url, stores_key_material, created_by, updated_by)
       VALUES ($1, $2, $3, 'vertex', 'GOOGLE_ADC', 'https://us-central1-aiplatform.googleapis.com', false, 'sql-writer', 'sql-writer')`,
      [pending, org.id, `pending-${pending}`],
    );
    // Meanwhile the API creates one: it either waits for the writer, or (were inserts not to take
    // turns) commits first with a later sequence number.
    let settled = false;
    const creating = org.admin.created(aCredentialInput()).finally(() => {
      settled = true;
    });
    const waitingOnTheWriter = async () =>
      (
        await database.query<{ count: number }>(
          `SELECT count(*)::int AS count FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'`,
        )
      )[0].count > 0;
    for (let polls = 0; !settled && !(await waitingOnTheWriter()); polls += 1) {
      if (polls > 200) throw new Error('the create neither finished nor waited');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // A reader pages now, and holds its cursor.
    const seen = await credentialsOf(org.admin).page(50, null);
    await writer.query('COMMIT');
    const created = await creating;

    const rest = await walk(credentialsOf(org.admin), 50, seen.endCursor);

    expect([...seen.ids, ...rest]).toEqual([before, pending, created.id]);
  } finally {
    await writer.end();
  }
});
