// The `credentials` connection: Relay pagination with first/after, the 100 cap, totalCount, the
// modelProvider filter, stable order under inserts, and argument errors.
import { randomUUID } from 'node:crypto';
import { aCredentialInput, awsRoleAuth, type CreateCredentialInput, googleAdcAuth, type ModelProvider } from '../support/factories';
import { anAdmin } from '../support/organizations';
import { sleep } from '../support/sleep';
import { startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { base64urlJson } from '../support/tokens';
import {
  type CredentialConnectionView,
  type CredentialView,
  expectBadUserInput,
  type ListArgs,
  mutateInBulk,
  type VaultClient,
} from '../support/vault-client';

let database: TestDatabase;
let vault: TestApp;

/** An organization holding more credentials than the page cap. */
let crowded: VaultClient;
/** Their ids in creation order. */
let crowdedIds: string[];
const CROWDED_SIZE = 105;
const BEDROCK_IN_CROWDED = 35;

/** Creates many credentials in one request: aliased mutations run one after another. */
function createMany(client: VaultClient, inputs: CreateCredentialInput[]): Promise<{ id: string }[]> {
  return mutateInBulk(vault, client.token, { field: 'createCredential', inputType: 'CreateCredentialInput', inputs });
}

/** Follows endCursor until hasNextPage is false, returning every node in order. */
async function walk(client: VaultClient, args: ListArgs): Promise<{ nodes: CredentialView[]; pages: CredentialConnectionView[] }> {
  const pages: CredentialConnectionView[] = [];
  let after: string | null = args.after ?? null;
  for (;;) {
    const page = await client.listed({ ...args, after });
    pages.push(page);
    if (!page.pageInfo.hasNextPage) break;
    after = page.pageInfo.endCursor;
    if (pages.length > 200) throw new Error('pagination does not end');
  }
  return { nodes: pages.flatMap((page) => page.edges.map((edge) => edge.node)), pages };
}

beforeAll(async () => {
  database = await createTestDatabase('listing');
  vault = await startTestApp({ databaseUrl: database.url });
  crowded = anAdmin(vault);
  const inputs = Array.from({ length: CROWDED_SIZE }, (_, index) => {
    // Every third one is BEDROCK, the rest OPENAI and VERTEX: cheap auth members, no key generation.
    const provider: ModelProvider = index % 3 === 0 ? 'BEDROCK' : index % 3 === 1 ? 'OPENAI' : 'VERTEX';
    const auth = provider === 'BEDROCK' ? awsRoleAuth() : provider === 'VERTEX' ? googleAdcAuth() : undefined;
    return aCredentialInput({ modelProvider: provider, ...(auth ? { auth } : {}), name: `crowded-${String(index).padStart(3, '0')}` });
  });
  crowdedIds = (await createMany(crowded, inputs)).map((created) => created.id);
});

afterAll(async () => {
  await vault?.stop();
  await database?.drop();
});

test('an organization without credentials lists nothing', async () => {
  const empty = await anAdmin(vault).listed();

  expect(empty).toEqual({ edges: [], pageInfo: { hasNextPage: false, endCursor: null }, totalCount: 0 });
});

test('first defaults to 50', async () => {
  const page = await crowded.listed();

  expect(page.edges).toHaveLength(50);
  expect(page.pageInfo.hasNextPage).toBe(true);
});

test.each([101, 1000])('first: %i is capped at 100 edges', async (first) => {
  const page = await crowded.listed({ first });

  expect(page.edges).toHaveLength(100);
  expect(page.pageInfo.hasNextPage).toBe(true);
  expect(page.totalCount).toBe(CROWDED_SIZE);
});

test('totalCount counts every match across pages, not the page', async () => {
  const page = await crowded.listed({ first: 3 });

  expect(page.edges).toHaveLength(3);
  expect(page.totalCount).toBe(CROWDED_SIZE);
});

test('first: 0 returns no edges and still the totalCount', async () => {
  const page = await crowded.listed({ first: 0 });

  expect(page.edges).toEqual([]);
  expect(page.totalCount).toBe(CROWDED_SIZE);
});

test('walking pages with first/after visits every credential exactly once, in creation order', async () => {
  const { nodes, pages } = await walk(crowded, { first: 7 });

  const ids = nodes.map((node) => node.id);
  expect(ids).toHaveLength(CROWDED_SIZE);
  expect(new Set(ids)).toEqual(new Set(crowdedIds));
  expect(pages).toHaveLength(Math.ceil(CROWDED_SIZE / 7));
  for (const page of pages) {
    expect(page.totalCount).toBe(CROWDED_SIZE);
    expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)!.cursor);
  }
  const created = nodes.map((node) => Date.parse(node.createdAt));
  expect(created).toEqual([...created].sort((a, b) => a - b));
});

test('the order does not depend on the page size', async () => {
  const [small, large] = await Promise.all([walk(crowded, { first: 11 }), walk(crowded, { first: 100 })]);

  expect(small.nodes.map((node) => node.id)).toEqual(large.nodes.map((node) => node.id));
});

test('a cursor stays valid across inserts: the newcomer comes last, nothing twice, nothing skipped', async () => {
  const client = anAdmin(vault);
  const before = await createMany(
    client,
    Array.from({ length: 6 }, () => aCredentialInput()),
  );
  const firstPage = await client.listed({ first: 4 });
  await sleep(5);
  const newcomer = await client.created(aCredentialInput());

  const rest = await walk(client, { first: 4, after: firstPage.pageInfo.endCursor });

  const seen = [...firstPage.edges.map((edge) => edge.node.id), ...rest.nodes.map((node) => node.id)];
  expect(seen).toHaveLength(before.length + 1);
  expect(new Set(seen)).toEqual(new Set([...before.map((c) => c.id), newcomer.id]));
  expect(seen.at(-1)).toBe(newcomer.id);
});

test('modelProvider filters the edges and the totalCount', async () => {
  const { nodes, pages } = await walk(crowded, { first: 10, modelProvider: 'BEDROCK' });

  expect(nodes).toHaveLength(BEDROCK_IN_CROWDED);
  expect(new Set(nodes.map((node) => node.id)).size).toBe(BEDROCK_IN_CROWDED);
  expect(nodes.every((node) => node.modelProvider === 'BEDROCK')).toBe(true);
  expect(pages.every((page) => page.totalCount === BEDROCK_IN_CROWDED)).toBe(true);
});

test('a filter that matches nothing lists nothing', async () => {
  expect(await crowded.listed({ modelProvider: 'MISTRAL' })).toEqual({
    edges: [],
    pageInfo: { hasNextPage: false, endCursor: null },
    totalCount: 0,
  });
});

test.each([
  ['not base64 JSON', 'not-a-cursor'],
  ['a JSON array', base64urlJson([])],
  ['no timestamp', base64urlJson({ i: randomUUID() })],
  ['an invalid timestamp', base64urlJson({ t: 'yesterday', i: randomUUID() })],
  ['an id that is not a UUID', base64urlJson({ t: new Date().toISOString(), i: 'credential-1' })],
])('an after cursor with %s is BAD_USER_INPUT on after', async (_label, after) => {
  const response = await crowded.list({ first: 5, after });

  expectBadUserInput(response, 'after');
  expect(response.body.data).toBeNull();
});

test('a negative first is BAD_USER_INPUT on first', async () => {
  expectBadUserInput(await crowded.list({ first: -1 }), 'first');
});

test('a first beyond 32 bits is BAD_USER_INPUT on first', async () => {
  expectBadUserInput(await crowded.list({ first: 2 ** 31 }), 'first');
});
