// A `credentials` page reads the columns of the fields its selection shows of the nodes, and no
// other: every column read costs on every row of the page. So does Credential.providers for the
// providers. Fragments count; the answers are those of a full read, and nested fields that load
// credentials on their own still get whole ones.
import { aCredentialInput, apiKeyAuth, awsRoleAuth } from '../support/factories';
import { anAdmin, type Member } from '../support/organizations';
import { aProviderInput, PROVIDER_FIELDS } from '../support/provider-client';
import { columnsRead } from '../support/sql-selections';
import { startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { dataOf } from '../support/vault-client';

/** Every field of the Credential type but `providers`. */
const ALL_FIELDS = `id organizationId name modelProvider authType baseUrl settings keyLast4 storesKeyMaterial secretVersion
  secretRotatedAt createdAt updatedAt createdBy updatedBy lastChangeNote lastUsedAt`;

/** Every column of the providers table. */
const PROVIDER_COLUMNS = [
  'id',
  'organization_id',
  'name',
  'name_key',
  'model_provider',
  'credential_id',
  'oauth_passthrough',
  'settings',
  'created_at',
  'created_by',
  'updated_at',
  'updated_by',
  'revision',
  'seq',
];

/** Columns of the credentials table no field of the selections below needs. */
const UNSELECTED_COLUMNS = ['base_url', 'settings', 'auth_parameters', 'created_at', 'updated_at', 'created_by', 'change_note', 'revision'];

let database: TestDatabase;
let vault: TestApp;
let admin: Member;
/** Statements seen while a request is being measured; null otherwise. */
let recording: string[] | null = null;

interface Page {
  credentials: { edges: { node: Record<string, unknown> }[] };
}

async function measured(query: string): Promise<{ data: Page; pageStatement: string; providersStatement?: string }> {
  recording = [];
  try {
    const data = dataOf(await vault.graphql<Page>(query, {}, { token: admin.token }));
    const pageStatement = recording.find((sql) => /^SELECT .* FROM "public"\."credentials" .*ORDER BY/s.test(sql));
    if (!pageStatement) throw new Error(`no page statement among ${recording.length}`);
    const providersStatement = recording.find((sql) => /^SELECT .* FROM "public"\."providers" /s.test(sql));
    return { data, pageStatement, providersStatement };
  } finally {
    recording = null;
  }
}

beforeAll(async () => {
  database = await createTestDatabase('list_columns');
  vault = await startTestApp({ databaseUrl: database.url });
  vault.app.database.prisma.$on('query', (event) => {
    recording?.push(event.query);
  });
  admin = anAdmin(vault);
  const first = await admin.created(aCredentialInput({ modelProvider: 'OPENAI', auth: apiKeyAuth(), changeNote: 'first' }));
  await admin.created(aCredentialInput({ modelProvider: 'BEDROCK', auth: awsRoleAuth(), settings: { region: 'eu-west-1' } }));
  await admin.providers.created(aProviderInput(first.id));
});

afterAll(async () => {
  await vault?.stop();
  await database?.drop();
});

test('a page of ids and names reads the id, organization, seq and name columns only', async () => {
  const { data, pageStatement } = await measured('{ credentials { edges { node { id name } } } }');

  expect(data.credentials.edges).toHaveLength(2);
  expect(columnsRead(pageStatement, ['id', 'organization_id', 'seq', 'name', ...UNSELECTED_COLUMNS])).toEqual([
    'id',
    'organization_id',
    'seq',
    'name',
  ]);
});

test('fields selected through fragments, inline fragments and aliases are read, and only those', async () => {
  const { pageStatement } = await measured(`
    query Listed { credentials { ...Page } }
    fragment Page on CredentialConnection { edges { node { ... on Credential { label: name } ...More } } }
    fragment More on Credential { keyLast4 lastUsedAt providers { id } }`);

  expect(columnsRead(pageStatement, ['name', 'key_last4', 'last_used_at', ...UNSELECTED_COLUMNS])).toEqual([
    'name',
    'key_last4',
    'last_used_at',
  ]);
});

test("a credential's providers are read for the fields shown of them: their id, organization and credential always", async () => {
  const { data, providersStatement } = await measured('{ credentials { edges { node { id providers { id name } } } } }');

  expect(data.credentials.edges.flatMap((edge) => edge.node.providers as unknown[])).toEqual([
    { id: expect.any(String), name: expect.any(String) },
  ]);
  expect(columnsRead(providersStatement ?? '', PROVIDER_COLUMNS)).toEqual(['id', 'organization_id', 'name', 'credential_id']);
});

test('every field a page shows of its credentials and their providers equals that of each read alone', async () => {
  const providerFields = `${PROVIDER_FIELDS} updatedAt`;
  const { data } = await measured(`{ credentials { edges { node { ${ALL_FIELDS} providers { ${providerFields} } } } } }`);

  const providers = data.credentials.edges.flatMap((edge) => edge.node.providers as { id: string }[]);
  expect(providers).toHaveLength(1);
  for (const { node } of data.credentials.edges) {
    const { providers: listed, ...credential } = node;
    const alone = dataOf(
      await vault.graphql<{ credential: Record<string, unknown> }>(
        `query One($id: ID!) { credential(id: $id) { ${ALL_FIELDS} } }`,
        { id: node.id },
        { token: admin.token },
      ),
    ).credential;
    expect(credential).toEqual(alone);
    for (const provider of listed as { id: string }[]) {
      const read = dataOf(
        await vault.graphql<{ provider: unknown }>(
          `query One($id: ID!) { provider(id: $id) { ${providerFields} } }`,
          { id: provider.id },
          { token: admin.token },
        ),
      ).provider;
      expect(provider).toEqual(read);
    }
  }
});

test("a page of ids still answers its providers' whole credentials and auth types", async () => {
  const { data } = await measured(
    '{ credentials { edges { node { id providers { authType credential { id name baseUrl settings createdBy lastChangeNote } } } } } }',
  );

  const withProvider = data.credentials.edges.map((edge) => edge.node).find((node) => (node.providers as unknown[]).length > 0);
  expect(withProvider?.providers).toEqual([
    {
      authType: 'API_KEY',
      credential: {
        id: withProvider?.id,
        name: expect.any(String),
        baseUrl: 'https://api.openai.com/v1',
        settings: {},
        createdBy: 'test-user',
        lastChangeNote: 'first',
      },
    },
  ]);
});
