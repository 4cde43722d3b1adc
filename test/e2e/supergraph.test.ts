// The vault as a Federation 2 subgraph in a real supergraph: composed with two neighbours by
// @apollo/composition, served by @apollo/gateway on loopback, the caller's Authorization header
// forwarded to every subgraph. One neighbour (organizations) references the vault's Credential
// entity; the other (usage) is a Relay-style subgraph with its own PageInfo, its own paginated
// Usage entity referencing Credential and Provider, and its own CredentialConnection: the shared
// value types compose because both sides mark them @shareable with the same fields.
import { randomUUID } from 'node:crypto';
import type { CompositionResult } from '@apollo/composition';
import { parse } from 'graphql';
import { aCredentialInput, apiKeyAuth, awsRoleAuth } from '../support/factories';
import {
  composeSupergraph,
  fetchSubgraphSdl,
  type OrganizationRecord,
  type RunningGateway,
  type RunningSubgraph,
  startGateway,
  startOrganizationsSubgraph,
  startUsageSubgraph,
  type UsageRecord,
  usageCursor,
} from '../support/federation-harness';
import { anAdmin, anOrganization } from '../support/organizations';
import { aProviderInput, type ProviderView } from '../support/provider-client';
import { startTestApp, type TestApp } from '../support/test-app';
import { wronglySignedToken } from '../support/tokens';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { type CredentialView, dataOf, expectError } from '../support/vault-client';

let database: TestDatabase;
let vault: TestApp;
let organizations: RunningSubgraph;
let usage: RunningSubgraph;
let composition: CompositionResult;
let gateway: RunningGateway | undefined;

const records = new Map<string, OrganizationRecord>();
const usageRecords: UsageRecord[] = [];
const orgA = randomUUID();
const orgB = randomUUID();
let tokenA: string;
let credentialA: CredentialView;
let credentialA2: CredentialView;
let credentialB: CredentialView;
let providerUs: ProviderView;
let providerEu: ProviderView;

const ORGANIZATION_WITH_CREDENTIAL = `query Organization($id: ID!) {
  organization(id: $id) {
    id
    name
    primaryCredential { id name authType providers { name } }
  }
}`;

const CREATE_CREDENTIAL = `mutation Create($input: CreateCredentialInput!) {
  createCredential(input: $input) { id organizationId name authType }
}`;

function throughGateway(): RunningGateway {
  if (!gateway)
    throw new Error(`no gateway: composition failed with ${JSON.stringify(composition?.errors?.map((error) => error.message))}`);
  return gateway;
}

beforeAll(async () => {
  database = await createTestDatabase('supergraph');
  vault = await startTestApp({ databaseUrl: database.url });
  organizations = await startOrganizationsSubgraph(records);

  const adminA = anOrganization(vault, orgA).admin;
  tokenA = adminA.token;
  credentialA = await adminA.created(aCredentialInput({ modelProvider: 'BEDROCK', auth: awsRoleAuth(), name: 'bedrock-prod' }));
  providerUs = await adminA.providers.created(aProviderInput(credentialA.id, { modelProvider: 'BEDROCK', name: 'bedrock-us' }));
  providerEu = await adminA.providers.created(aProviderInput(credentialA.id, { modelProvider: 'BEDROCK', name: 'bedrock-eu' }));
  credentialA2 = await adminA.created(aCredentialInput({ modelProvider: 'OPENAI', name: 'openai-staging' }));
  credentialB = await anOrganization(vault, orgB).admin.created(aCredentialInput({ modelProvider: 'OPENAI', name: 'openai-of-b' }));

  records.set('acme', { id: 'acme', name: 'Acme', primaryCredentialId: credentialA.id });
  records.set('misconfigured', { id: 'misconfigured', name: 'Acme (points at B)', primaryCredentialId: credentialB.id });
  records.set('dangling', { id: 'dangling', name: 'Acme (dangling)', primaryCredentialId: randomUUID() });
  usageRecords.push(
    { id: 'usage-1', requests: 120, credentialId: credentialA.id, providerId: providerUs.id },
    { id: 'usage-2', requests: 30, credentialId: credentialA2.id, providerId: null },
    { id: 'usage-3', requests: 80, credentialId: credentialA.id, providerId: providerEu.id },
  );
  usage = await startUsageSubgraph(usageRecords);

  const vaultSdl = await fetchSubgraphSdl(vault.url);
  composition = composeSupergraph([{ name: 'vault', url: vault.url, typeDefs: parse(vaultSdl) }, organizations, usage]);
  if (composition.supergraphSdl) gateway = await startGateway(composition.supergraphSdl);
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
  await organizations?.stop();
  await usage?.stop();
  await vault?.stop();
  await database?.drop();
});

describe('composition', () => {
  test('the vault composes without errors with the organizations subgraph and with a Relay subgraph that has its own PageInfo', () => {
    expect(composition.errors?.map((error) => error.message)).toBeUndefined();
    expect(composition.supergraphSdl).toEqual(expect.stringContaining('type Organization'));
    expect(composition.supergraphSdl).toEqual(expect.stringContaining('type UsageConnection'));
  });

  test.each(['PageInfo', 'CredentialConnection', 'CredentialEdge'])(
    '%s is a value type both the vault and the usage subgraph resolve',
    (typeName) => {
      expect(composition.supergraphSdl ?? '').toMatch(
        new RegExp(`type ${typeName}\\s+@join__type\\(graph: USAGE\\)\\s+@join__type\\(graph: VAULT\\)`),
      );
    },
  );

  test('the supergraph knows Credential as an entity of every subgraph, resolvable only in the vault', () => {
    const sdl = composition.supergraphSdl ?? '';
    expect(sdl).toMatch(
      /type Credential\s+@join__type\(graph: ORGANIZATIONS, key: "id", resolvable: false\)\s+@join__type\(graph: USAGE, key: "id", resolvable: false\)\s+@join__type\(graph: VAULT, key: "id"\)/,
    );
  });
});

describe('queries through the gateway', () => {
  test("a query crossing both subgraphs returns the organization with its primary credential and that credential's providers", async () => {
    const response = await throughGateway().graphql(ORGANIZATION_WITH_CREDENTIAL, { id: 'acme' }, { token: tokenA });

    expect(response.body).toEqual({
      data: {
        organization: {
          id: 'acme',
          name: 'Acme',
          primaryCredential: {
            id: credentialA.id,
            name: 'bedrock-prod',
            authType: 'AWS_ROLE',
            providers: [{ name: 'bedrock-us' }, { name: 'bedrock-eu' }],
          },
        },
      },
    });
  });

  test('a credential id of another organization resolves to null, exactly like one that names nothing', async () => {
    const foreign = await throughGateway().graphql(ORGANIZATION_WITH_CREDENTIAL, { id: 'misconfigured' }, { token: tokenA });
    const dangling = await throughGateway().graphql(ORGANIZATION_WITH_CREDENTIAL, { id: 'dangling' }, { token: tokenA });

    expect(foreign.body.errors).toBeUndefined();
    expect(foreign.body.data).toEqual({ organization: { id: 'misconfigured', name: 'Acme (points at B)', primaryCredential: null } });
    // The gateway notes the null entity the same way for both (extensions.valueCompletion).
    expect(foreign.body.extensions).toEqual(dangling.body.extensions);
    expect(foreign.text).not.toContain(credentialB.name);
  });

  test("the vault's own _entities answers null, without an error, for another organization's credential", async () => {
    const response = await vault.graphql(
      'query($representations: [_Any!]!) { _entities(representations: $representations) { ... on Credential { id name } } }',
      {
        representations: [
          { __typename: 'Credential', id: credentialB.id },
          { __typename: 'Credential', id: credentialA.id },
        ],
      },
      { token: tokenA },
    );

    expect(response.body).toEqual({ data: { _entities: [null, { id: credentialA.id, name: 'bedrock-prod' }] } });
  });

  test("the credential's owner does resolve it through the same entity reference", async () => {
    const tokenB = anOrganization(vault, orgB).viewer.token;

    const response = await throughGateway().graphql(ORGANIZATION_WITH_CREDENTIAL, { id: 'misconfigured' }, { token: tokenB });

    expect(response.body.data?.organization).toMatchObject({ primaryCredential: { id: credentialB.id, name: 'openai-of-b' } });
  });

  test('vault root fields are served through the gateway, scoped to the caller', async () => {
    const response = await throughGateway().graphql<{ credentials: { totalCount: number; edges: { node: { id: string } }[] } }>(
      '{ credentials { totalCount edges { node { id } } } }',
      {},
      { token: tokenA },
    );

    expect(dataOf(response).credentials.edges.map((edge) => edge.node.id)).toEqual([credentialA.id, credentialA2.id]);
  });
});

describe('Relay lists of both subgraphs through the gateway', () => {
  const PAGE_INFO = 'pageInfo { hasNextPage hasPreviousPage startCursor endCursor }';

  interface PageInfoView {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  }

  interface ListView<Node> {
    totalCount: number;
    edges: { cursor: string; node: Node }[];
    pageInfo: PageInfoView;
  }

  test("the usage subgraph's entities resolve their credential and provider from the vault", async () => {
    const response = await throughGateway().graphql<{
      usages: ListView<{ id: string; requests: number; credential: { name: string; authType: string }; provider: { name: string } | null }>;
    }>(`{ usages { totalCount edges { node { id requests credential { name authType } provider { name } } } } }`, {}, { token: tokenA });

    expect(dataOf(response).usages.totalCount).toBe(3);
    expect(dataOf(response).usages.edges.map((edge) => edge.node)).toEqual([
      { id: 'usage-1', requests: 120, credential: { name: 'bedrock-prod', authType: 'AWS_ROLE' }, provider: { name: 'bedrock-us' } },
      { id: 'usage-2', requests: 30, credential: { name: 'openai-staging', authType: 'API_KEY' }, provider: null },
      { id: 'usage-3', requests: 80, credential: { name: 'bedrock-prod', authType: 'AWS_ROLE' }, provider: { name: 'bedrock-eu' } },
    ]);
  });

  test("the vault's providers page through the gateway with the four fields of Relay's PageInfo", async () => {
    const PROVIDERS = `query($after: String) { providers(first: 1, after: $after) { edges { cursor node { name } } ${PAGE_INFO} } }`;

    const first = dataOf(await throughGateway().graphql<{ providers: ListView<{ name: string }> }>(PROVIDERS, {}, { token: tokenA }));
    const cursor = first.providers.edges[0].cursor;
    const second = dataOf(
      await throughGateway().graphql<{ providers: ListView<{ name: string }> }>(PROVIDERS, { after: cursor }, { token: tokenA }),
    );

    expect(first.providers.edges.map((edge) => edge.node.name)).toEqual(['bedrock-us']);
    expect(first.providers.pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: false, startCursor: cursor, endCursor: cursor });
    expect(second.providers.edges.map((edge) => edge.node.name)).toEqual(['bedrock-eu']);
    expect(second.providers.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: false });
  });

  test("one operation reads both subgraphs' lists, each PageInfo from the subgraph that returned it", async () => {
    const response = await throughGateway().graphql<{ providers: ListView<never>; usages: ListView<never> }>(
      `{ providers(first: 1) { ${PAGE_INFO} } usages(first: 2) { ${PAGE_INFO} } }`,
      {},
      { token: tokenA },
    );

    const { providers, usages } = dataOf(response);
    expect(usages.pageInfo).toEqual({
      hasNextPage: true,
      hasPreviousPage: false,
      startCursor: usageCursor('usage', 0),
      endCursor: usageCursor('usage', 1),
    });
    expect(providers.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    expect(providers.pageInfo.endCursor).not.toMatch(/^usage:/);
    const nextProviders = await throughGateway().graphql<{ providers: ListView<{ name: string }> }>(
      'query($after: String) { providers(first: 1, after: $after) { edges { node { name } } } }',
      { after: providers.pageInfo.endCursor },
      { token: tokenA },
    );
    expect(dataOf(nextProviders).providers.edges.map((edge) => edge.node.name)).toEqual(['bedrock-eu']);
  });

  test("the usage subgraph's own CredentialConnection ranks the vault's credentials, their fields resolved by the vault", async () => {
    const RANKED = `query($after: String) {
      mostUsedCredentials(first: 1, after: $after) { totalCount edges { cursor node { id name modelProvider } } ${PAGE_INFO} }
    }`;

    const first = dataOf(
      await throughGateway().graphql<{ mostUsedCredentials: ListView<{ id: string; name: string }> }>(RANKED, {}, { token: tokenA }),
    );
    const second = dataOf(
      await throughGateway().graphql<{ mostUsedCredentials: ListView<{ id: string; name: string }> }>(
        RANKED,
        { after: first.mostUsedCredentials.pageInfo.endCursor },
        { token: tokenA },
      ),
    );

    expect(first.mostUsedCredentials.totalCount).toBe(2);
    expect(first.mostUsedCredentials.edges).toEqual([
      { cursor: usageCursor('rank', 0), node: { id: credentialA.id, name: 'bedrock-prod', modelProvider: 'BEDROCK' } },
    ]);
    expect(first.mostUsedCredentials.pageInfo).toMatchObject({ hasNextPage: true, endCursor: usageCursor('rank', 0) });
    expect(second.mostUsedCredentials.edges.map((edge) => edge.node.name)).toEqual(['openai-staging']);
    expect(second.mostUsedCredentials.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
  });
});

describe('mutations through the gateway', () => {
  test("createCredential carries the caller's token to the vault: the credential lands in the caller's organization", async () => {
    const adminC = anAdmin(vault);

    const response = await throughGateway().graphql<{ createCredential: { id: string; organizationId: string } }>(
      CREATE_CREDENTIAL,
      { input: aCredentialInput({ name: 'via-gateway' }) },
      { token: adminC.token },
    );

    const created = dataOf(response).createCredential;
    expect(created.organizationId).toBe(adminC.orgId);
    expect((await adminC.read(created.id)).name).toBe('via-gateway');
  });

  test("a resolver's BAD_USER_INPUT passes through the gateway with its code and field", async () => {
    const response = await throughGateway().graphql(CREATE_CREDENTIAL, { input: aCredentialInput({ name: '   ' }) }, { token: tokenA });

    const errors = response.body.errors ?? [];
    expect(errors.map((error) => ({ code: error.extensions?.code, field: error.extensions?.field }))).toEqual([
      { code: 'BAD_USER_INPUT', field: 'input.name' },
    ]);
  });

  // The supergraph's API schema has no @oneOf (README, "Federation": composition drops the
  // directive, and the gateway's API schema would drop it even if composed), so the gateway
  // forwards the operation and the vault enforces the rule. The vault answers with HTTP 200 and a
  // BAD_USER_INPUT error, which the gateway passes through as it is.
  test('two auth members in variables come back as BAD_USER_INPUT saying exactly one member is allowed', async () => {
    const input = aCredentialInput({ name: 'two-members-var', auth: { ...apiKeyAuth(), ...awsRoleAuth() } });

    const response = await throughGateway().graphql(CREATE_CREDENTIAL, { input }, { token: tokenA });

    const errors = response.body.errors ?? [];
    expect(errors.map((error) => ({ code: error.extensions?.code, message: error.message }))).toEqual([
      { code: 'BAD_USER_INPUT', message: expect.stringMatching(/exactly one|OneOf/i) },
    ]);
    expect(await countCredentialsNamed('two-members-var')).toBe(0);
  });

  test('two auth members as a literal come back as BAD_USER_INPUT saying exactly one member is allowed', async () => {
    const response = await throughGateway().graphql(
      `mutation {
        createCredential(input: {
          name: "two-members-literal", modelProvider: OPENAI,
          auth: { apiKey: { apiKey: "sk-test-0123456789abcdef" }, awsRole: { iamRoleArn: "arn:aws:iam::123456789012:role/x", externalId: "ext-1" } }
        }) { id }
      }`,
      {},
      { token: tokenA },
    );

    const errors = response.body.errors ?? [];
    expect(errors.map((error) => ({ code: error.extensions?.code, message: error.message }))).toEqual([
      { code: 'BAD_USER_INPUT', message: expect.stringMatching(/exactly one|OneOf/i) },
    ]);
    expect(await countCredentialsNamed('two-members-literal')).toBe(0);
  });
});

describe('authentication through the gateway', () => {
  test('a vault field without a token is UNAUTHENTICATED', async () => {
    const response = await throughGateway().graphql('{ credentials { totalCount } }');

    expectError(response, { code: 'UNAUTHENTICATED' });
    expect(response.body.data ?? null).toBeNull();
  });

  test('a token signed with another secret is UNAUTHENTICATED', async () => {
    const response = await throughGateway().graphql('{ credentials { totalCount } }', {}, { token: wronglySignedToken({ orgId: orgA }) });

    expectError(response, { code: 'UNAUTHENTICATED' });
  });

  test('the cross-subgraph query without a token yields UNAUTHENTICATED and no credential data', async () => {
    const response = await throughGateway().graphql(ORGANIZATION_WITH_CREDENTIAL, { id: 'acme' });

    expect((response.body.errors ?? []).map((error) => error.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    expect(response.body.data?.organization ?? null).toEqual({ id: 'acme', name: 'Acme', primaryCredential: null });
    expect(response.text).not.toContain(credentialA.name);
  });
});

async function countCredentialsNamed(name: string): Promise<number> {
  const [row] = await database.query<{ count: number }>('SELECT count(*)::int AS count FROM credentials WHERE name = $1', [name]);
  return row.count;
}
