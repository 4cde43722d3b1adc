// The contract's provider (route) operations as GraphQL documents and a per-caller client over
// the real HTTP endpoint, in the style of vault-client.ts.
import type { AuthType, ModelProvider } from './factories';
import { uniqueName } from './factories';
import type { GraphQLResponse, TestApp } from './test-app';
import type { TestDatabase } from './test-database';
import { dataOf } from './vault-client';

export const PROVIDER_FIELDS = `
  id organizationId name modelProvider authType settings createdAt
  credential { id name modelProvider authType }`;

export const CREATE_PROVIDER = `mutation CreateProvider($input: CreateProviderInput!) {
  createProvider(input: $input) { ${PROVIDER_FIELDS} }
}`;

export const UPDATE_PROVIDER = `mutation UpdateProvider($id: ID!, $input: UpdateProviderInput!) {
  updateProvider(id: $id, input: $input) { ${PROVIDER_FIELDS} updatedAt }
}`;

export const DELETE_PROVIDER = `mutation DeleteProvider($id: ID!) { deleteProvider(id: $id) }`;

export const GET_PROVIDER = `query Provider($id: ID!) { provider(id: $id) { ${PROVIDER_FIELDS} } }`;

export const LIST_PROVIDERS = `query Providers($first: Int, $after: String) {
  providers(first: $first, after: $after) {
    edges { cursor node { ${PROVIDER_FIELDS} } }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
}`;

export const CREDENTIAL_PROVIDERS = `query CredentialProviders($id: ID!) {
  credential(id: $id) { id providers { id name authType credential { id } } }
}`;

export interface CreateProviderInput {
  name: string;
  modelProvider: ModelProvider;
  credentialId?: string | null;
  oauthPassthrough?: boolean | null;
  settings?: Record<string, unknown> | null;
}

export interface UpdateProviderInput {
  name?: string | null;
  settings?: Record<string, unknown> | null;
  credentialId?: string | null;
  oauthPassthrough?: boolean | null;
}

export interface ProviderView {
  id: string;
  organizationId: string;
  name: string;
  modelProvider: ModelProvider;
  authType: AuthType;
  settings: Record<string, unknown>;
  createdAt: string;
  credential: { id: string; name: string; modelProvider: ModelProvider; authType: AuthType } | null;
}

export interface ProviderConnectionView {
  edges: { cursor: string; node: ProviderView }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: number;
}

export interface ProviderClient {
  token: string;
  create(input: CreateProviderInput | Record<string, unknown>): Promise<GraphQLResponse<{ createProvider: ProviderView }>>;
  update(
    id: string,
    input: UpdateProviderInput | Record<string, unknown>,
  ): Promise<GraphQLResponse<{ updateProvider: ProviderView & { updatedAt: string } }>>;
  delete(id: string): Promise<GraphQLResponse<{ deleteProvider: string }>>;
  get(id: string): Promise<GraphQLResponse<{ provider: ProviderView | null }>>;
  list(args?: { first?: number | null; after?: string | null }): Promise<GraphQLResponse<{ providers: ProviderConnectionView }>>;
  /** Creates and returns the provider, failing the test on any error. */
  created(input: CreateProviderInput): Promise<ProviderView>;
  /** Updates and returns the provider, failing the test on any error. */
  updated(id: string, input: UpdateProviderInput): Promise<ProviderView & { updatedAt: string }>;
  /** Lists and returns the connection, failing the test on any error. */
  listed(args?: { first?: number | null; after?: string | null }): Promise<ProviderConnectionView>;
}

export function providerClientWithToken(vault: TestApp, token: string): ProviderClient {
  const client: ProviderClient = {
    token,
    create: (input) => vault.graphql(CREATE_PROVIDER, { input }, { token }),
    update: (id, input) => vault.graphql(UPDATE_PROVIDER, { id, input }, { token }),
    delete: (id) => vault.graphql(DELETE_PROVIDER, { id }, { token }),
    get: (id) => vault.graphql(GET_PROVIDER, { id }, { token }),
    list: (args = {}) => vault.graphql(LIST_PROVIDERS, { ...args }, { token }),
    created: async (input) => dataOf(await client.create(input)).createProvider,
    updated: async (id, input) => dataOf(await client.update(id, input)).updateProvider,
    listed: async (args) => dataOf(await client.list(args)).providers,
  };
  return client;
}

/** A provider input backed by `credentialId`; override anything. */
export function aProviderInput(credentialId: string, overrides: Partial<CreateProviderInput> = {}): CreateProviderInput {
  return { name: uniqueName('route'), modelProvider: 'OPENAI', credentialId, ...overrides };
}

/** Providers whose credential_id names no credential row: must always be 0. */
export async function countOrphanProviders(database: TestDatabase): Promise<number> {
  const [row] = await database.query<{ count: number }>(
    `SELECT count(*)::int AS count FROM providers p LEFT JOIN credentials c ON c.id = p.credential_id
     WHERE p.credential_id IS NOT NULL AND c.id IS NULL`,
  );
  return row.count;
}
