// The HTTP surface around GraphQL: liveness and readiness, the Sandbox landing page for browsers,
// GET for queries, refused bodies, and one request log line per GraphQL request that never
// carries the query text or the variables.
import { aCredentialInput, hex } from '../support/factories';
import { anAdmin, aViewer } from '../support/organizations';
import { fetchJson, logEvents, startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { dataOf, expectError, type VaultClient } from '../support/vault-client';

let database: TestDatabase;
let vault: TestApp;
let admin: VaultClient;

beforeAll(async () => {
  database = await createTestDatabase('http_surface');
  vault = await startTestApp({ databaseUrl: database.url });
  admin = anAdmin(vault);
});

afterAll(async () => {
  await vault?.stop();
  await database?.drop();
});

describe('health', () => {
  test('/healthz answers 200 {"status":"ok"}', async () => {
    const health = await fetchJson(`${vault.baseUrl}/healthz`);

    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: 'ok' });
  });

  test('/readyz answers 200 when the database and the key service answer', async () => {
    const ready = await fetchJson<Record<string, unknown>>(`${vault.baseUrl}/readyz`);

    expect(ready.status).toBe(200);
    expect(ready.body.checks).toEqual({ database: 'ok', keyService: 'ok' });
  });

  test('/readyz answers 503 naming the database when the database is gone', async () => {
    const doomed = await createTestDatabase('http_surface_doomed');
    const app = await startTestApp({ databaseUrl: doomed.url });
    let dropped = false;
    try {
      dataOf(await anAdmin(app).list());
      await doomed.drop();
      dropped = true;

      const { status, body } = await fetchJson<{ failed: string[]; checks: Record<string, string> }>(`${app.baseUrl}/readyz`);

      expect(status).toBe(503);
      expect(body.failed).toEqual(['database']);
      expect(body.checks).toEqual({ database: 'failed', keyService: 'ok' });
    } finally {
      await app.stop();
      if (!dropped) await doomed.drop();
    }
  });
});

describe('/graphql over GET', () => {
  test('a browser gets the Apollo Sandbox landing page', async () => {
    const response = await fetch(vault.url, { headers: { accept: 'text/html' } });
    const html = await response.text();

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(html).toMatch(/^\s*<!DOCTYPE html>/i);
    expect(html).toContain('embeddable-sandbox');
  });

  test('a query can be sent with GET', async () => {
    const reader = aViewer(vault);
    const url = `${vault.url}?${new URLSearchParams({ query: 'query Count { credentials { totalCount } }' }).toString()}`;
    const response = await fetch(url, { headers: { authorization: `Bearer ${reader.token}`, 'apollo-require-preflight': 'true' } });

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { credentials: { totalCount: 0 } } });
  });

  test('a mutation sent with GET is refused with 405 and changes nothing', async () => {
    const credential = await admin.created(aCredentialInput());
    const url = `${vault.url}?${new URLSearchParams({ query: `mutation { deleteCredential(id: "${credential.id}") }` }).toString()}`;
    const response = await fetch(url, { headers: { authorization: `Bearer ${admin.token}`, 'apollo-require-preflight': 'true' } });
    const body = (await response.json()) as { errors: { extensions: { code: string } }[] };

    expect(response.status).toBe(405);
    expect(body.errors.map((error) => error.extensions.code)).toEqual(['BAD_REQUEST']);
    expect(await admin.read(credential.id)).toEqual(credential);
  });
});

describe('refused bodies', () => {
  async function post(body: string) {
    const response = await fetch(vault.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin.token}` },
      body,
    });
    return {
      status: response.status,
      body: (await response.json()) as { errors: { message: string; extensions: Record<string, unknown> }[] },
    };
  }

  test('malformed JSON is 400 BAD_REQUEST with a fixed message', async () => {
    const response = await post('{"query": "query { credentials { totalCount } }", ');

    expect(response.status).toBe(400);
    expect(response.body).toEqual({ errors: [{ message: 'The request body is not valid JSON.', extensions: { code: 'BAD_REQUEST' } }] });
  });

  test('a body over 256 KiB is 413 BAD_REQUEST', async () => {
    const response = await post(
      JSON.stringify({ query: 'query { credentials { totalCount } }', variables: { filler: 'x'.repeat(300 * 1024) } }),
    );

    expect(response.status).toBe(413);
    expect(response.body.errors.map((error) => error.extensions)).toEqual([{ code: 'BAD_REQUEST' }]);
  });
});

describe('request log', () => {
  interface RequestLine {
    event: string;
    operationName: string | null;
    durationMs: number;
    outcome: string;
    errorCodes: string[];
    [key: string]: unknown;
  }

  /** Runs `act` and returns the log lines it produced. */
  async function linesDuring(act: () => Promise<unknown>): Promise<string[]> {
    const before = vault.logLines.length;
    await act();
    return vault.logLines.slice(before);
  }

  const requestLines = (lines: string[]) => logEvents<RequestLine>(lines, 'graphql_request');

  test('one line per GraphQL request, with operationName, durationMs and outcome', async () => {
    const lines = await linesDuring(async () => {
      dataOf(await vault.graphql('query FirstLook { credentials { totalCount } }', undefined, { token: admin.token }));
      dataOf(await vault.graphql('query SecondLook { credentials { totalCount } }', undefined, { token: admin.token }));
      expectError(await vault.graphql('query Refused { credentials { totalCount } }'), { code: 'UNAUTHENTICATED' });
    });

    expect(
      requestLines(lines).map(({ operationName, outcome, errorCodes, durationMs }) => ({ operationName, outcome, errorCodes, durationMs })),
    ).toEqual([
      { operationName: 'FirstLook', outcome: 'ok', errorCodes: [], durationMs: expect.any(Number) },
      { operationName: 'SecondLook', outcome: 'ok', errorCodes: [], durationMs: expect.any(Number) },
      { operationName: 'Refused', outcome: 'error', errorCodes: ['UNAUTHENTICATED'], durationMs: expect.any(Number) },
    ]);
    expect(requestLines(lines).every((line) => line.durationMs >= 0)).toBe(true);
  });

  test('a mutation logs one request line and never its query text or variables', async () => {
    const variableMarker = `variable-marker-${hex(8)}`;
    const queryMarker = `queryMarker${hex(8)}`;

    const lines = await linesDuring(async () => {
      dataOf(
        await vault.graphql(
          `mutation CreateLogged($input: CreateCredentialInput!) { ${queryMarker}: createCredential(input: $input) { id } }`,
          { input: aCredentialInput({ name: variableMarker, settings: { note: variableMarker } }) },
          { token: admin.token },
        ),
      );
      expectError(
        await vault.graphql(
          `mutation CreateRefused($input: CreateCredentialInput!) { ${queryMarker}: createCredential(input: $input) { id } }`,
          { input: { ...aCredentialInput(), settings: variableMarker } },
          { token: admin.token },
        ),
        { code: 'BAD_USER_INPUT', field: 'input.settings' },
      );
    });

    expect(requestLines(lines).map(({ operationName, outcome, errorCodes }) => ({ operationName, outcome, errorCodes }))).toEqual([
      { operationName: 'CreateLogged', outcome: 'ok', errorCodes: [] },
      { operationName: 'CreateRefused', outcome: 'error', errorCodes: ['BAD_USER_INPUT'] },
    ]);
    for (const line of lines) {
      expect(line).not.toContain(variableMarker);
      expect(line).not.toContain(queryMarker);
      expect(Object.keys(JSON.parse(line) as object)).not.toEqual(expect.arrayContaining(['query']));
      expect(Object.keys(JSON.parse(line) as object)).not.toEqual(expect.arrayContaining(['variables']));
    }
  });
});
