// The vault as a Federation 2 subgraph in a real supergraph: composed with a second subgraph
// (organizations, whose Organization.primaryCredential references the vault's Credential entity)
// by @apollo/composition, served by @apollo/gateway on loopback, the caller's Authorization
// header forwarded to every subgraph.
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
} from '../support/federation-harness';
import { anAdmin, anOrganization } from '../support/organizations';
import { aProviderInput } from '../support/provider-client';
import { startTestApp, type TestApp } from '../support/test-app';
import { wronglySignedToken } from '../support/tokens';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { type CredentialView, dataOf, expectError } from '../support/vault-client';

let database: TestDatabase;
let vault: TestApp;
let organizations: RunningSubgraph;
let composition: CompositionResult;
let gateway: RunningGateway | undefined;

const records = new Map<string, OrganizationRecord>();
const orgA = randomUUID();
const orgB = randomUUID();
let tokenA: string;
let credentialA: CredentialView;
let credentialB: CredentialView;

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
  await adminA.providers.created(aProviderInput(credentialA.id, { modelProvider: 'BEDROCK', name: 'bedrock-us' }));
  await adminA.providers.created(aProviderInput(credentialA.id, { modelProvider: 'BEDROCK', name: 'bedrock-eu' }));
  credentialB = await anOrganization(vault, orgB).admin.created(aCredentialInput({ modelProvider: 'OPENAI', name: 'openai-of-b' }));

  records.set('acme', { id: 'acme', name: 'Acme', primaryCredentialId: credentialA.id });
  records.set('misconfigured', { id: 'misconfigured', name: 'Acme (points at B)', primaryCredentialId: credentialB.id });
  records.set('dangling', { id: 'dangling', name: 'Acme (dangling)', primaryCredentialId: randomUUID() });

  const vaultSdl = await fetchSubgraphSdl(vault.url);
  composition = composeSupergraph([{ name: 'vault', url: vault.url, typeDefs: parse(vaultSdl) }, organizations]);
  if (composition.supergraphSdl) gateway = await startGateway(composition.supergraphSdl);
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
  await organizations?.stop();
  await vault?.stop();
  await database?.drop();
});

describe('composition', () => {
  test('the vault and the organizations subgraph compose without errors', () => {
    expect(composition.errors?.map((error) => error.message)).toBeUndefined();
    expect(composition.supergraphSdl).toEqual(expect.stringContaining('type Organization'));
  });

  test('the supergraph knows Credential as an entity of both subgraphs, resolvable only in the vault', () => {
    const sdl = composition.supergraphSdl ?? '';
    expect(sdl).toMatch(
      /type Credential\s+@join__type\(graph: ORGANIZATIONS, key: "id", resolvable: false\)\s+@join__type\(graph: VAULT, key: "id"\)/,
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

    expect(dataOf(response).credentials.edges.map((edge) => edge.node.id)).toEqual([credentialA.id]);
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

  // The supergraph does not carry @oneOf (composition drops the directive), so the gateway
  // forwards the operation and the vault enforces it. The vault answers such request-level
  // errors with HTTP 400, which @apollo/gateway's RemoteGraphQLDataSource turns into its own
  // "400: Bad Request" error, code INTERNAL_SERVER_ERROR, with the vault's body and URL nested in
  // extensions.response. These two tests state what a client should see.
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
