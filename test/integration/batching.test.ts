// No N+1: nested Credential.providers and Provider.credential go through per-request DataLoaders,
// so a page of 100 credentials with 300 providers costs the same few SQL statements as a page of
// 10. Statements are counted with Prisma's query events, only while one request is in flight.
import { aCredentialInput } from '../support/factories';
import { aProviderInput, type CreateProviderInput } from '../support/provider-client';
import { anAdmin } from '../support/organizations';
import { startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { dataOf, mutateInBulk, type VaultClient } from '../support/vault-client';

const MAX_STATEMENTS = 4;
const PROVIDERS_PER_CREDENTIAL = 3;

let database: TestDatabase;
let vault: TestApp;
/** Statements seen while a request is being measured; null otherwise. */
let recording: string[] | null = null;

/** An organization with `size` credentials, each backing PROVIDERS_PER_CREDENTIAL providers. */
let large: VaultClient;
let small: VaultClient;

const CREDENTIALS_WITH_PROVIDERS = `query Nested {
  credentials(first: 100) { edges { node { id providers { id credential { id } } } } }
}`;

const PROVIDERS_WITH_CREDENTIALS = `query Nested {
  providers(first: 100) { edges { node { id authType credential { id providers { id } } } } }
}`;

interface CredentialsData {
  credentials: { edges: { node: { id: string; providers: { id: string; credential: { id: string } }[] } }[] };
}

interface ProvidersData {
  providers: { edges: { node: { id: string; authType: string; credential: { id: string; providers: { id: string }[] } } }[] };
}

async function seedOrganization(size: number): Promise<VaultClient> {
  const client = anAdmin(vault);
  const credentials = await mutateInBulk(vault, client.token, {
    field: 'createCredential',
    inputType: 'CreateCredentialInput',
    inputs: Array.from({ length: size }, (_, index) =>
      aCredentialInput({ modelProvider: 'OPENAI', name: `batch-${String(index).padStart(3, '0')}` }),
    ),
  });
  const providers: CreateProviderInput[] = credentials.flatMap((credential, index) =>
    Array.from({ length: PROVIDERS_PER_CREDENTIAL }, (_, copy) => aProviderInput(credential.id, { name: `route-${index}-${copy}` })),
  );
  await mutateInBulk(vault, client.token, {
    field: 'createProvider',
    inputType: 'CreateProviderInput',
    inputs: providers,
  });
  return client;
}

/** The response to `query`, and every SQL statement issued while it ran. */
async function measured<Data>(client: VaultClient, query: string): Promise<{ data: Data; statements: string[] }> {
  recording = [];
  try {
    const response = await vault.graphql<Data>(query, {}, { token: client.token });
    return { data: dataOf(response), statements: recording };
  } finally {
    recording = null;
  }
}

beforeAll(async () => {
  database = await createTestDatabase('batching');
  vault = await startTestApp({ databaseUrl: database.url });
  vault.app.database.prisma.$on('query', (event) => {
    recording?.push(event.query);
  });
  large = await seedOrganization(100);
  small = await seedOrganization(10);
}, 120_000);

afterAll(async () => {
  await vault?.stop();
  await database?.drop();
});

describe('credentials(first: 100) { providers { credential } }', () => {
  test('over 100 credentials and 300 providers returns every provider under its credential', async () => {
    const { data } = await measured<CredentialsData>(large, CREDENTIALS_WITH_PROVIDERS);

    expect(data.credentials.edges).toHaveLength(100);
    for (const { node } of data.credentials.edges) {
      expect(node.providers).toHaveLength(PROVIDERS_PER_CREDENTIAL);
      expect(node.providers.every((provider) => provider.credential.id === node.id)).toBe(true);
    }
  });

  test(`over 100 credentials and 300 providers issues at most ${MAX_STATEMENTS} SQL statements`, async () => {
    const { statements } = await measured<CredentialsData>(large, CREDENTIALS_WITH_PROVIDERS);

    // At least the page itself is read: the counter does see this request's statements.
    expect(statements.length).toBeGreaterThan(0);
    expect(statements.length).toBeLessThanOrEqual(MAX_STATEMENTS);
  });

  test('issues as many statements for 100 credentials as for 10', async () => {
    const many = await measured<CredentialsData>(large, CREDENTIALS_WITH_PROVIDERS);
    const few = await measured<CredentialsData>(small, CREDENTIALS_WITH_PROVIDERS);

    expect(few.data.credentials.edges).toHaveLength(10);
    expect(many.statements.length).toBe(few.statements.length);
  });
});

describe('providers(first: 100) { credential { providers } authType }', () => {
  test('over 300 providers returns each provider with its credential, auth type and sibling providers', async () => {
    const { data } = await measured<ProvidersData>(large, PROVIDERS_WITH_CREDENTIALS);

    expect(data.providers.edges).toHaveLength(100);
    for (const { node } of data.providers.edges) {
      expect(node.authType).toBe('API_KEY');
      expect(node.credential.providers).toHaveLength(PROVIDERS_PER_CREDENTIAL);
      expect(node.credential.providers.map((provider) => provider.id)).toContain(node.id);
    }
  });

  test(`over 300 providers issues at most ${MAX_STATEMENTS} SQL statements`, async () => {
    const { statements } = await measured<ProvidersData>(large, PROVIDERS_WITH_CREDENTIALS);

    expect(statements.length).toBeGreaterThan(0);
    expect(statements.length).toBeLessThanOrEqual(MAX_STATEMENTS);
  });

  test('issues as many statements for 100 providers as for 30', async () => {
    const many = await measured<ProvidersData>(large, PROVIDERS_WITH_CREDENTIALS);
    const few = await measured<ProvidersData>(small, PROVIDERS_WITH_CREDENTIALS);

    expect(few.data.providers.edges).toHaveLength(30);
    expect(many.statements.length).toBe(few.statements.length);
  });
});
