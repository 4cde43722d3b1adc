// One request must not take the service from everyone else: depth, aliases, cost, tokens,
// directives and validation mutations are limited, and an operation over a limit is refused
// before anything runs with QUERY_TOO_COMPLEX naming the limit (`extensions.limit`, `max`).
// Ordinary operations, introspection for Sandbox and the federation fields still pass, and the
// GRAPHQL_MAX_* variables set the limits.
import { randomUUID } from 'node:crypto';
import { getIntrospectionQuery } from 'graphql';
import { aCredentialInput } from '../support/factories';
import { anOrganization, type Organization } from '../support/organizations';
import { aProviderInput } from '../support/provider-client';
import { aliasBomb, LISTED_CREDENTIAL_FIELDS, nestingBomb } from '../support/query-bombs';
import { type GraphQLResponse, logEvents, startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { CREATE_CREDENTIAL, dataOf, LIST_CREDENTIALS, mutateInBulk } from '../support/vault-client';

let database: TestDatabase;
let vault: TestApp;
let org: Organization;

beforeAll(async () => {
  database = await createTestDatabase('operation_limits');
  vault = await startTestApp({ databaseUrl: database.url });
  org = anOrganization(vault);
  const credentials = await mutateInBulk(vault, org.admin.token, {
    field: 'createCredential',
    inputType: 'CreateCredentialInput',
    inputs: Array.from({ length: 20 }, () => aCredentialInput()),
  });
  await mutateInBulk(vault, org.admin.token, {
    field: 'createProvider',
    inputType: 'CreateProviderInput',
    inputs: credentials.flatMap(({ id }, index) => [
      aProviderInput(id, { name: `route-${index}-a` }),
      aProviderInput(id, { name: `route-${index}-b` }),
    ]),
  });
});

afterAll(async () => {
  await vault?.stop();
  await database?.drop();
});

/** Asserts that the response is exactly one QUERY_TOO_COMPLEX error for `limit` at `max`, and no data. */
function expectRefused(response: GraphQLResponse<unknown>, limit: string, max: number, message: RegExp) {
  expect(response.status).toBe(200);
  expect(response.body.data ?? null).toBeNull();
  expect(response.body.errors?.map((error) => error.extensions)).toEqual([{ code: 'QUERY_TOO_COMPLEX', limit, max }]);
  expect(response.body.errors?.[0].message).toMatch(message);
}

const fields = (count: number, field: string, extra = '') =>
  Array.from({ length: count }, (_, index) => `f${index}: ${field} ${extra}`).join(' ');

describe('an operation over a limit is refused with QUERY_TOO_COMPLEX naming the limit', () => {
  test('credentials → providers → credential nested 11 fields deep: the depth limit of 8', async () => {
    const response = await vault.graphql(nestingBomb(11), undefined, { token: org.viewer.token });

    expectRefused(response, 'depth', 8, /depth limit of 8 \(fields nested 11 deep\)/);
  });

  test('16 aliases of credentials(first: 1): the alias limit of 15', async () => {
    const response = await vault.graphql(aliasBomb(16, 1), undefined, { token: org.viewer.token });

    expectRefused(response, 'aliases', 15, /alias limit of 15 \(16 aliases\)/);
  });

  test('1,000 aliases of credentials(first: 100): the token limit of 1,000 stops the parser', async () => {
    const response = await vault.graphql(aliasBomb(1000), undefined, { token: org.viewer.token });

    expectRefused(response, 'tokens', 1000, /token limit of 1000/);
  });

  test('a long document of repeated fields: the token limit', async () => {
    const response = await vault.graphql(`{ credentials { ${'totalCount '.repeat(1000)} } }`, undefined, { token: org.viewer.token });

    expectRefused(response, 'tokens', 1000, /token limit of 1000/);
  });

  test('a mutation over the alias limit writes nothing: the limits apply before execution', async () => {
    const inputs = Array.from({ length: 16 }, (_, index) => aCredentialInput({ name: `never-written-${index}` }));
    const declarations = inputs.map((_, index) => `$i${index}: CreateCredentialInput!`).join(', ');
    const mutations = inputs.map((_, index) => `c${index}: createCredential(input: $i${index}) { id }`).join(' ');
    const admin = anOrganization(vault).admin;

    const response = await vault.graphql(
      `mutation Many(${declarations}) { ${mutations} }`,
      Object.fromEntries(inputs.map((input, index) => [`i${index}`, input])),
      { token: admin.token },
    );

    expectRefused(response, 'aliases', 15, /alias limit of 15/);
    const [row] = await database.query<{ count: number }>('SELECT count(*)::int AS count FROM credentials WHERE organization_id = $1', [
      admin.orgId,
    ]);
    expect(row.count).toBe(0);
  });

  test('pages of 100 with their providers, five times over: the cost limit of 5,000', async () => {
    const page = `credentials(first: 100) { edges { node { ${LISTED_CREDENTIAL_FIELDS} providers { id name } } } }`;

    const response = await vault.graphql(`{ ${fields(5, page)} }`, undefined, { token: org.viewer.token });

    expectRefused(response, 'cost', 5000, /cost limit of 5000 \(estimated cost \d+\)/);
  });

  test('a page size given in a variable counts as the largest page, whatever the variable holds', async () => {
    const page = `credentials(first: $first) { edges { node { ${LISTED_CREDENTIAL_FIELDS} providers { id name } } } }`;
    const query = `query Pages($first: Int) { ${fields(5, page)} }`;

    const response = await vault.graphql(query, { first: 1 }, { token: org.viewer.token });
    const literal = await vault.graphql(query.replace(/\$first\b(?!:)/g, '1').replace('($first: Int)', ''), undefined, {
      token: org.viewer.token,
    });

    expectRefused(response, 'cost', 5000, /cost limit of 5000/);
    expect(literal.body.errors).toBeUndefined();
  });

  test('11 directives: the directive limit of 10', async () => {
    const response = await vault.graphql(`{ ${fields(11, '__typename', '@include(if: true)')} }`, undefined, {
      token: org.viewer.token,
    });

    expectRefused(response, 'directives', 10, /directive limit of 10 \(11 directives\)/);
  });

  test('four validation mutations in one request: the validation mutation limit of 3, and no cloud call', async () => {
    const validations = fields(4, `validateAwsRole(input: { credentialId: "${randomUUID()}" })`, '{ ok }');

    const response = await vault.graphql(`mutation { ${validations} }`, undefined, { token: org.admin.token });

    expectRefused(response, 'validationMutations', 3, /validation mutation limit of 3 \(4 validation mutations\)/);
  });

  test('three validation mutations pass the limits and run', async () => {
    const validations = fields(3, `validateAwsRole(input: { credentialId: "${randomUUID()}" })`, '{ ok }');

    const response = await vault.graphql(`mutation { ${validations} }`, undefined, { token: org.admin.token });

    // The first one answers for its unknown credential; its result is non-null, so the error ends the operation.
    expect(response.body.errors?.map((error) => error.extensions?.code)).toEqual(['NOT_FOUND']);
  });

  test('each refusal is one request log line with its code, and nothing at warn or error level', async () => {
    const before = vault.logLines.length;

    await vault.graphql(nestingBomb(11, { name: 'LoggedBomb' }), undefined, { token: org.viewer.token });

    const lines = vault.logLines.slice(before);
    expect(logEvents(lines, 'graphql_request').map(({ operationName, errorCodes }) => ({ operationName, errorCodes }))).toEqual([
      { operationName: 'LoggedBomb', errorCodes: ['QUERY_TOO_COMPLEX'] },
    ]);
    expect(
      lines.map((line) => (JSON.parse(line) as { level: string }).level).filter((level) => level !== 'info' && level !== 'debug'),
    ).toEqual([]);
  });
});

describe('ordinary operations pass', () => {
  test('a page of 100 credentials with their providers and each provider’s credential', async () => {
    const response = await vault.graphql<{ credentials: { totalCount: number; edges: unknown[] } }>(
      `{ credentials(first: 100) {
          totalCount
          edges { cursor node { ${LISTED_CREDENTIAL_FIELDS} providers { id name credential { id name } } } }
          pageInfo { hasNextPage endCursor }
        } }`,
      undefined,
      { token: org.viewer.token },
    );

    expect(dataOf(response).credentials.edges).toHaveLength(20);
  });

  test('the contract’s credential listing with its largest page', async () => {
    const response = await vault.graphql<{ credentials: { edges: unknown[] } }>(
      LIST_CREDENTIALS,
      { first: 100 },
      { token: org.viewer.token },
    );

    expect(dataOf(response).credentials.edges).toHaveLength(20);
  });

  test('nesting exactly 8 fields deep', async () => {
    const response = await vault.graphql(nestingBomb(8), undefined, { token: org.viewer.token });

    expect(response.body.errors).toBeUndefined();
  });

  test('15 aliases', async () => {
    const response = await vault.graphql(aliasBomb(15, 10), undefined, { token: org.viewer.token });

    expect(Object.keys(dataOf(response))).toHaveLength(15);
  });

  test('a mutation after an earlier refusal of the same shape: limits do not stick to a caller', async () => {
    const response = await vault.graphql(CREATE_CREDENTIAL, { input: aCredentialInput() }, { token: org.admin.token });

    expect(response.body.errors).toBeUndefined();
  });

  test('the introspection query Apollo Sandbox sends, without a token', async () => {
    const query = getIntrospectionQuery({
      descriptions: true,
      specifiedByUrl: true,
      directiveIsRepeatable: true,
      schemaDescription: true,
      inputValueDeprecation: true,
      oneOf: true,
    });

    const response = await vault.graphql<{ __schema: { types: unknown[] } }>(query);

    expect(dataOf(response).__schema.types.length).toBeGreaterThan(20);
  });

  test('_service { sdl } and _entities, as a gateway sends them', async () => {
    const [credential] = (await org.viewer.listed({ first: 1 })).edges.map((edge) => edge.node);

    const sdl = await vault.graphql<{ _service: { sdl: string } }>('query SubgraphSdl { _service { sdl } }');
    const entities = await vault.graphql<{ _entities: unknown[] }>(
      `query ($representations: [_Any!]!) { _entities(representations: $representations) {
        ... on Credential { id name providers { id name credential { id } } } } }`,
      { representations: [{ __typename: 'Credential', id: credential.id }] },
      { token: org.viewer.token },
    );

    expect(dataOf(sdl)._service.sdl).toContain('type Credential');
    expect(dataOf(entities)._entities).toEqual([expect.objectContaining({ id: credential.id })]);
  });
});

describe('GRAPHQL_MAX_* set the limits', () => {
  let strict: TestApp;
  let viewer: string;
  let admin: string;

  beforeAll(async () => {
    strict = await startTestApp({
      databaseUrl: database.url,
      env: {
        GRAPHQL_MAX_DEPTH: '5',
        GRAPHQL_MAX_ALIASES: '2',
        GRAPHQL_MAX_COST: '400',
        GRAPHQL_MAX_TOKENS: '100',
        GRAPHQL_MAX_DIRECTIVES: '1',
        GRAPHQL_MAX_VALIDATION_MUTATIONS: '1',
      },
    });
    viewer = strict.token({ orgId: org.id, roles: ['viewer'] });
    admin = strict.token({ orgId: org.id, roles: ['admin'] });
  });

  afterAll(async () => {
    await strict?.stop();
  });

  test('GRAPHQL_MAX_DEPTH=5: 5 fields deep pass, 6 are refused', async () => {
    expect((await strict.graphql(nestingBomb(5, { first: 1 }), undefined, { token: viewer })).body.errors).toBeUndefined();
    expectRefused(await strict.graphql(nestingBomb(6, { first: 1 }), undefined, { token: viewer }), 'depth', 5, /depth limit of 5/);
  });

  test('GRAPHQL_MAX_ALIASES=2: 2 aliases pass, 3 are refused', async () => {
    expect((await strict.graphql(aliasBomb(2, 1), undefined, { token: viewer })).body.errors).toBeUndefined();
    expectRefused(await strict.graphql(aliasBomb(3, 1), undefined, { token: viewer }), 'aliases', 2, /alias limit of 2/);
  });

  test('GRAPHQL_MAX_COST=400: a page of 20 passes, a page of 100 is refused', async () => {
    const page = (first: number) => `{ credentials(first: ${first}) { edges { node { id name modelProvider authType } } } }`;

    expect((await strict.graphql(page(20), undefined, { token: viewer })).body.errors).toBeUndefined();
    // 1 (credentials) + 1 (edges) + 100 × (node and its 4 fields)
    expectRefused(await strict.graphql(page(100), undefined, { token: viewer }), 'cost', 400, /cost limit of 400 \(estimated cost 502\)/);
  });

  test('GRAPHQL_MAX_TOKENS=100: a document of 100 tokens passes, 101 are refused', async () => {
    // `{ credentials { totalCount ... } }` is 5 tokens around the repeated field.
    const document = (repeats: number) => `{ credentials { ${'totalCount '.repeat(repeats)} } }`;

    expect((await strict.graphql(document(95), undefined, { token: viewer })).body.errors).toBeUndefined();
    expectRefused(await strict.graphql(document(96), undefined, { token: viewer }), 'tokens', 100, /token limit of 100/);
  });

  test('GRAPHQL_MAX_DIRECTIVES=1: one directive passes, two are refused', async () => {
    expect(
      (await strict.graphql(`{ ${fields(1, '__typename', '@include(if: true)')} }`, undefined, { token: viewer })).body.errors,
    ).toBeUndefined();
    expectRefused(
      await strict.graphql(`{ ${fields(2, '__typename', '@skip(if: false)')} }`, undefined, { token: viewer }),
      'directives',
      1,
      /directive limit of 1/,
    );
  });

  test('GRAPHQL_MAX_VALIDATION_MUTATIONS=1: a second validation mutation is refused', async () => {
    const validation = `validateAwsRole(input: { credentialId: "${randomUUID()}" })`;

    const one = await strict.graphql(`mutation { ${fields(1, validation, '{ ok }')} }`, undefined, { token: admin });
    const two = await strict.graphql(`mutation { ${fields(2, validation, '{ ok }')} }`, undefined, { token: admin });

    expect(one.body.errors?.map((error) => error.extensions?.code)).toEqual(['NOT_FOUND']);
    expectRefused(two, 'validationMutations', 1, /validation mutation limit of 1/);
  });
});
