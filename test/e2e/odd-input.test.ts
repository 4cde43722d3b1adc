// Odd input gets a clear, coded error: never INTERNAL_SERVER_ERROR, never an error-level log line
// with a stack per request. Entity representations of the wrong shape, a persisted query whose hash
// or version is wrong, settings nested thousands of levels deep (GraphQL and REST alike), and
// operation names of any length, which are neither echoed nor logged in full.
import { createHash, randomUUID } from 'node:crypto';
import { SETTINGS_MAX_DEPTH } from '../../src/fields/field-checks';
import { OPERATION_NAME_MAX_LENGTH } from '../../src/request-guards/request-guards.plugin';
import { aCredentialInput, anApiKey } from '../support/factories';
import { anOrganization, type Organization } from '../support/organizations';
import { aProviderInput, CREATE_PROVIDER } from '../support/provider-client';
import { restClient } from '../support/rest-client';
import { type GraphQLResponse, logEvents, startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import {
  type CredentialView,
  CREATE_CREDENTIAL,
  dataOf,
  expectBadUserInput,
  expectError,
  UPDATE_CREDENTIAL,
} from '../support/vault-client';

let database: TestDatabase;
let vault: TestApp;
let org: Organization;
let credential: CredentialView;

beforeAll(async () => {
  database = await createTestDatabase('odd_input');
  vault = await startTestApp({ databaseUrl: database.url });
  org = anOrganization(vault);
  credential = await org.admin.created(aCredentialInput());
});

afterAll(async () => {
  await vault?.stop();
  await database?.drop();
});

/** Runs `act` and returns the levels of the log lines it produced that are above info. */
async function loudLogLevelsDuring(act: () => Promise<unknown>): Promise<string[]> {
  const before = vault.logLines.length;
  await act();
  return vault.logLines
    .slice(before)
    .map((line) => (JSON.parse(line) as { level: string }).level)
    .filter((level) => level !== 'info' && level !== 'debug');
}

/** POSTs a raw JSON body to /graphql (for values JSON.stringify cannot build) and parses the answer. */
async function postRaw(body: string, token: string = org.admin.token): Promise<GraphQLResponse> {
  const response = await fetch(vault.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body,
  });
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text) as GraphQLResponse['body'], text };
}

/** JSON text of an object nested `depth` levels deep: `{"n":{"n":...{"n":1}...}}`. */
function nestedJson(depth: number): string {
  return `${'{"n":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** `value` as JSON with the settings placeholder replaced by `settingsJson`. */
function withSettings(value: unknown, settingsJson: string): string {
  return JSON.stringify(value).replace('"__settings__"', settingsJson);
}

describe('_entities representations of the wrong shape are BAD_USER_INPUT naming the representation', () => {
  const ENTITIES = 'query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on Credential { id name } } }';
  const entities = (representations: unknown[]) => vault.graphql(ENTITIES, { representations }, { token: org.viewer.token });

  test.each([
    ['a number', 123],
    ['an object', { value: 'x' }],
    ['null', null],
  ])('an id that is %s', async (_kind, id) => {
    const response = await entities([{ __typename: 'Credential', id }]);

    expectBadUserInput(response, 'representations.0.id', 'must be a string');
  });

  test.each([
    ['Query', 'Query'],
    ['a type that does not exist', 'Nonexistent'],
    ['not a string', 7],
    ['missing', undefined],
  ])('a __typename that is %s', async (_kind, typename) => {
    const response = await entities([{ __typename: typename, id: randomUUID() }]);

    expectBadUserInput(response, 'representations.0.__typename', 'must name an entity type of this subgraph (Credential, Provider)');
  });

  test.each([
    ['a string', 'Credential'],
    ['a list', [{ __typename: 'Credential', id: randomUUID() }]],
  ])('a representation that is %s', async (_kind, representation) => {
    const response = await entities([{ __typename: 'Credential', id: credential.id }, representation]);

    expectBadUserInput(response, 'representations.1', 'must be an object with __typename and id');
  });

  test('none of them is logged above info, and a well-formed representation still resolves', async () => {
    let resolved: GraphQLResponse | undefined;
    const loud = await loudLogLevelsDuring(async () => {
      await entities([{ __typename: 'Query', id: 'x' }]);
      await entities([{ __typename: 'Credential', id: 42 }]);
      resolved = await entities([{ __typename: 'Credential', id: credential.id }]);
    });

    expect(loud).toEqual([]);
    expect(resolved?.body).toEqual({ data: { _entities: [{ id: credential.id, name: credential.name }] } });
  });
});

describe('automatic persisted queries', () => {
  const QUERY = 'query Count { credentials { totalCount } }';
  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
  const persisted = (query: string | undefined, persistedQuery: Record<string, unknown>) =>
    postRaw(JSON.stringify({ query, extensions: { persistedQuery } }), org.viewer.token);

  test('a hash that does not match the query is PERSISTED_QUERY_HASH_MISMATCH (400), not an internal error', async () => {
    let response: GraphQLResponse | undefined;
    const loud = await loudLogLevelsDuring(async () => {
      response = await persisted(QUERY, { version: 1, sha256Hash: sha256('another query') });
    });

    expect(response?.status).toBe(400);
    expect(response?.body.errors?.map((error) => error.extensions)).toEqual([{ code: 'PERSISTED_QUERY_HASH_MISMATCH' }]);
    expect(loud).toEqual([]);
  });

  test('an unknown version is PERSISTED_QUERY_NOT_SUPPORTED (a client then sends the full query)', async () => {
    const response = await persisted(QUERY, { version: 2, sha256Hash: sha256(QUERY) });

    expect(response.body.errors?.map((error) => error.extensions)).toEqual([{ code: 'PERSISTED_QUERY_NOT_SUPPORTED' }]);
  });

  test('a matching hash registers the query, and the hash alone runs it afterwards', async () => {
    const query = `query Persisted${randomUUID().replace(/-/g, '')} { credentials { totalCount } }`;

    const unknown = await persisted(undefined, { version: 1, sha256Hash: sha256(query) });
    const registered = await persisted(query, { version: 1, sha256Hash: sha256(query) });
    const byHash = await persisted(undefined, { version: 1, sha256Hash: sha256(query) });

    expect(unknown.body.errors?.map((error) => error.extensions?.code)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    expect(registered.body).toEqual({ data: { credentials: { totalCount: expect.any(Number) } } });
    expect(byHash.body).toEqual(registered.body);
  });
});

describe(`settings nested deeper than ${SETTINGS_MAX_DEPTH} levels are BAD_USER_INPUT`, () => {
  const DEEP = nestedJson(10_000);

  test('createCredential with settings 10,000 levels deep, without a log line above info', async () => {
    let response: GraphQLResponse | undefined;
    const loud = await loudLogLevelsDuring(async () => {
      response = await postRaw(
        withSettings({ query: CREATE_CREDENTIAL, variables: { input: aCredentialInput({ settings: '__settings__' as never }) } }, DEEP),
      );
    });

    expectBadUserInput(response as GraphQLResponse, 'input.settings', `nested at most ${SETTINGS_MAX_DEPTH} levels deep`);
    expect(loud).toEqual([]);
  });

  test('updateCredential with settings 10,000 levels deep', async () => {
    const response = await postRaw(
      withSettings({ query: UPDATE_CREDENTIAL, variables: { id: credential.id, input: { settings: '__settings__' } } }, DEEP),
    );

    expectBadUserInput(response, 'input.settings', 'nested at most');
  });

  test('createProvider with settings 10,000 levels deep', async () => {
    const response = await postRaw(
      withSettings(
        { query: CREATE_PROVIDER, variables: { input: aProviderInput(credential.id, { settings: '__settings__' as never }) } },
        DEEP,
      ),
    );

    expectBadUserInput(response, 'input.settings', 'nested at most');
  });

  test('POST /admin/connections with settings 10,000 levels deep is a 400 naming settings', async () => {
    const rest = restClient(vault, { token: org.admin.token });

    const response = await rest.request<{ error: { param: string; code: string; message: string } }>('POST', '/connections', {
      rawBody: withSettings(
        { name: `deep-${randomUUID()}`, model_provider: 'openai', api_key: anApiKey(), settings: '__settings__' },
        DEEP,
      ),
    });

    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({
      param: 'settings',
      code: 'BAD_USER_INPUT',
      message: expect.stringContaining('nested at most'),
    });
  });

  test(`${SETTINGS_MAX_DEPTH} levels are accepted, ${SETTINGS_MAX_DEPTH + 1} refused`, async () => {
    const create = (depth: number) =>
      postRaw(
        withSettings(
          { query: CREATE_CREDENTIAL, variables: { input: aCredentialInput({ settings: '__settings__' as never }) } },
          nestedJson(depth),
        ),
      );

    expect(dataOf(await create(SETTINGS_MAX_DEPTH))).toBeTruthy();
    expectBadUserInput(await create(SETTINGS_MAX_DEPTH + 1), 'input.settings', 'nested at most');
  });
});

describe(`operationName is at most ${OPERATION_NAME_MAX_LENGTH} characters, never echoed or logged in full`, () => {
  const LONG = `Op${'x'.repeat(5000)}`;

  test('a request whose operationName is 5,000 characters is BAD_USER_INPUT on operationName, and the name is not repeated', async () => {
    const response = await postRaw(JSON.stringify({ query: 'query Short { credentials { totalCount } }', operationName: LONG }));

    expect(response.status).toBe(200);
    expectBadUserInput(response, 'operationName', `at most ${OPERATION_NAME_MAX_LENGTH} characters`);
    expect(response.text).not.toContain('x'.repeat(OPERATION_NAME_MAX_LENGTH));
  });

  test('an operation named with 5,000 characters in the document is refused the same way', async () => {
    const response = await vault.graphql(`query ${LONG} { credentials { totalCount } }`, undefined, { token: org.admin.token });

    expectBadUserInput(response, 'operationName', `at most ${OPERATION_NAME_MAX_LENGTH} characters`);
    expect(response.text).not.toContain('x'.repeat(OPERATION_NAME_MAX_LENGTH));
  });

  test(`a name of exactly ${OPERATION_NAME_MAX_LENGTH} characters runs`, async () => {
    const name = `N${'n'.repeat(OPERATION_NAME_MAX_LENGTH - 1)}`;

    const response = await postRaw(JSON.stringify({ query: `query ${name} { credentials { totalCount } }`, operationName: name }));

    expect(dataOf(response)).toEqual({ credentials: { totalCount: expect.any(Number) } });
  });

  test('the request log line carries the name cut to the limit, for refused documents too', async () => {
    const before = vault.logLines.length;

    await postRaw(JSON.stringify({ query: 'query Short { credentials { totalCount } }', operationName: LONG }));
    await postRaw(JSON.stringify({ query: 'query Short { credentials { totalCount } }', operationName: `Unknown${LONG}` }));
    await vault.graphql(`query ${LONG} { credentials { nope } }`, undefined, { token: org.admin.token });

    const lines = vault.logLines.slice(before);
    const names = logEvents<{ operationName: string }>(lines, 'graphql_request').map((line) => line.operationName);
    expect(names).toHaveLength(3);
    for (const name of names) expect(name.length).toBeLessThanOrEqual(OPERATION_NAME_MAX_LENGTH + 1);
    for (const line of lines) expect(line.length).toBeLessThan(2000);
  });
});

test('a mutation with a deep settings value is still one request log line with BAD_USER_INPUT', async () => {
  const before = vault.logLines.length;

  expectError(
    await postRaw(
      withSettings(
        { query: CREATE_CREDENTIAL, variables: { input: aCredentialInput({ settings: '__settings__' as never }) } },
        nestedJson(100),
      ),
    ),
    { code: 'BAD_USER_INPUT', field: 'input.settings' },
  );

  expect(logEvents(vault.logLines.slice(before), 'graphql_request').map((line) => line.errorCodes)).toEqual([['BAD_USER_INPUT']]);
});
