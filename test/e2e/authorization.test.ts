// Who may do what: every operation needs a valid bearer token (introspection excepted), viewers
// only read, and another organization's credential behaves exactly as one that does not exist.
import { randomUUID } from 'node:crypto';
import { getIntrospectionQuery } from 'graphql';
import { aCredentialInput, apiKeyAuth, type CreateCredentialInput } from '../support/factories';
import { startTestApp, type GraphQLResponse, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { expiredToken, tamperedToken, tokenWithoutExpiry, unsignedToken, validToken, wronglySignedToken } from '../support/tokens';
import {
  clientFor,
  countCredentials,
  CREATE_CREDENTIAL,
  type CredentialView,
  dataOf,
  DELETE_CREDENTIAL,
  expectError,
  GET_CREDENTIAL,
  LIST_CREDENTIALS,
  openSecret,
  storedRow,
  UPDATE_CREDENTIAL,
  type VaultClient,
} from '../support/vault-client';

let database: TestDatabase;
let vault: TestApp;

const orgA = randomUUID();
const orgB = randomUUID();
let adminA: VaultClient;
let viewerA: VaultClient;
let adminB: VaultClient;

/** Organization A's credential that every refused request tries to reach. */
let target: CredentialView;
let targetInput: CreateCredentialInput;
/** Its stored row before any test ran. */
let targetRow: Record<string, unknown> | undefined;

beforeAll(async () => {
  database = await createTestDatabase('authorization');
  vault = await startTestApp({ databaseUrl: database.url });
  adminA = clientFor(vault, orgA);
  viewerA = clientFor(vault, orgA, ['viewer']);
  adminB = clientFor(vault, orgB);
  targetInput = aCredentialInput({ modelProvider: 'BEDROCK', settings: { region: 'eu-west-1' } });
  target = await adminA.created(targetInput);
  await adminB.created(aCredentialInput());
  targetRow = await storedRow(database, target.id);
});

afterAll(async () => {
  await vault?.stop();
  await database?.drop();
});

/** The target is exactly as it was created: row, metadata and sealed secret. */
async function expectTargetUntouched() {
  expect(await storedRow(database, target.id)).toEqual(targetRow);
  expect(await adminA.read(target.id)).toEqual(target);
  expect((await openSecret(vault, orgA, target.id))?.payload).toEqual(targetInput.auth!.awsRole);
}

interface Credentials {
  token?: string;
  headers?: Record<string, string>;
}

interface Operation {
  name: string;
  write: boolean;
  run(id: string, as: Credentials): Promise<GraphQLResponse>;
}

const OPERATIONS: Operation[] = [
  { name: 'credential', write: false, run: (id, as) => vault.graphql(GET_CREDENTIAL, { id }, as) },
  { name: 'credentials', write: false, run: (_id, as) => vault.graphql(LIST_CREDENTIALS, {}, as) },
  { name: 'createCredential', write: true, run: (_id, as) => vault.graphql(CREATE_CREDENTIAL, { input: aCredentialInput() }, as) },
  {
    name: 'updateCredential (rename)',
    write: true,
    run: (id, as) => vault.graphql(UPDATE_CREDENTIAL, { id, input: { name: 'taken-over' } }, as),
  },
  {
    name: 'updateCredential (settings)',
    write: true,
    run: (id, as) => vault.graphql(UPDATE_CREDENTIAL, { id, input: { settings: { region: 'us-west-2' } } }, as),
  },
  {
    name: 'updateCredential (rotation)',
    write: true,
    run: (id, as) =>
      vault.graphql(
        UPDATE_CREDENTIAL,
        { id, input: { auth: { awsRole: { iamRoleArn: 'arn:aws:iam::210987654321:role/attacker', externalId: 'ext-attacker' } } } },
        as,
      ),
  },
  { name: 'deleteCredential', write: true, run: (id, as) => vault.graphql(DELETE_CREDENTIAL, { id }, as) },
];

describe('authentication', () => {
  test.each(OPERATIONS.map((operation) => [operation.name, operation] as const))(
    '%s without a token is UNAUTHENTICATED and writes nothing',
    async (_name, operation) => {
      const rows = await countCredentials(database);

      expectError(await operation.run(target.id, {}), { code: 'UNAUTHENTICATED' });

      expect(await countCredentials(database)).toBe(rows);
      await expectTargetUntouched();
    },
  );

  const badTokens: [string, () => Credentials][] = [
    ['a malformed', () => ({ token: 'not-a-jwt' })],
    ['a three-part but not base64 JSON', () => ({ token: 'abc.def.ghi' })],
    ['an expired', () => ({ token: expiredToken({ orgId: orgA }) })],
    ['a wrongly signed', () => ({ token: wronglySignedToken({ orgId: orgA }) })],
    ['a tampered (payload swapped after signing)', () => ({ token: tamperedToken({ orgId: orgB }, orgA) })],
    ['an unsigned (alg none)', () => ({ token: unsignedToken({ orgId: orgA }) })],
    ['a never-expiring', () => ({ token: tokenWithoutExpiry({ orgId: orgA }) })],
    ['a non-UUID org_id', () => ({ token: validToken({ orgId: 'acme-corp' }) })],
    ['a non-Bearer scheme', () => ({ headers: { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` } })],
    ['an empty Bearer', () => ({ headers: { authorization: 'Bearer ' } })],
  ];

  test.each(badTokens)('%s token is UNAUTHENTICATED for a read', async (_label, as) => {
    expectError(await vault.graphql(GET_CREDENTIAL, { id: target.id }, as()), { code: 'UNAUTHENTICATED' });
  });

  test.each(badTokens)('%s token is UNAUTHENTICATED for a write, which writes nothing', async (_label, as) => {
    const rows = await countCredentials(database);

    expectError(await vault.graphql(UPDATE_CREDENTIAL, { id: target.id, input: { name: 'taken-over', auth: apiKeyAuth() } }, as()), {
      code: 'UNAUTHENTICATED',
    });
    expectError(await vault.graphql(CREATE_CREDENTIAL, { input: aCredentialInput() }, as()), { code: 'UNAUTHENTICATED' });

    expect(await countCredentials(database)).toBe(rows);
    await expectTargetUntouched();
  });

  test('a valid token built the same way is accepted (the refusals above are about the token)', async () => {
    expect(
      dataOf(await vault.graphql<{ credential: CredentialView }>(GET_CREDENTIAL, { id: target.id }, { token: validToken({ orgId: orgA }) }))
        .credential.id,
    ).toBe(target.id);
  });

  test('an org_id in upper case names the same organization', async () => {
    const upper = clientFor(vault, orgA.toUpperCase());
    expect((await upper.read(target.id)).organizationId).toBe(orgA);
  });
});

describe('roles', () => {
  test('a viewer reads a credential and the list', async () => {
    expect(await viewerA.read(target.id)).toEqual(target);
    expect((await viewerA.listed()).edges.map((edge) => edge.node.id)).toEqual([target.id]);
  });

  test.each(OPERATIONS.filter((operation) => operation.write).map((operation) => [operation.name, operation] as const))(
    "a viewer's %s is FORBIDDEN and writes nothing",
    async (_name, operation) => {
      const rows = await countCredentials(database);

      const response = await operation.run(target.id, { token: viewerA.token });

      expectError(response, { code: 'FORBIDDEN' });
      expect(response.body.data).toBeNull();
      expect(await countCredentials(database)).toBe(rows);
      await expectTargetUntouched();
    },
  );

  test('a token with no known role may not even read: FORBIDDEN', async () => {
    const stranger = clientFor(vault, orgA, ['auditor']);
    expectError(await stranger.get(target.id), { code: 'FORBIDDEN' });
    expectError(await stranger.list(), { code: 'FORBIDDEN' });
  });
});

describe("another organization's credential behaves exactly as one that does not exist", () => {
  /** The response with the id written as <id>, so that two responses differing only in the id compare equal. */
  function shape(response: GraphQLResponse, id: string): unknown {
    return JSON.parse(JSON.stringify({ status: response.status, body: response.body }).split(id).join('<id>'));
  }

  const crossOrgOperations: [string, (id: string) => Promise<GraphQLResponse>][] = [
    ['credential', (id) => adminB.get(id)],
    ['updateCredential (rename)', (id) => adminB.update(id, { name: 'taken-over' })],
    ['updateCredential (baseUrl reset)', (id) => adminB.update(id, { baseUrl: null })],
    [
      'updateCredential (rotation)',
      (id) =>
        adminB.update(id, { auth: { awsRole: { iamRoleArn: 'arn:aws:iam::210987654321:role/attacker', externalId: 'ext-attacker' } } }),
    ],
    [
      'updateCredential (rotation expecting the current version)',
      (id) => adminB.update(id, { auth: { bedrockApiKey: { apiKey: 'ABSK-attacker-0123456789' } }, expectedSecretVersion: 1 }),
    ],
    [
      'updateCredential (rotation expecting a stale version)',
      (id) => adminB.update(id, { auth: { bedrockApiKey: { apiKey: 'ABSK-attacker-0123456789' } }, expectedSecretVersion: 7 }),
    ],
    ['deleteCredential', (id) => adminB.delete(id)],
  ];

  test.each(crossOrgOperations)('%s: NOT_FOUND, shaped as for a non-existent id, and the credential is unchanged', async (_name, run) => {
    const absentId = randomUUID();

    const foreign = await run(target.id);
    const absent = await run(absentId);

    expectError(foreign, { code: 'NOT_FOUND', message: target.id });
    expect(shape(foreign, target.id)).toEqual(shape(absent, absentId));
    await expectTargetUntouched();
  });

  test('the credentials list does not include it, with or without a filter', async () => {
    for (const args of [{}, { modelProvider: 'BEDROCK' as const }, { first: 100 }]) {
      const page = await adminB.listed(args);
      expect(page.edges.map((edge) => edge.node.id)).not.toContain(target.id);
      expect(page.edges.every((edge) => edge.node.organizationId === orgB)).toBe(true);
      expect(page.totalCount).toBe(page.edges.length);
    }
    expect((await adminB.listed({ modelProvider: 'BEDROCK' })).totalCount).toBe(0);
  });

  test("the same name is free in another organization, and taking it leaves A's credential alone", async () => {
    const mine = await adminB.created(aCredentialInput({ modelProvider: 'BEDROCK', name: target.name }));

    expect(mine.name).toBe(target.name);
    expect(mine.id).not.toBe(target.id);
    await expectTargetUntouched();
  });
});

describe('introspection', () => {
  test('works without a token', async () => {
    const response = await vault.graphql<{ __schema: { types: { name: string }[] } }>(getIntrospectionQuery());

    const types = dataOf(response).__schema.types.map((type) => type.name);
    expect(types).toEqual(expect.arrayContaining(['Credential', 'CredentialAuthInput', 'ModelProvider', 'AuthType']));
  });

  test('shows CredentialAuthInput as @oneOf', async () => {
    const response = await vault.graphql<{ __type: { isOneOf: boolean } }>(
      'query OneOf { __type(name: "CredentialAuthInput") { isOneOf } }',
    );

    expect(dataOf(response).__type.isOneOf).toBe(true);
  });

  test('does not open data fields: credentials next to __schema without a token is UNAUTHENTICATED', async () => {
    const response = await vault.graphql('query Mixed { __schema { queryType { name } } credentials { totalCount } }');

    expectError(response, { code: 'UNAUTHENTICATED' });
  });
});
