// Retries are safe through GraphQL: createCredential and createProvider sent with an
// Idempotency-Key header run once per key and organization. A retry with the same input answers
// the first result (no second row, no second KMS Encrypt), another input is BAD_USER_INPUT naming
// the header, concurrent duplicates wait for the first, a failed attempt leaves the key free, and
// keys expire after 24 hours. The real application over PostgreSQL, with the fake KMS counting calls.
import * as grpc from '@grpc/grpc-js';
import type { FakeKms } from '../fakes/fake-kms-server';
import { type KmsVault, startKmsVault } from '../support/cloud-fakes';
import { aCredentialInput, type CreateCredentialInput, uniqueName } from '../support/factories';
import { ageIdempotencyKey, anIdempotencyKey, storedIdempotencyKey, withIdempotencyKey } from '../support/idempotency-keys';
import { anOrganization, type Member } from '../support/organizations';
import { aProviderInput, CREATE_PROVIDER, type CreateProviderInput, type ProviderView } from '../support/provider-client';
import type { GraphQLResponse, TestApp } from '../support/test-app';
import type { TestDatabase } from '../support/test-database';
import { countCredentials, CREATE_CREDENTIAL, type CredentialView, dataOf, expectBadUserInput, expectError } from '../support/vault-client';

const HEADER = 'Idempotency-Key';

let started: KmsVault;
let database: TestDatabase;
let kms: FakeKms;
let vault: TestApp;

beforeAll(async () => {
  started = await startKmsVault('idempotency_graphql');
  ({ database, kms, vault } = started);
});

afterAll(() => started?.stop());

afterEach(() => {
  kms.setLatency(0);
});

type CreatedCredential = GraphQLResponse<{ createCredential: CredentialView }>;
type CreatedProvider = GraphQLResponse<{ createProvider: ProviderView }>;

function createCredential(member: Member, input: CreateCredentialInput, key: string): Promise<CreatedCredential> {
  return vault.graphql(CREATE_CREDENTIAL, { input }, { token: member.token, headers: withIdempotencyKey(key) });
}

function createProvider(member: Member, input: CreateProviderInput, key: string): Promise<CreatedProvider> {
  return vault.graphql(CREATE_PROVIDER, { input }, { token: member.token, headers: withIdempotencyKey(key) });
}

const credentialsOf = (member: Member) => countCredentials(database, 'organization_id = $1', [member.orgId]);

async function providersOf(member: Member): Promise<number> {
  const [row] = await database.query<{ count: number }>('SELECT count(*)::int AS count FROM providers WHERE organization_id = $1', [
    member.orgId,
  ]);
  return row.count;
}

describe('createCredential with an Idempotency-Key', () => {
  test('a retry with the same input answers the first credential: no second row and no second KMS Encrypt', async () => {
    const { admin } = anOrganization(vault);
    const input = aCredentialInput();
    const key = anIdempotencyKey();
    kms.resetCalls();

    const first = dataOf(await createCredential(admin, input, key)).createCredential;
    const retried = dataOf(await createCredential(admin, input, key)).createCredential;

    expect(retried).toEqual(first);
    expect(await credentialsOf(admin)).toBe(1);
    expect(kms.calls.encrypt).toBe(1);
  });

  test('the same key with another input is BAD_USER_INPUT naming the header, and creates nothing', async () => {
    const { admin } = anOrganization(vault);
    const key = anIdempotencyKey();
    dataOf(await createCredential(admin, aCredentialInput(), key));
    kms.resetCalls();

    const other = await createCredential(admin, aCredentialInput(), key);

    expectBadUserInput(other, HEADER, /Idempotency-Key was used with a different request/);
    expect(other.body.data).toBeNull();
    expect(await credentialsOf(admin)).toBe(1);
    expect(kms.calls.encrypt).toBe(0);
  });

  test('ten concurrent requests with one key wait for the first and all answer its credential: one row, one Encrypt', async () => {
    const { admin } = anOrganization(vault);
    const input = aCredentialInput();
    const key = anIdempotencyKey();
    kms.resetCalls();
    kms.setLatency(300);

    const answers = await Promise.all(Array.from({ length: 10 }, () => createCredential(admin, input, key)));

    const ids = answers.map((answer) => dataOf(answer).createCredential.id);
    expect(new Set(ids).size).toBe(1);
    expect(await credentialsOf(admin)).toBe(1);
    expect(kms.calls.encrypt).toBe(1);
  });

  test('a create that failed with the key service down leaves the key free: the retry creates, and the next one replays it', async () => {
    const { admin } = anOrganization(vault);
    const input = aCredentialInput();
    const key = anIdempotencyKey();
    kms.failNext(grpc.status.UNAVAILABLE, { count: 3, method: 'encrypt' });

    expectError(await createCredential(admin, input, key), { code: 'KMS_UNAVAILABLE' });
    expect(await storedIdempotencyKey(database, admin.orgId, key)).toBeUndefined();
    const created = dataOf(await createCredential(admin, input, key)).createCredential;
    kms.resetCalls();
    const replayed = dataOf(await createCredential(admin, input, key)).createCredential;

    expect(replayed.id).toBe(created.id);
    expect(await credentialsOf(admin)).toBe(1);
    expect(kms.calls.encrypt).toBe(0);
  });

  test('a create refused as bad input leaves the key free: the corrected input with the same key creates, once', async () => {
    const { admin } = anOrganization(vault);
    const key = anIdempotencyKey();
    const input = aCredentialInput();

    expectBadUserInput(await createCredential(admin, { ...input, baseUrl: 'http://127.0.0.1/v1' }, key), 'input.baseUrl');
    const created = dataOf(await createCredential(admin, input, key)).createCredential;
    const replayed = dataOf(await createCredential(admin, input, key)).createCredential;

    expect(replayed.id).toBe(created.id);
    expect(await credentialsOf(admin)).toBe(1);
  });

  test.each([
    ['that is empty', ''],
    ['of 256 characters', 'k'.repeat(256)],
    ['with a tab', 'retry\tone'],
    ['with a character outside ASCII', 'clé-1'],
  ])('a key %s is BAD_USER_INPUT naming the header, and nothing is created', async (_case, key) => {
    const { admin } = anOrganization(vault);

    const response = await createCredential(admin, aCredentialInput(), key);

    expectBadUserInput(response, HEADER, 'Idempotency-Key header must be 1 to 255 printable ASCII characters');
    expect(await credentialsOf(admin)).toBe(0);
  });

  test('a key of 255 printable ASCII characters, spaces and punctuation included, is accepted and replays', async () => {
    const { admin } = anOrganization(vault);
    const key = `a b~!"#$%&'()*+,-./:;<=>?@[\\]^_\`{|}`.padEnd(255, 'z');
    const input = aCredentialInput();

    const created = dataOf(await createCredential(admin, input, key)).createCredential;
    const replayed = dataOf(await createCredential(admin, input, key)).createCredential;

    expect(replayed.id).toBe(created.id);
    expect(await credentialsOf(admin)).toBe(1);
  });

  test("keys belong to the organization: another organization's request with the same key creates its own credential", async () => {
    const first = anOrganization(vault).admin;
    const second = anOrganization(vault).admin;
    const key = anIdempotencyKey();
    const firstInput = aCredentialInput();
    const secondInput = aCredentialInput();

    const firstCreated = dataOf(await createCredential(first, firstInput, key)).createCredential;
    const secondCreated = dataOf(await createCredential(second, secondInput, key)).createCredential;

    expect(secondCreated.id).not.toBe(firstCreated.id);
    expect(secondCreated.organizationId).toBe(second.orgId);
    expect(dataOf(await createCredential(first, firstInput, key)).createCredential.id).toBe(firstCreated.id);
    expect(dataOf(await createCredential(second, secondInput, key)).createCredential.id).toBe(secondCreated.id);
    expect([await credentialsOf(first), await credentialsOf(second)]).toEqual([1, 1]);
  });

  test('a retry answers the credential as it is now (re-read by id)', async () => {
    const { admin } = anOrganization(vault);
    const input = aCredentialInput();
    const key = anIdempotencyKey();
    const created = dataOf(await createCredential(admin, input, key)).createCredential;
    const renamed = uniqueName('renamed');
    dataOf(await admin.update(created.id, { name: renamed }));

    const replayed = dataOf(await createCredential(admin, input, key)).createCredential;

    expect({ id: replayed.id, name: replayed.name }).toEqual({ id: created.id, name: renamed });
    expect(await credentialsOf(admin)).toBe(1);
  });

  test('a retry after the credential was deleted is NOT_FOUND naming the header, and creates nothing', async () => {
    const { admin } = anOrganization(vault);
    const input = aCredentialInput();
    const key = anIdempotencyKey();
    const created = dataOf(await createCredential(admin, input, key)).createCredential;
    dataOf(await admin.delete(created.id));
    kms.resetCalls();

    const replayed = await createCredential(admin, input, key);

    expectError(replayed, {
      code: 'NOT_FOUND',
      message: `The credential ${created.id} that this Idempotency-Key created has been deleted`,
    });
    expect(await credentialsOf(admin)).toBe(0);
    expect(kms.calls.encrypt).toBe(0);
  });

  test('a key sent more than 24 hours ago counts as new: the same input with it creates again', async () => {
    const { admin } = anOrganization(vault);
    const input = aCredentialInput();
    const key = anIdempotencyKey();
    const created = dataOf(await createCredential(admin, input, key)).createCredential;
    dataOf(await admin.delete(created.id));
    await ageIdempotencyKey(database, admin.orgId, key, 25);

    const again = dataOf(await createCredential(admin, input, key)).createCredential;

    expect(again.id).not.toBe(created.id);
    expect(await credentialsOf(admin)).toBe(1);
    expect((await storedIdempotencyKey(database, admin.orgId, key))?.result_id).toBe(again.id);
  });

  test('expired keys of any organization are deleted as new keys are claimed; unexpired ones stay', async () => {
    const old = anOrganization(vault).admin;
    const recent = anOrganization(vault).admin;
    const oldKey = anIdempotencyKey();
    const recentKey = anIdempotencyKey();
    dataOf(await createCredential(old, aCredentialInput(), oldKey));
    dataOf(await createCredential(recent, aCredentialInput(), recentKey));
    await ageIdempotencyKey(database, old.orgId, oldKey, 25);
    await ageIdempotencyKey(database, recent.orgId, recentKey, 23);

    dataOf(await createCredential(anOrganization(vault).admin, aCredentialInput(), anIdempotencyKey()));

    expect(await storedIdempotencyKey(database, old.orgId, oldKey)).toBeUndefined();
    expect(await storedIdempotencyKey(database, recent.orgId, recentKey)).toBeDefined();
  });

  test('a key used for createCredential is BAD_USER_INPUT on createProvider, naming the header and the first operation', async () => {
    const { admin } = anOrganization(vault);
    const key = anIdempotencyKey();
    const credential = dataOf(await createCredential(admin, aCredentialInput(), key)).createCredential;

    const provider = await createProvider(admin, aProviderInput(credential.id), key);

    expectBadUserInput(provider, HEADER, 'was used for createCredential');
    expect(await providersOf(admin)).toBe(0);
  });
});

describe('createProvider with an Idempotency-Key', () => {
  async function withCredential(): Promise<{ admin: Member; credential: CredentialView }> {
    const { admin } = anOrganization(vault);
    return { admin, credential: await admin.created(aCredentialInput()) };
  }

  test('a retry with the same input answers the first provider, and no second row is made', async () => {
    const { admin, credential } = await withCredential();
    const input = aProviderInput(credential.id);
    const key = anIdempotencyKey();

    const first = dataOf(await createProvider(admin, input, key)).createProvider;
    const retried = dataOf(await createProvider(admin, input, key)).createProvider;

    expect(retried).toEqual(first);
    expect(await providersOf(admin)).toBe(1);
  });

  test('the same key with another input is BAD_USER_INPUT naming the header, and creates nothing', async () => {
    const { admin, credential } = await withCredential();
    const key = anIdempotencyKey();
    dataOf(await createProvider(admin, aProviderInput(credential.id), key));

    expectBadUserInput(await createProvider(admin, aProviderInput(credential.id), key), HEADER, 'different request');
    expect(await providersOf(admin)).toBe(1);
  });

  test('ten concurrent requests with one key all answer the same provider, and one row is made', async () => {
    const { admin, credential } = await withCredential();
    const input = aProviderInput(credential.id);
    const key = anIdempotencyKey();

    const answers = await Promise.all(Array.from({ length: 10 }, () => createProvider(admin, input, key)));

    expect(new Set(answers.map((answer) => dataOf(answer).createProvider.id)).size).toBe(1);
    expect(await providersOf(admin)).toBe(1);
  });

  test('a create that failed (its name was taken) leaves the key free: the same input creates once the name is free', async () => {
    const { admin, credential } = await withCredential();
    const input = aProviderInput(credential.id);
    const key = anIdempotencyKey();
    const taken = await admin.providers.created(input);

    expectError(await createProvider(admin, input, key), { code: 'CONFLICT', field: 'input.name' });
    dataOf(await admin.providers.delete(taken.id));
    const created = dataOf(await createProvider(admin, input, key)).createProvider;
    const replayed = dataOf(await createProvider(admin, input, key)).createProvider;

    expect(replayed.id).toBe(created.id);
    expect(created.id).not.toBe(taken.id);
    expect(await providersOf(admin)).toBe(1);
  });

  test('a retry after the provider was deleted is NOT_FOUND naming the header, and creates nothing', async () => {
    const { admin, credential } = await withCredential();
    const input = aProviderInput(credential.id);
    const key = anIdempotencyKey();
    const created = dataOf(await createProvider(admin, input, key)).createProvider;
    dataOf(await admin.providers.delete(created.id));

    expectError(await createProvider(admin, input, key), {
      code: 'NOT_FOUND',
      message: `The provider ${created.id} that this Idempotency-Key created has been deleted`,
    });
    expect(await providersOf(admin)).toBe(0);
  });

  test('a malformed key is BAD_USER_INPUT naming the header, and nothing is created', async () => {
    const { admin, credential } = await withCredential();

    expectBadUserInput(await createProvider(admin, aProviderInput(credential.id), 'x'.repeat(256)), HEADER);
    expect(await providersOf(admin)).toBe(0);
  });
});
