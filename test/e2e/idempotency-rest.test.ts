// Retries are safe through the REST door: POST /admin/connections and POST /admin/providers (under
// both mount points) sent with an Idempotency-Key header run once per key and organization. A retry
// with the same body answers the first result (no second row, no second KMS Encrypt), another body
// is a 422 naming the header, concurrent duplicates wait for the first, a failed attempt leaves the
// key free, and the keys are the organization's whichever door they came through. The real
// application over PostgreSQL, with the fake KMS counting calls.
import * as grpc from '@grpc/grpc-js';
import type { FakeKms } from '../fakes/fake-kms-server';
import { type KmsVault, startKmsVault } from '../support/cloud-fakes';
import { aCredentialInput, anApiKey, uniqueName } from '../support/factories';
import { anIdempotencyKey, withIdempotencyKey } from '../support/idempotency-keys';
import {
  aRestOrganization,
  type ConnectionJson,
  expectRestError,
  okBody,
  type ProviderJson,
  REST_PREFIXES,
  type RestClient,
  type RestOrganization,
  type RestResponse,
  restClient,
} from '../support/rest-client';
import type { TestApp } from '../support/test-app';
import type { TestDatabase } from '../support/test-database';
import { CREATE_CREDENTIAL, dataOf } from '../support/vault-client';

const HEADER = 'Idempotency-Key';

let started: KmsVault;
let database: TestDatabase;
let kms: FakeKms;
let vault: TestApp;

beforeAll(async () => {
  started = await startKmsVault('idempotency_rest');
  ({ database, kms, vault } = started);
});

afterAll(() => started?.stop());

afterEach(() => {
  kms.setLatency(0);
});

const anOpenAiConnection = () => ({ name: uniqueName('openai'), model_provider: 'openai', api_key: anApiKey() });

function postConnection(client: RestClient, body: unknown, key: string): Promise<RestResponse<ConnectionJson>> {
  return client.post<ConnectionJson>('/connections', body, { headers: withIdempotencyKey(key) });
}

function postProvider(client: RestClient, body: unknown, key: string): Promise<RestResponse<ProviderJson>> {
  return client.post<ProviderJson>('/providers', body, { headers: withIdempotencyKey(key) });
}

/** The organization's admin under the absolute mount point the generated SDK sends to. */
const underAbsoluteMount = (org: RestOrganization): RestClient => restClient(vault, { prefix: REST_PREFIXES[1], token: org.admin.token });

async function countRows(table: 'credentials' | 'providers', org: RestOrganization): Promise<number> {
  const [row] = await database.query<{ count: number }>(`SELECT count(*)::int AS count FROM ${table} WHERE organization_id = $1`, [org.id]);
  return row.count;
}

describe('POST /admin/connections with an Idempotency-Key', () => {
  test('a retry with the same body answers the first connection (same body, same ETag): no second row and no second KMS Encrypt', async () => {
    const org = aRestOrganization(vault);
    const body = anOpenAiConnection();
    const key = anIdempotencyKey();
    kms.resetCalls();

    const first = await postConnection(org.admin, body, key);
    const retried = await postConnection(org.admin, body, key);

    expect(okBody(retried)).toEqual(okBody(first));
    expect(retried.headers.get('etag')).toBe(first.headers.get('etag'));
    expect(await countRows('credentials', org)).toBe(1);
    expect(kms.calls.encrypt).toBe(1);
  });

  test('a key is shared by both mount points: the retry under /api/llm-gateway/admin answers the first connection', async () => {
    const org = aRestOrganization(vault, REST_PREFIXES[0]);
    const body = anOpenAiConnection();
    const key = anIdempotencyKey();
    const first = okBody(await postConnection(org.admin, body, key));

    const retried = okBody(await postConnection(underAbsoluteMount(org), body, key));

    expect(retried.id).toBe(first.id);
    expect(await countRows('credentials', org)).toBe(1);
  });

  test('the same key with another body is a 422 naming the header, and creates nothing', async () => {
    const org = aRestOrganization(vault);
    const key = anIdempotencyKey();
    okBody(await postConnection(org.admin, anOpenAiConnection(), key));
    kms.resetCalls();
    const other = { ...anOpenAiConnection(), api_key: anApiKey() };

    const response = await postConnection(org.admin, other, key);

    const error = expectRestError(response, {
      status: 422,
      type: 'invalid_request_error',
      param: HEADER,
      message: 'Idempotency-Key was used with a different request',
      notEchoing: [other.api_key],
    });
    expect(error.code).toBe('BAD_USER_INPUT');
    expect(await countRows('credentials', org)).toBe(1);
    expect(kms.calls.encrypt).toBe(0);
  });

  test('ten concurrent requests with one key wait for the first and all answer its connection: one row, one Encrypt', async () => {
    const org = aRestOrganization(vault);
    const body = anOpenAiConnection();
    const key = anIdempotencyKey();
    kms.resetCalls();
    kms.setLatency(300);

    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, index) => postConnection(index % 2 === 0 ? org.admin : org.otherAdmin, body, key)),
    );

    expect(new Set(answers.map((answer) => okBody(answer).id)).size).toBe(1);
    expect(await countRows('credentials', org)).toBe(1);
    expect(kms.calls.encrypt).toBe(1);
  });

  test('a create that failed with the key service down (503) leaves the key free: the retry creates, and the next one replays it', async () => {
    const org = aRestOrganization(vault);
    const body = anOpenAiConnection();
    const key = anIdempotencyKey();
    kms.failNext(grpc.status.UNAVAILABLE, { count: 3, method: 'encrypt' });

    expectRestError(await postConnection(org.admin, body, key), { status: 503, type: 'service_unavailable_error' });
    const created = okBody(await postConnection(org.admin, body, key));
    kms.resetCalls();
    const replayed = okBody(await postConnection(org.admin, body, key));

    expect(replayed.id).toBe(created.id);
    expect(await countRows('credentials', org)).toBe(1);
    expect(kms.calls.encrypt).toBe(0);
  });

  test('a body refused with 400 leaves the key free: the corrected body with the same key creates, once', async () => {
    const org = aRestOrganization(vault);
    const body = anOpenAiConnection();
    const key = anIdempotencyKey();

    expectRestError(await postConnection(org.admin, { ...body, base_url: 'http://127.0.0.1/v1' }, key), {
      status: 400,
      type: 'invalid_request_error',
      param: 'base_url',
    });
    const created = okBody(await postConnection(org.admin, body, key));

    expect(okBody(await postConnection(org.admin, body, key)).id).toBe(created.id);
    expect(await countRows('credentials', org)).toBe(1);
  });

  test.each([
    ['that is empty', ''],
    ['of 256 characters', 'k'.repeat(256)],
    ['with a tab', 'retry\tone'],
    ['with a character outside ASCII', 'clé-1'],
  ])('a key %s is a 400 naming the header, and nothing is created', async (_case, key) => {
    const org = aRestOrganization(vault);

    expectRestError(await postConnection(org.admin, anOpenAiConnection(), key), {
      status: 400,
      type: 'invalid_request_error',
      param: HEADER,
      message: 'Idempotency-Key header must be 1 to 255 printable ASCII characters',
    });
    expect(await countRows('credentials', org)).toBe(0);
  });

  test("keys belong to the organization: another organization's request with the same key creates its own connection", async () => {
    const first = aRestOrganization(vault);
    const second = aRestOrganization(vault);
    const key = anIdempotencyKey();
    const firstBody = anOpenAiConnection();
    const secondBody = anOpenAiConnection();

    const firstCreated = okBody(await postConnection(first.admin, firstBody, key));
    const secondCreated = okBody(await postConnection(second.admin, secondBody, key));

    expect(secondCreated.id).not.toBe(firstCreated.id);
    expect(secondCreated.org_id).toBe(second.id);
    expect(okBody(await postConnection(first.admin, firstBody, key)).id).toBe(firstCreated.id);
    expect(okBody(await postConnection(second.admin, secondBody, key)).id).toBe(secondCreated.id);
  });

  test('a retry after the connection was deleted is a 404 naming the header, and creates nothing', async () => {
    const org = aRestOrganization(vault);
    const body = anOpenAiConnection();
    const key = anIdempotencyKey();
    const created = okBody(await postConnection(org.admin, body, key));
    okBody(await org.admin.delete(`/connections/${created.id}`));

    expectRestError(await postConnection(org.admin, body, key), {
      status: 404,
      type: 'not_found_error',
      param: null,
      message: `The credential ${created.id} that this Idempotency-Key created has been deleted`,
    });
    expect(await countRows('credentials', org)).toBe(0);
  });

  test("a key is the organization's whichever door it came through: one used by GraphQL createCredential is a 422 on POST /connections with another body", async () => {
    const org = aRestOrganization(vault);
    const key = anIdempotencyKey();
    dataOf(
      await vault.graphql(CREATE_CREDENTIAL, { input: aCredentialInput() }, { token: org.admin.token, headers: withIdempotencyKey(key) }),
    );

    expectRestError(await postConnection(org.admin, anOpenAiConnection(), key), {
      status: 422,
      type: 'invalid_request_error',
      param: HEADER,
    });
    expect(await countRows('credentials', org)).toBe(1);
  });
});

describe('POST /admin/providers with an Idempotency-Key', () => {
  async function withConnection(): Promise<{ org: RestOrganization; connection: ConnectionJson }> {
    const org = aRestOrganization(vault);
    return { org, connection: okBody(await org.admin.post<ConnectionJson>('/connections', anOpenAiConnection())) };
  }
  const aProviderBody = (connectionId: string) => ({ name: uniqueName('route'), model_provider: 'openai', connection_id: connectionId });

  test('a retry with the same body answers the first provider, and no second row is made', async () => {
    const { org, connection } = await withConnection();
    const body = aProviderBody(connection.id);
    const key = anIdempotencyKey();

    const first = okBody(await postProvider(org.admin, body, key));
    const retried = okBody(await postProvider(org.admin, body, key));

    expect(retried).toEqual(first);
    expect(await countRows('providers', org)).toBe(1);
  });

  test('the same key with another body is a 422 naming the header, and creates nothing', async () => {
    const { org, connection } = await withConnection();
    const key = anIdempotencyKey();
    okBody(await postProvider(org.admin, aProviderBody(connection.id), key));

    const error = expectRestError(await postProvider(org.admin, aProviderBody(connection.id), key), {
      status: 422,
      type: 'invalid_request_error',
      param: HEADER,
    });
    expect(error.code).toBe('BAD_USER_INPUT');
    expect(await countRows('providers', org)).toBe(1);
  });

  test('a key used for POST /connections is a 422 on POST /providers', async () => {
    const org = aRestOrganization(vault);
    const key = anIdempotencyKey();
    const connection = okBody(await postConnection(org.admin, anOpenAiConnection(), key));

    expectRestError(await postProvider(org.admin, aProviderBody(connection.id), key), {
      status: 422,
      type: 'invalid_request_error',
      param: HEADER,
      message: 'was used for createCredential',
    });
    expect(await countRows('providers', org)).toBe(0);
  });

  test('ten concurrent requests with one key (under both mount points) all answer the same provider, and one row is made', async () => {
    const { org, connection } = await withConnection();
    const body = aProviderBody(connection.id);
    const key = anIdempotencyKey();
    const absolute = underAbsoluteMount(org);

    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, index) => postProvider(index % 2 === 0 ? org.admin : absolute, body, key)),
    );

    expect(new Set(answers.map((answer) => okBody(answer).id)).size).toBe(1);
    expect(await countRows('providers', org)).toBe(1);
  });

  test('a create refused with 404 (an unknown connection) leaves the key free: the corrected body creates, once', async () => {
    const { org, connection } = await withConnection();
    const key = anIdempotencyKey();
    const body = aProviderBody(connection.id);

    expectRestError(await postProvider(org.admin, { ...body, connection_id: '00000000-0000-4000-8000-000000000000' }, key), {
      status: 404,
      type: 'not_found_error',
    });
    const created = okBody(await postProvider(org.admin, body, key));

    expect(okBody(await postProvider(org.admin, body, key)).id).toBe(created.id);
    expect(await countRows('providers', org)).toBe(1);
  });

  test('a malformed key is a 400 naming the header, and nothing is created', async () => {
    const { org, connection } = await withConnection();

    expectRestError(await postProvider(org.admin, aProviderBody(connection.id), ''), {
      status: 400,
      type: 'invalid_request_error',
      param: HEADER,
    });
    expect(await countRows('providers', org)).toBe(0);
  });
});

describe('the OpenAPI document', () => {
  test('documents the Idempotency-Key header and the 422 on both creates, and on no other operation', async () => {
    const response = await fetch(`${vault.baseUrl}/openapi.json`);
    const doc = (await response.json()) as {
      paths: Record<
        string,
        Record<string, { operationId: string; parameters?: { name: string; in: string }[]; responses: Record<string, unknown> }>
      >;
    };
    const operations = Object.values(doc.paths).flatMap((methods) => Object.values(methods));
    const taking = operations.filter((operation) =>
      operation.parameters?.some((parameter) => parameter.name === HEADER && parameter.in === 'header'),
    );
    const answering422 = operations.filter((operation) => '422' in operation.responses);

    expect(taking.map((operation) => operation.operationId).sort()).toEqual(['createConnection', 'createProvider']);
    expect(answering422.map((operation) => operation.operationId).sort()).toEqual(['createConnection', 'createProvider']);
  });
});
