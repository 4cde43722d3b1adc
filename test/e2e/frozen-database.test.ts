// A database that stops answering, as a frozen (SIGSTOPped) server does: connections stay open
// and nothing comes back. The application reaches its own database through a TCP proxy that can
// stop forwarding (the shared server is never frozen: other files use it meanwhile). While it is
// frozen every door answers DATABASE_UNAVAILABLE (a 503 on REST and on the runtime listener) in
// bounded time, /healthz still answers, /readyz says 503, and nothing is logged as an error; once
// it answers again everything works without a restart, and no connection a deadline cut off is
// handed to the next caller.
import { aCredentialInput } from '../support/factories';
import { anOrganization, type Organization } from '../support/organizations';
import { restClient } from '../support/rest-client';
import { expectRuntimeError, runtimeClient, type RuntimeClient } from '../support/runtime-client';
import { sleep } from '../support/sleep';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { fetchJson, logEvents, startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { withinDeadline } from '../support/validation-harness';
import { type CredentialView, dataOf, expectError, storedRow } from '../support/vault-client';

const CONNECT_TIMEOUT_MS = 1000;
const QUERY_TIMEOUT_MS = 1500;
const DEADLINES = {
  DATABASE_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
  DATABASE_STATEMENT_TIMEOUT_MS: '1000',
  DATABASE_QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS),
  // Long, so that the server never ends a transaction the proxy cut off by itself: what becomes of
  // that transaction's connection is up to the vault.
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '60000',
};
/** Generous, never tight: a request makes a few waits on the database at most, on a busy machine. */
const BOUND_MS = 3 * (CONNECT_TIMEOUT_MS + QUERY_TIMEOUT_MS);
/** /readyz gives each dependency 2 s; the rest is slack. */
const READINESS_BOUND_MS = 3 * 2000;

let database: TestDatabase;
let proxy: TcpProxy;
let vault: TestApp;
let org: Organization;
let gateway: RuntimeClient;

beforeAll(async () => {
  database = await createTestDatabase('frozen_database');
  const server = new URL(database.url);
  proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port || 5432) });
  vault = await startTestApp({ databaseUrl: proxy.urlFor(database.url), env: DEADLINES });
  org = anOrganization(vault);
  gateway = runtimeClient(vault, org.id);
});

afterAll(async () => {
  proxy?.resume();
  await vault?.stop();
  await proxy?.close();
  await database?.drop();
});

/** What `request` answered, failing the test when it has not answered within `ms` (it hangs without deadlines). */
async function answeredWithin<Answer>(ms: number, request: Promise<Answer>): Promise<Answer> {
  const outcome = await withinDeadline(request, ms);
  if (!outcome.finished) throw new Error(`no answer within ${ms} ms`);
  return outcome.value;
}

function rest() {
  return restClient(vault, { token: org.admin.token });
}

let known: CredentialView;
/** Never resolved by the runtime listener before the freeze, so no replica keeps its row in memory. */
let neverResolved: CredentialView;

describe('while the database does not answer', () => {
  let firstLogLine: number;

  beforeAll(async () => {
    known = await org.admin.created(aCredentialInput());
    neverResolved = await org.admin.created(aCredentialInput());
    firstLogLine = vault.logLines.length;
    proxy.pause();
  });

  afterAll(() => proxy.resume());

  test('a GraphQL query fails with DATABASE_UNAVAILABLE in bounded time', async () => {
    const response = await answeredWithin(BOUND_MS, org.admin.list());

    expectError(response, { code: 'DATABASE_UNAVAILABLE' });
  });

  test('a GraphQL mutation fails with DATABASE_UNAVAILABLE in bounded time', async () => {
    const response = await answeredWithin(BOUND_MS, org.admin.create(aCredentialInput()));

    expectError(response, { code: 'DATABASE_UNAVAILABLE' });
  });

  test('a REST read is a 503 DATABASE_UNAVAILABLE in bounded time', async () => {
    const response = await answeredWithin(BOUND_MS, rest().get(`/connections/${known.id}`));

    expect({ status: response.status, body: response.body }).toEqual({
      status: 503,
      body: { error: { message: expect.any(String), type: 'service_unavailable_error', param: null, code: 'DATABASE_UNAVAILABLE' } },
    });
  });

  test('a runtime resolve the row cache cannot answer is a 503 DATABASE_UNAVAILABLE in bounded time', async () => {
    const response = await answeredWithin(BOUND_MS, gateway.request({ credential_id: neverResolved.id }));

    expectRuntimeError(response, { status: 503, type: 'service_unavailable_error', code: 'DATABASE_UNAVAILABLE' });
  });

  test('/healthz still answers 200 at once', async () => {
    const health = await answeredWithin(1000, fetchJson(`${vault.baseUrl}/healthz`));

    expect(health).toEqual({ status: 200, body: { status: 'ok' } });
  });

  test('/readyz answers 503 naming the database within its own bound', async () => {
    const ready = await answeredWithin(READINESS_BOUND_MS, fetchJson<Record<string, unknown>>(`${vault.baseUrl}/readyz`));

    expect(ready).toEqual({
      status: 503,
      body: { status: 'unavailable', failed: ['database'], checks: { database: 'failed', keyService: 'ok' } },
    });
  });

  test('nothing is logged as an error: each failure is a warning naming the wait that gave up, without a stack', () => {
    const lines = vault.logLines.slice(firstLogLine).map((line) => JSON.parse(line) as Record<string, unknown>);
    const warnings = logEvents(vault.logLines.slice(firstLogLine), 'database_unavailable');

    expect(lines.filter((line) => line.level === 'error' || line.level === 'fatal')).toEqual([]);
    expect(lines.filter((line) => JSON.stringify(line).includes('"stack"'))).toEqual([]);
    expect(warnings.length).toBeGreaterThanOrEqual(4);
    expect(warnings.every((line) => line.level === 'warn' && typeof line.reason === 'string')).toBe(true);
  });
});

// Runs after the freeze above, on the same application.
describe('once the database answers again, without a restart', () => {
  test('GraphQL reads and writes succeed', async () => {
    const created = dataOf(await org.admin.create(aCredentialInput())).createCredential;
    const listed = await org.admin.listed({ first: 100 });

    expect(listed.edges.map((edge) => edge.node.id)).toContain(created.id);
  });

  test('REST reads succeed', async () => {
    const response = await rest().get(`/connections/${neverResolved.id}`);

    expect(response.status).toBe(200);
  });

  test('the runtime listener resolves a credential it never resolved before', async () => {
    const answer = await gateway.credential(neverResolved.id);

    expect(answer.credential_id).toBe(neverResolved.id);
  });

  test('/readyz answers 200', async () => {
    const ready = await fetchJson<Record<string, unknown>>(`${vault.baseUrl}/readyz`);

    expect(ready.status).toBe(200);
  });
});

describe('a statement cut off inside a transaction', () => {
  test('leaves no connection behind for the next caller: the next write commits', async () => {
    const credential = await org.admin.created(aCredentialInput());
    // deleteCredential locks the row (SELECT ... FOR UPDATE) in a transaction: the freeze begins
    // after BEGIN reached the server and before the lock did.
    proxy.pauseWhenClientSends('FOR UPDATE');
    const deleted = await answeredWithin(BOUND_MS, org.admin.delete(credential.id));
    expectError(deleted, { code: 'DATABASE_UNAVAILABLE' });
    proxy.resume();

    const renamed = `${credential.name}-renamed`;
    dataOf(await org.admin.update(credential.id, { name: renamed }));

    expect((await storedRow(database, credential.id))?.name).toBe(renamed);
    expect(await sessionsIdleInTransaction()).toBe(0);
  });
});

/** The application's sessions on its database that sit inside a transaction nobody will end. */
async function sessionsIdleInTransaction(): Promise<number> {
  // The server learns of a closed connection a moment after the vault closes it.
  for (let attempt = 0; ; attempt += 1) {
    const [row] = await database.query<{ count: number }>(
      "SELECT count(*)::int AS count FROM pg_stat_activity WHERE datname = $1 AND state LIKE 'idle in transaction%'",
      [database.name],
    );
    if (row.count === 0 || attempt === 20) return row.count;
    await sleep(100);
  }
}
