// CORS over HTTP: with CORS_ORIGINS set, a listed origin's preflight to /graphql, either mount of
// the REST door or /openapi.json is answered 204 with the methods and headers the API takes, and
// its answers let the page read them; an origin not on the list, the other routes and the runtime
// listener get no CORS header, and no answer allows credentials. Requests a browser sends without
// a preflight are still held to Apollo's CSRF prevention. The browser's own view of all this is
// test/e2e/cors-browser.test.ts.
import { aCredentialInput } from '../support/factories';
import { anAdmin } from '../support/organizations';
import { startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { countCredentials, type VaultClient } from '../support/vault-client';

const PORTAL = 'https://portal.example.com';
const OTHER_PORTAL = 'http://localhost:5173';
const UNLISTED = 'https://evil.example.com';

let database: TestDatabase;
let vault: TestApp;
/** The same application without CORS_ORIGINS. */
let closed: TestApp;
let admin: VaultClient;

beforeAll(async () => {
  database = await createTestDatabase('cors');
  vault = await startTestApp({ databaseUrl: database.url, env: { CORS_ORIGINS: `${PORTAL}, ${OTHER_PORTAL}` } });
  closed = await startTestApp({ databaseUrl: database.url });
  admin = anAdmin(vault);
});

afterAll(async () => {
  await closed?.stop();
  await vault?.stop();
  await database?.drop();
});

/** The browser's preflight for a JSON request with a bearer token. */
function preflight(url: string, origin: string, method = 'POST'): Promise<Response> {
  return fetch(url, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization, content-type' },
  });
}

/** Every Access-Control-* header of a response. */
function corsHeaders(response: Response): Record<string, string> {
  return Object.fromEntries([...response.headers].filter(([name]) => name.startsWith('access-control-')));
}

const listOf = (header: string | null) => (header ?? '').split(',').map((part) => part.trim().toLowerCase());

describe('a preflight from a listed origin', () => {
  test.each([
    ['/graphql', 'POST', 'GET, POST'],
    ['/admin/connections', 'POST', 'GET, POST, PUT, DELETE'],
    ['/api/llm-gateway/admin/connections/00000000-0000-4000-8000-000000000001', 'PUT', 'GET, POST, PUT, DELETE'],
    ['/openapi.json', 'GET', 'GET'],
  ])('to %s is 204 with the methods, the headers, the origin and Vary: Origin, without credentials', async (path, method, methods) => {
    const response = await preflight(`${vault.baseUrl}${path}`, PORTAL, method);

    expect(response.status).toBe(204);
    expect(corsHeaders(response)).toEqual({
      'access-control-allow-origin': PORTAL,
      'access-control-allow-methods': methods,
      'access-control-allow-headers': expect.any(String),
      'access-control-max-age': '600',
    });
    expect(listOf(response.headers.get('access-control-allow-headers'))).toEqual(
      expect.arrayContaining(['authorization', 'content-type', 'idempotency-key', 'if-match', 'apollo-require-preflight']),
    );
    expect(listOf(response.headers.get('vary'))).toContain('origin');
    expect(await response.text()).toBe('');
  });

  test('answers each listed origin with its own origin', async () => {
    const response = await preflight(vault.url, OTHER_PORTAL);

    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(OTHER_PORTAL);
  });

  test('is not counted as a REST request in the metrics', async () => {
    await preflight(`${vault.baseUrl}/admin/no-such-route`, PORTAL);
    const metrics = await (await fetch(`${vault.baseUrl}/metrics`)).text();

    expect(metrics).not.toMatch(/rest_requests_total\{[^}]*method="OPTIONS"/);
  });
});

describe('an origin that is not listed', () => {
  test('gets no CORS header on a preflight or an answer, where a listed origin gets them; both get Vary: Origin', async () => {
    const listed = await preflight(vault.url, PORTAL);
    const unlistedPreflight = await preflight(vault.url, UNLISTED);
    const unlistedAnswer = await fetch(`${vault.baseUrl}/admin/connections`, {
      headers: { origin: UNLISTED, authorization: `Bearer ${admin.token}` },
    });

    expect(corsHeaders(listed)).not.toEqual({});
    expect(corsHeaders(unlistedPreflight)).toEqual({});
    expect(unlistedAnswer.status).toBe(200);
    expect(corsHeaders(unlistedAnswer)).toEqual({});
    expect(listOf(unlistedAnswer.headers.get('vary'))).toContain('origin');
  });

  test('that differs from a listed one only in scheme, port or case gets no CORS header', async () => {
    for (const origin of ['http://portal.example.com', 'https://portal.example.com:8443', 'https://PORTAL.example.com', `${PORTAL}.evil`]) {
      expect(corsHeaders(await preflight(vault.url, origin))).toEqual({});
    }
    expect(corsHeaders(await preflight(vault.url, PORTAL))).not.toEqual({});
  });
});

describe('answers to a listed origin', () => {
  test('GraphQL answers carry the origin and expose ETag and X-Request-Id, never credentials', async () => {
    const response = await fetch(vault.url, {
      method: 'POST',
      headers: { origin: PORTAL, 'content-type': 'application/json', authorization: `Bearer ${admin.token}` },
      body: JSON.stringify({ query: '{ credentials { totalCount } }' }),
    });

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { credentials: { totalCount: 0 } } });
    expect(corsHeaders(response)).toEqual({
      'access-control-allow-origin': PORTAL,
      'access-control-expose-headers': 'ETag, X-Request-Id',
    });
    expect(listOf(response.headers.get('vary'))).toContain('origin');
  });

  test('REST answers carry the origin too, errors included, so the page can read why', async () => {
    const ok = await fetch(`${vault.baseUrl}/api/llm-gateway/admin/connections`, {
      headers: { origin: PORTAL, authorization: `Bearer ${admin.token}` },
    });
    const refused = await fetch(`${vault.baseUrl}/admin/connections`, { headers: { origin: PORTAL } });

    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe(PORTAL);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin')).toBe(PORTAL);
    expect(refused.headers.get('access-control-allow-credentials')).toBeNull();
  });

  test('/openapi.json carries the origin', async () => {
    const response = await fetch(`${vault.baseUrl}/openapi.json`, { headers: { origin: PORTAL } });

    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(PORTAL);
  });

  test('/healthz, /readyz and /metrics answer no CORS header, unlike /openapi.json beside them', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics']) {
      const response = await fetch(`${vault.baseUrl}${path}`, { headers: { origin: PORTAL } });
      expect(response.status).toBe(200);
      expect(corsHeaders(response)).toEqual({});
    }
    const openApi = await fetch(`${vault.baseUrl}/openapi.json`, { headers: { origin: PORTAL } });
    expect(corsHeaders(openApi)).not.toEqual({});
  });
});

describe("Apollo's CSRF prevention still holds for a listed origin", () => {
  test('a GET query without a preflight header is refused, though the answer names the origin', async () => {
    const url = `${vault.url}?${new URLSearchParams({ query: '{ credentials { totalCount } }' }).toString()}`;
    const response = await fetch(url, { headers: { origin: PORTAL, authorization: `Bearer ${admin.token}` } });

    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/CSRF/);
    expect(response.headers.get('access-control-allow-origin')).toBe(PORTAL);
  });

  test('a text/plain POST (a form could send one) is refused and creates nothing', async () => {
    const before = await countCredentials(database);
    const input = JSON.stringify(aCredentialInput()).replace(/"(\w+)":/g, '$1:');
    const response = await fetch(vault.url, {
      method: 'POST',
      headers: { origin: PORTAL, 'content-type': 'text/plain', authorization: `Bearer ${admin.token}` },
      body: JSON.stringify({ query: `mutation { createCredential(input: ${input}) { id } }` }),
    });

    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/CSRF/);
    expect(response.headers.get('access-control-allow-origin')).toBe(PORTAL);
    expect(await countCredentials(database)).toBe(before);
  });
});

describe('where CORS is off', () => {
  test('without CORS_ORIGINS, the preflight a listed origin gets 204 for gets no CORS header', async () => {
    const open = await preflight(vault.url, PORTAL);
    const off = await preflight(closed.url, PORTAL);

    expect(open.status).toBe(204);
    expect(corsHeaders(off)).toEqual({});
    expect(listOf(off.headers.get('vary'))).not.toContain('origin');
  });

  test('the runtime listener answers a listed origin no CORS header, preflight or not', async () => {
    const runtimeUrl = `${vault.app.runtimeUrl}/v1/upstream-auth`;
    const runtimePreflight = await preflight(runtimeUrl, PORTAL);
    const runtimeAnswer = await fetch(runtimeUrl, {
      method: 'POST',
      headers: { origin: PORTAL, 'content-type': 'application/json' },
      body: '{}',
    });
    const mainPreflight = await preflight(vault.url, PORTAL);

    expect(corsHeaders(runtimePreflight)).toEqual({});
    expect(runtimeAnswer.status).toBe(401);
    expect(corsHeaders(runtimeAnswer)).toEqual({});
    expect(corsHeaders(mainPreflight)).not.toEqual({});
  });
});
