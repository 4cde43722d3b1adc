// The contract's credential operations as GraphQL documents, a per-caller client over the real
// HTTP endpoint, and the assertions every end-to-end test shares: exactly one error with this
// code and exactly this `extensions.field`.
import { OPERATION_LIMIT_DEFAULTS } from '../../src/request-guards/operation-limits';
import { EnvelopeCipher } from '../../src/secrets/envelope';
import { type OpenedSecret, SecretStore } from '../../src/secrets/secret-store';
import type { AuthType, CreateCredentialInput, ModelProvider, UpdateCredentialInput } from './factories';
import type { GraphQLResponse, TestApp } from './test-app';
import type { TestDatabase } from './test-database';

export const CREDENTIAL_FIELDS = `
  id organizationId name modelProvider authType baseUrl settings keyLast4 storesKeyMaterial
  secretVersion secretRotatedAt createdAt updatedAt`;

export const CREATE_CREDENTIAL = `mutation CreateCredential($input: CreateCredentialInput!) {
  createCredential(input: $input) { ${CREDENTIAL_FIELDS} }
}`;

export const UPDATE_CREDENTIAL = `mutation UpdateCredential($id: ID!, $input: UpdateCredentialInput!) {
  updateCredential(id: $id, input: $input) { ${CREDENTIAL_FIELDS} }
}`;

export const DELETE_CREDENTIAL = `mutation DeleteCredential($id: ID!) { deleteCredential(id: $id) }`;

export const GET_CREDENTIAL = `query Credential($id: ID!) { credential(id: $id) { ${CREDENTIAL_FIELDS} } }`;

export const LIST_CREDENTIALS = `query Credentials($first: Int, $after: String, $modelProvider: ModelProvider) {
  credentials(first: $first, after: $after, modelProvider: $modelProvider) {
    edges { cursor node { ${CREDENTIAL_FIELDS} } }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
}`;

export interface CredentialView {
  id: string;
  organizationId: string;
  name: string;
  modelProvider: ModelProvider;
  authType: AuthType;
  baseUrl: string;
  settings: Record<string, unknown>;
  keyLast4: string | null;
  storesKeyMaterial: boolean;
  secretVersion: number;
  secretRotatedAt: string;
  createdAt: string;
  updatedAt: string;
}

export interface CredentialConnectionView {
  edges: { cursor: string; node: CredentialView }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: number;
}

export interface ListArgs {
  first?: number | null;
  after?: string | null;
  modelProvider?: ModelProvider | null;
}

export interface VaultClient {
  token: string;
  create(input: CreateCredentialInput | Record<string, unknown>): Promise<GraphQLResponse<{ createCredential: CredentialView }>>;
  update(
    id: string,
    input: UpdateCredentialInput | Record<string, unknown>,
  ): Promise<GraphQLResponse<{ updateCredential: CredentialView }>>;
  delete(id: string): Promise<GraphQLResponse<{ deleteCredential: string }>>;
  get(id: string): Promise<GraphQLResponse<{ credential: CredentialView | null }>>;
  list(args?: ListArgs): Promise<GraphQLResponse<{ credentials: CredentialConnectionView }>>;
  /** Creates and returns the credential, failing the test on any error. */
  created(input: CreateCredentialInput): Promise<CredentialView>;
  /** Reads and returns the credential, failing the test on any error. */
  read(id: string): Promise<CredentialView>;
  /** Lists and returns the connection, failing the test on any error. */
  listed(args?: ListArgs): Promise<CredentialConnectionView>;
}

/** A client acting with one token (by default an admin of `orgId`). */
export function clientFor(vault: TestApp, orgId: string, roles: string[] = ['admin']): VaultClient {
  const token = vault.token({ orgId, roles });
  return clientWithToken(vault, token);
}

export function clientWithToken(vault: TestApp, token: string): VaultClient {
  const client: VaultClient = {
    token,
    create: (input) => vault.graphql(CREATE_CREDENTIAL, { input }, { token }),
    update: (id, input) => vault.graphql(UPDATE_CREDENTIAL, { id, input }, { token }),
    delete: (id) => vault.graphql(DELETE_CREDENTIAL, { id }, { token }),
    get: (id) => vault.graphql(GET_CREDENTIAL, { id }, { token }),
    list: (args = {}) => vault.graphql(LIST_CREDENTIALS, { ...args }, { token }),
    created: async (input) => dataOf(await client.create(input)).createCredential,
    read: async (id) => {
      const credential = dataOf(await client.get(id)).credential;
      if (!credential) throw new Error(`credential ${id} read as null`);
      return credential;
    },
    listed: async (args) => dataOf(await client.list(args)).credentials,
  };
  return client;
}

export interface BulkMutation {
  /** The mutation field, e.g. createCredential. */
  field: string;
  /** Its input's type, e.g. CreateCredentialInput. */
  inputType: string;
  inputs: readonly unknown[];
  /** How many inputs go in one request (default, and at most, the service's alias limit). */
  perRequest?: number;
}

/**
 * Runs the mutation once per input, as aliased fields of one request per `perRequest` inputs (the
 * mutations of one request run one after another, in order); returns the id each one created, in
 * input order, failing the test on any error.
 */
export async function mutateInBulk(vault: TestApp, token: string, mutation: BulkMutation): Promise<{ id: string }[]> {
  // Each input is an aliased field: one request carries no more than the alias limit allows.
  const perRequest = Math.min(mutation.perRequest ?? OPERATION_LIMIT_DEFAULTS.maxAliases, OPERATION_LIMIT_DEFAULTS.maxAliases);
  const { field, inputType, inputs } = mutation;
  const results: { id: string }[] = [];
  for (let start = 0; start < inputs.length; start += perRequest) {
    const chunk = inputs.slice(start, start + perRequest);
    const variables = Object.fromEntries(chunk.map((input, index) => [`i${index}`, input]));
    const declarations = chunk.map((_, index) => `$i${index}: ${inputType}!`).join(', ');
    const fields = chunk.map((_, index) => `r${index}: ${field}(input: $i${index}) { id }`).join('\n');
    const data = dataOf(
      await vault.graphql<Record<string, { id: string }>>(`mutation Seed(${declarations}) { ${fields} }`, variables, { token }),
    );
    results.push(...chunk.map((_, index) => data[`r${index}`]));
  }
  return results;
}

/** The response's data, after asserting that it carries no error. */
export function dataOf<Data>(response: GraphQLResponse<Data>): Data {
  expect(response.body.errors).toBeUndefined();
  expect(response.status).toBe(200);
  expect(response.body.data).toBeTruthy();
  return response.body.data as Data;
}

export interface ExpectedError {
  code: string;
  /** The exact `extensions.field`; omitted means the error must carry none. */
  field?: string;
  /** A fragment the message must contain. */
  message?: string | RegExp;
}

/** Asserts exactly one error, with this code and exactly this `extensions.field`; returns it. */
export function expectError(response: GraphQLResponse<unknown>, expected: ExpectedError) {
  const errors = response.body.errors ?? [];
  expect(errors.map((error) => ({ code: error.extensions?.code, field: error.extensions?.field }))).toEqual([
    { code: expected.code, field: expected.field },
  ]);
  if (expected.message !== undefined) {
    if (typeof expected.message === 'string') expect(errors[0].message).toContain(expected.message);
    else expect(errors[0].message).toMatch(expected.message);
  }
  return errors[0];
}

export function expectBadUserInput(response: GraphQLResponse<unknown>, field: string, message?: string | RegExp) {
  return expectError(response, { code: 'BAD_USER_INPUT', field, message });
}

/** Opens a credential's sealed secret with the application's own key service: the one allowed reader. */
export function openSecret(vault: TestApp, organizationId: string, credentialId: string): Promise<OpenedSecret | null> {
  return new SecretStore(vault.app.database.prisma, new EnvelopeCipher(vault.app.keyService)).open(organizationId, credentialId);
}

export async function countCredentials(database: TestDatabase, where = 'true', params: unknown[] = []): Promise<number> {
  const [row] = await database.query<{ count: number }>(`SELECT count(*)::int AS count FROM credentials WHERE ${where}`, params);
  return row.count;
}

/** The stored row as text (sealed columns as hex), to prove that a rejected write changed nothing. */
export async function storedRow(database: TestDatabase, id: string): Promise<Record<string, unknown> | undefined> {
  const [row] = await database.query<{ row: Record<string, unknown> }>('SELECT row_to_json(c) AS row FROM credentials c WHERE id = $1', [
    id,
  ]);
  return row?.row;
}

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
