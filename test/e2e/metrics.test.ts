// GET /metrics after real traffic: the application on PostgreSQL with Cloud KMS (the fake KMS over
// gRPC), the fake STS and the fake Google as its clouds. Each kind of traffic moves its counters:
// GraphQL operations by root field and outcome, REST requests by route template, runtime resolves
// by auth type and outcome, KMS, STS and Google calls by operation and outcome, cache hits and
// misses; the database pool and the change feed are reported as they are. Label values stay in
// closed sets: 1,000 made-up operation names add no series, and no id, token or secret is a label.
import { randomUUID } from 'node:crypto';
import { countAuditWriteFailure } from '../../src/metrics/metrics';
import type { FakeKms } from '../fakes/fake-kms-server';
import { startFakeKms } from '../fakes/fake-kms-server';
import { apiKeyCanary, canary, findCanaries } from '../support/canaries';
import { type CloudFakes, kmsEnv, serviceAccountAuth, startCloudFakes } from '../support/cloud-fakes';
import { aCredentialInput, anApiKey, apiKeyAuth, hex } from '../support/factories';
import { type Scrape, scrapeMetrics } from '../support/metrics-scrape';
import { anOrganization, type Member } from '../support/organizations';
import { aRestOrganization } from '../support/rest-client';
import { runtimeClient, type RuntimeClient } from '../support/runtime-client';
import { startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { VALIDATE_AWS_ROLE, VALIDATE_GOOGLE_VERTEX } from '../support/validation-harness';
import { dataOf } from '../support/vault-client';

const REGION = 'us-east-1';
const VERTEX_PROJECT = 'vault-metrics-project';

let database: TestDatabase;
let kms: FakeKms;
let fakes: CloudFakes;
let vault: TestApp;

beforeAll(async () => {
  database = await createTestDatabase('metrics_e2e');
  kms = await startFakeKms();
  fakes = await startCloudFakes({ stsRegion: REGION, appRegion: REGION, vertexProject: VERTEX_PROJECT, vertexApi: true });
  vault = await startTestApp({ databaseUrl: database.url, env: { ...kmsEnv(kms), ...fakes.env } });
});

afterAll(async () => {
  await vault?.stop();
  await fakes?.close();
  await kms?.close();
  await database?.drop();
});

const scrape = () => scrapeMetrics(vault.baseUrl);

/** How much each counter moved while `work` ran. */
async function during(
  work: () => Promise<unknown>,
): Promise<{ before: Scrape; after: Scrape; moved: (name: string, labels?: Record<string, string>) => number }> {
  const before = await scrape();
  await work();
  const after = await scrape();
  return { before, after, moved: (name, labels) => after.value(name, labels) - before.value(name, labels) };
}

function anOrg(): { admin: Member; runtime: RuntimeClient } {
  const org = anOrganization(vault);
  return { admin: org.admin, runtime: runtimeClient(vault, org.id) };
}

describe('GET /metrics', () => {
  test('answers in the Prometheus text format, with the process metrics of Node', async () => {
    const metrics = await scrape();

    expect(metrics.status).toBe(200);
    expect(metrics.contentType).toMatch(/^text\/plain;.*version=0\.0\.4/);
    expect(metrics.series('process_cpu_user_seconds_total')).toHaveLength(1);
    expect(metrics.series('nodejs_heap_size_used_bytes')).toHaveLength(1);
    expect(metrics.text).toContain('# TYPE graphql_requests_total counter');
  });

  test('is not served by the runtime listener', async () => {
    const response = await fetch(`${vault.app.runtimeUrl ?? ''}/metrics`);
    expect(response.status).toBe(404);
    expect(await response.text()).not.toContain('process_cpu_user_seconds_total');
  });
});

describe('GraphQL requests', () => {
  test('a createCredential counts one mutation on its root field with outcome ok, and one KMS Encrypt', async () => {
    const { admin } = anOrg();
    const { moved } = await during(() => admin.created(aCredentialInput()));

    expect(moved('graphql_requests_total', { operation: 'createCredential', operation_type: 'mutation', outcome: 'ok' })).toBe(1);
    expect(moved('graphql_request_duration_seconds_count', { operation: 'createCredential', outcome: 'ok' })).toBe(1);
    expect(moved('cloud_calls_total', { service: 'kms', operation: 'encrypt', outcome: 'ok' })).toBe(1);
    expect(moved('cloud_call_duration_seconds_count', { service: 'kms', operation: 'encrypt' })).toBe(1);
  });

  test('a refused operation counts its error code as the outcome', async () => {
    const { admin } = anOrg();
    const { moved } = await during(async () => {
      const response = await admin.create(aCredentialInput({ name: '' }));
      expect(response.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    });

    expect(moved('graphql_requests_total', { operation: 'createCredential', outcome: 'BAD_USER_INPUT' })).toBe(1);
    expect(moved('graphql_requests_total', { operation: 'createCredential', outcome: 'ok' })).toBe(0);
  });

  test('a request without a token counts UNAUTHENTICATED on the field it asked for', async () => {
    const { moved } = await during(() => vault.graphql('query Listing { credentials(first: 1) { totalCount } }'));

    expect(moved('graphql_requests_total', { operation: 'credentials', operation_type: 'query', outcome: 'UNAUTHENTICATED' })).toBe(1);
  });

  test('a document that does not validate counts under operation none', async () => {
    const { moved } = await during(() => vault.graphql('{ noSuchField }'));

    expect(moved('graphql_requests_total', { operation: 'none', outcome: 'GRAPHQL_VALIDATION_FAILED' })).toBe(1);
  });

  test('1,000 made-up operation names add no series, and none of them is a label value', async () => {
    const names = Array.from({ length: 1000 }, (_, index) => `Op_${index}_${hex(8)}`);
    const before = await scrape();

    for (let start = 0; start < names.length; start += 25) {
      await Promise.all(
        names.slice(start, start + 25).map((name, index) =>
          // Half name an operation the document has, half one it lacks.
          fetch(vault.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ query: `query ${name} { __typename }`, operationName: index % 2 === 0 ? name : `${name}_missing` }),
          }).then((response) => response.text()),
        ),
      );
    }
    const after = await scrape();

    // At most two new label sets (the operation that resolves, and the one that does not)...
    expect(after.series('graphql_requests_total').length - before.series('graphql_requests_total').length).toBeLessThanOrEqual(2);
    // ...and nothing else grows with them.
    expect(after.samples.length - before.samples.length).toBeLessThan(100);
    expect(after.value('graphql_requests_total', { operation: '__typename', outcome: 'ok' })).toBeGreaterThanOrEqual(500);
    expect(names.filter((name) => after.text.includes(name))).toEqual([]);
    expect(after.series('graphql_requests_total').every((sample) => /^[_a-zA-Z]{1,64}$/.test(sample.labels.operation))).toBe(true);
  });
});

describe('REST requests', () => {
  test('are counted by route template and status, never by the path a client sent', async () => {
    const rest = aRestOrganization(vault);
    const missingId = randomUUID();
    const { moved, after } = await during(async () => {
      expect((await rest.admin.get(`/connections/${missingId}`)).status).toBe(404);
      expect((await rest.admin.get('/connections')).status).toBe(200);
      expect((await rest.admin.get(`/no-such-route-${missingId}`)).status).toBe(404);
    });

    expect(moved('rest_requests_total', { method: 'GET', route: '/connections/{id}', outcome: '404' })).toBe(1);
    expect(moved('rest_requests_total', { method: 'GET', route: '/connections', outcome: 'ok' })).toBe(1);
    expect(moved('rest_requests_total', { method: 'GET', route: 'unmatched', outcome: '404' })).toBe(1);
    expect(after.text).not.toContain(missingId);
  });
});

describe('runtime resolves', () => {
  test('an API key: the cold resolve costs a KMS Decrypt and misses both caches, the warm one hits them', async () => {
    const { admin, runtime } = anOrg();
    const credential = await admin.created(aCredentialInput({ auth: apiKeyAuth() }));

    const cold = await during(() => runtime.credential(credential.id));
    const warm = await during(() => runtime.credential(credential.id));

    expect(cold.moved('runtime_resolves_total', { auth_type: 'API_KEY', outcome: 'ok' })).toBe(1);
    expect(cold.moved('cloud_calls_total', { service: 'kms', operation: 'decrypt', outcome: 'ok' })).toBe(1);
    expect(cold.moved('cache_lookups_total', { cache: 'kms_data_key', result: 'miss' })).toBe(1);
    expect(cold.moved('cache_lookups_total', { cache: 'runtime_row', result: 'miss' })).toBe(1);
    expect(warm.moved('runtime_resolves_total', { auth_type: 'API_KEY', outcome: 'ok' })).toBe(1);
    expect(warm.moved('cloud_calls_total', { service: 'kms', operation: 'decrypt' })).toBe(0);
    expect(warm.moved('cache_lookups_total', { cache: 'kms_data_key', result: 'hit' })).toBe(1);
    expect(warm.moved('cache_lookups_total', { cache: 'runtime_row', result: 'hit' })).toBe(1);
    expect(warm.moved('runtime_resolve_duration_seconds_count', { auth_type: 'API_KEY' })).toBe(1);
  });

  test('an AWS role: one STS AssumeRole and a minted-credential miss, then a hit without STS', async () => {
    const { admin, runtime } = anOrg();
    const role = { iamRoleArn: `arn:aws:iam::123456789012:role/metrics-${hex(4)}`, externalId: `ext-${hex(8)}` };
    fakes.sts.addRole({ arn: role.iamRoleArn, externalId: role.externalId });
    const credential = await admin.created(
      aCredentialInput({ modelProvider: 'BEDROCK', auth: { awsRole: role }, settings: { region: REGION } }),
    );

    const cold = await during(() => runtime.credential(credential.id));
    const warm = await during(() => runtime.credential(credential.id));

    expect(cold.moved('runtime_resolves_total', { auth_type: 'AWS_ROLE', outcome: 'ok' })).toBe(1);
    expect(cold.moved('cloud_calls_total', { service: 'sts', operation: 'AssumeRole', outcome: 'ok' })).toBe(1);
    expect(cold.moved('cache_lookups_total', { cache: 'minted_credential', result: 'miss' })).toBe(1);
    expect(warm.moved('cloud_calls_total', { service: 'sts' })).toBe(0);
    expect(warm.moved('cache_lookups_total', { cache: 'minted_credential', result: 'hit' })).toBe(1);
  });

  test('AWS keys: one STS GetSessionToken', async () => {
    const { admin, runtime } = anOrg();
    const keys = fakes.sts.createUserKeys();
    const credential = await admin.created(
      aCredentialInput({
        modelProvider: 'BEDROCK',
        auth: { awsKeys: { accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey } },
      }),
    );

    const { moved } = await during(() => runtime.credential(credential.id));

    expect(moved('runtime_resolves_total', { auth_type: 'AWS_KEYS', outcome: 'ok' })).toBe(1);
    expect(moved('cloud_calls_total', { service: 'sts', operation: 'GetSessionToken', outcome: 'ok' })).toBe(1);
  });

  test('a Google service account: one OAuth token call', async () => {
    const { admin, runtime } = anOrg();
    const account = fakes.google.createServiceAccount(`metrics-${hex(3)}@${VERTEX_PROJECT}.iam.gserviceaccount.com`, VERTEX_PROJECT);
    const credential = await admin.created(aCredentialInput({ modelProvider: 'VERTEX', auth: serviceAccountAuth(account) }));

    const { moved } = await during(() => runtime.credential(credential.id));

    expect(moved('runtime_resolves_total', { auth_type: 'GOOGLE_SERVICE_ACCOUNT', outcome: 'ok' })).toBe(1);
    expect(moved('cloud_calls_total', { service: 'google', operation: 'oauth2:token', outcome: 'ok' })).toBe(1);
  });

  test('a refused resolve counts its error code', async () => {
    const { runtime } = anOrg();

    const { moved } = await during(async () => expect((await runtime.request({ credential_id: randomUUID() })).status).toBe(404));

    expect(moved('runtime_resolves_total', { auth_type: 'unknown', outcome: 'NOT_FOUND' })).toBe(1);
  });
});

describe('validation calls', () => {
  test('validateAwsRole counts its two AssumeRole calls: accepted with the external id, AccessDenied without', async () => {
    const { admin } = anOrg();
    const role = { iamRoleArn: `arn:aws:iam::123456789012:role/metrics-${hex(4)}`, externalId: `ext-${hex(8)}` };
    fakes.sts.addRole({ arn: role.iamRoleArn, externalId: role.externalId });

    const { moved } = await during(async () => {
      const response = await vault.graphql<{ validateAwsRole: { ok: boolean } }>(
        VALIDATE_AWS_ROLE,
        { input: { role } },
        { token: admin.token },
      );
      expect(dataOf(response).validateAwsRole.ok).toBe(true);
    });

    expect(moved('cloud_calls_total', { service: 'sts', operation: 'AssumeRole', outcome: 'ok' })).toBe(1);
    expect(moved('cloud_calls_total', { service: 'sts', operation: 'AssumeRole', outcome: 'AccessDenied' })).toBe(1);
    expect(moved('graphql_requests_total', { operation: 'validateAwsRole', outcome: 'ok' })).toBe(1);
  });

  test("validateGoogleVertex counts this service's token call and Vertex AI's countTokens", async () => {
    const { admin } = anOrg();

    const { moved } = await during(async () => {
      const response = await vault.graphql<{ validateGoogleVertex: { ok: boolean } }>(
        VALIDATE_GOOGLE_VERTEX,
        { input: { googleAdc: {} }, projectId: VERTEX_PROJECT },
        { token: admin.token },
      );
      expect(dataOf(response).validateGoogleVertex.ok).toBe(true);
    });

    expect(moved('cloud_calls_total', { service: 'google', operation: 'oauth2:token', outcome: 'ok' })).toBe(1);
    expect(moved('cloud_calls_total', { service: 'google', operation: 'vertex:countTokens', outcome: 'ok' })).toBe(1);
  });
});

describe('state read on every scrape', () => {
  test('the PostgreSQL pool: open, idle and waiting connections', async () => {
    await anOrg().admin.created(aCredentialInput());
    const metrics = await scrape();

    expect(metrics.value('db_pool_connections')).toBeGreaterThanOrEqual(1);
    expect(metrics.value('db_pool_idle_connections')).toBeGreaterThanOrEqual(0);
    expect(metrics.value('db_pool_idle_connections')).toBeLessThanOrEqual(metrics.value('db_pool_connections'));
    expect(metrics.series('db_pool_waiting_requests')).toHaveLength(1);
  });

  test('the change feed is reported live', async () => {
    expect((await scrape()).series('change_feed_live')).toEqual([expect.objectContaining({ value: 1 })]);
  });

  test('audit_write_failures_total counts what the audit trail reports', async () => {
    const { moved, before } = await during(async () => countAuditWriteFailure());

    expect(before.series('audit_write_failures_total')).toHaveLength(1);
    expect(moved('audit_write_failures_total')).toBe(1);
  });
});

test('no id, token or secret of the traffic is ever a label value', async () => {
  const { admin, runtime } = anOrg();
  const apiKey = apiKeyCanary('metricsApiKey');
  const name = canary('metricsName');
  const credential = await admin.created(aCredentialInput({ name: name.value, auth: apiKeyAuth(apiKey.value) }));
  await runtime.credential(credential.id);
  await admin.update(credential.id, { auth: apiKeyAuth(anApiKey()) });
  await admin.create(aCredentialInput({ name: name.value }));

  const metrics = await scrape();

  expect(findCanaries([apiKey, name], [{ source: '/metrics', text: metrics.text }])).toEqual([]);
  for (const value of [credential.id, admin.orgId, admin.token, runtime.token]) expect(metrics.text).not.toContain(value);
});
