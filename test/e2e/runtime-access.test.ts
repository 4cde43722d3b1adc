// Who may use the runtime route, and what it accepts: runtime tokens only (admin and viewer are
// refused here, runtime tokens are refused by GraphQL and the REST admin routes), the audience
// RUNTIME_JWT_AUDIENCE asks for, RUNTIME_PORT=off, malformed bodies (400 in the REST envelope), and
// the listener's surface: one route and /healthz, nothing of the admin listener.
import { randomUUID } from 'node:crypto';
import { aCredentialInput, anApiKey, apiKeyAuth } from '../support/factories';
import { anOrganization, type Organization } from '../support/organizations';
import { aProviderInput } from '../support/provider-client';
import { expectRestError, REST_PREFIXES, restClient } from '../support/rest-client';
import { expectRuntimeError, materialOf, runtimeClient, runtimeRequest, runtimeToken, runtimeUrlOf } from '../support/runtime-client';
import { fetchJson, startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { expiredToken, wronglySignedToken } from '../support/tokens';
import { countCredentials, expectError } from '../support/vault-client';

let database: TestDatabase;
let vault: TestApp;

beforeAll(async () => {
  database = await createTestDatabase('runtime_access_e2e');
  vault = await startTestApp({ databaseUrl: database.url });
});

afterAll(async () => {
  await vault?.stop();
  await database?.drop();
});

/** A new organization with an API key credential and a provider backed by it. */
async function anOrgWithCredential(app: TestApp = vault): Promise<{ org: Organization; credentialId: string; providerId: string }> {
  const org = anOrganization(app);
  const credential = await org.admin.created(aCredentialInput({ auth: apiKeyAuth(anApiKey()) }));
  const provider = await org.admin.providers.created(aProviderInput(credential.id));
  return { org, credentialId: credential.id, providerId: provider.id };
}

describe('the runtime route refuses every token but a runtime one', () => {
  test('a runtime token of the organization is answered 200', async () => {
    const { org, credentialId } = await anOrgWithCredential();
    const response = await runtimeRequest(vault, { credential_id: credentialId }, { token: runtimeToken(org.id) });
    expect(response.status).toBe(200);
    expect(materialOf(response.body)).toBe('headers');
  });

  test.each([
    ['admin', ['admin']],
    ['viewer', ['viewer']],
    ['admin and viewer', ['admin', 'viewer']],
    ['an unknown role', ['gateway']],
    ['no role', []],
  ])('a token with %s is 403 FORBIDDEN, for a credential and for a provider of its own organization', async (_label, roles) => {
    const { org, credentialId, providerId } = await anOrgWithCredential();
    const token = vault.token({ orgId: org.id, roles });
    for (const body of [{ credential_id: credentialId }, { provider_id: providerId }]) {
      const response = await runtimeRequest(vault, body, { token });
      expectRuntimeError(response, { status: 403, type: 'permission_error', code: 'FORBIDDEN', param: null });
      expect(response.text).not.toContain('api_key');
    }
  });

  test.each([
    ['no Authorization header', () => null],
    ['a malformed token', () => 'not-a-jwt'],
    ['an expired runtime token', (orgId: string) => expiredToken({ orgId, roles: ['runtime'] })],
    ['a runtime token signed with another secret', (orgId: string) => wronglySignedToken({ orgId, roles: ['runtime'] })],
  ])('%s is 401 UNAUTHENTICATED', async (_label, tokenOf) => {
    const { org, credentialId } = await anOrgWithCredential();
    const response = await runtimeRequest(vault, { credential_id: credentialId }, { token: tokenOf(org.id) });
    expectRuntimeError(response, { status: 401, type: 'authentication_error', code: 'UNAUTHENTICATED', param: null });
  });
});

describe('the admin surfaces refuse runtime tokens', () => {
  test('GraphQL: a query and a mutation with a runtime token are FORBIDDEN, and nothing is written', async () => {
    const { org, credentialId } = await anOrgWithCredential();
    const token = runtimeToken(org.id);
    const before = await countCredentials(database);

    const read = await vault.graphql(`query($id: ID!) { credential(id: $id) { id name } }`, { id: credentialId }, { token });
    const list = await vault.graphql(`{ credentials(first: 5) { totalCount } }`, undefined, { token });
    const write = await vault.graphql(
      `mutation($input: CreateCredentialInput!) { createCredential(input: $input) { id } }`,
      { input: aCredentialInput() },
      { token },
    );

    for (const response of [read, list, write]) expectError(response, { code: 'FORBIDDEN' });
    expect(await countCredentials(database)).toBe(before);
  });

  test('GraphQL: a token with both admin and runtime is FORBIDDEN too', async () => {
    const { org } = await anOrgWithCredential();
    const token = vault.token({ orgId: org.id, roles: ['admin', 'runtime'] });
    expectError(await vault.graphql(`{ credentials(first: 5) { totalCount } }`, undefined, { token }), { code: 'FORBIDDEN' });
  });

  test.each(REST_PREFIXES)('REST under %s: reads and writes with a runtime token are 403 permission_error', async (prefix) => {
    const { org, credentialId } = await anOrgWithCredential();
    const client = restClient(vault, { prefix, token: runtimeToken(org.id) });
    const before = await countCredentials(database);

    const answers = [
      await client.get('/connections'),
      await client.get(`/connections/${credentialId}`),
      await client.put(`/connections/${credentialId}`, { api_key: anApiKey() }),
      await client.post('/connections', { name: 'from-runtime', model_provider: 'openai', auth_type: 'api_key', api_key: anApiKey() }),
      await client.delete(`/connections/${credentialId}`),
    ];

    for (const response of answers) expectRestError(response, { status: 403, type: 'permission_error' });
    expect(await countCredentials(database)).toBe(before);
    expect(await countCredentials(database, 'id = $1', [credentialId])).toBe(1);
  });
});

describe('request bodies', () => {
  let org: Organization;
  let credentialId: string;
  let providerId: string;

  beforeAll(async () => {
    ({ org, credentialId, providerId } = await anOrgWithCredential());
  });

  const bad = (body: Record<string, unknown> | undefined, options: { rawBody?: string; contentType?: string } = {}) =>
    runtimeClient(vault, org.id).request(body, options);

  test('both ids: 400', async () => {
    expectRuntimeError(await bad({ provider_id: providerId, credential_id: credentialId }), {
      status: 400,
      type: 'invalid_request_error',
      code: 'BAD_USER_INPUT',
      message: /exactly one/i,
    });
  });

  test('neither id (an empty object, or both null): 400', async () => {
    for (const body of [{}, { provider_id: null, credential_id: null }]) {
      expectRuntimeError(await bad(body), { status: 400, type: 'invalid_request_error', code: 'BAD_USER_INPUT' });
    }
  });

  test('a provider_id that is not a UUID: 400 on provider_id', async () => {
    expectRuntimeError(await bad({ provider_id: 'route-1' }), {
      status: 400,
      type: 'invalid_request_error',
      code: 'BAD_USER_INPUT',
      param: 'provider_id',
    });
  });

  test('a credential_id that is not a UUID: 400 on credential_id (the field the body names)', async () => {
    expectRuntimeError(await bad({ credential_id: 'my-openai-key' }), {
      status: 400,
      type: 'invalid_request_error',
      code: 'BAD_USER_INPUT',
      param: 'credential_id',
    });
  });

  test('an id that is not a string: 400 on that field', async () => {
    expectRuntimeError(await bad({ provider_id: 42 }), {
      status: 400,
      type: 'invalid_request_error',
      code: 'BAD_USER_INPUT',
      param: 'provider_id',
    });
  });

  test('an unknown field: 400 naming it', async () => {
    expectRuntimeError(await bad({ credential_id: credentialId, org_id: randomUUID() }), {
      status: 400,
      type: 'invalid_request_error',
      code: 'BAD_USER_INPUT',
      param: 'org_id',
    });
  });

  test('a body that is not JSON: 400', async () => {
    expectRuntimeError(await bad(undefined, { rawBody: '{"credential_id": ' }), {
      status: 400,
      type: 'invalid_request_error',
      code: 'BAD_USER_INPUT',
      param: null,
    });
  });

  test('a JSON array or string instead of an object: 400', async () => {
    for (const rawBody of [`[${JSON.stringify({ credential_id: credentialId })}]`, JSON.stringify(credentialId)]) {
      expectRuntimeError(await bad(undefined, { rawBody }), { status: 400, type: 'invalid_request_error', code: 'BAD_USER_INPUT' });
    }
  });

  test('a JSON body sent as text/plain: 415', async () => {
    expectRuntimeError(await bad(undefined, { rawBody: JSON.stringify({ credential_id: credentialId }), contentType: 'text/plain' }), {
      status: 415,
      type: 'invalid_request_error',
      code: 'BAD_USER_INPUT',
    });
  });
});

describe('the runtime listener', () => {
  test('is another origin than the admin listener, and GET /healthz answers there', async () => {
    expect(runtimeUrlOf(vault)).not.toBe(vault.baseUrl);
    expect(await fetchJson(`${runtimeUrlOf(vault)}/healthz`)).toEqual({ status: 200, body: { status: 'ok' } });
  });

  test('serves no GraphQL, no REST admin route and nothing else: 404 in the envelope', async () => {
    const { org } = await anOrgWithCredential();
    const token = runtimeToken(org.id);
    for (const [method, path] of [
      ['POST', '/graphql'],
      ['GET', '/admin/connections'],
      ['GET', '/v1/upstream-auth'],
      ['POST', '/v1/upstream-auth/extra'],
    ]) {
      const response = await runtimeRequest(vault, method === 'POST' ? { query: '{ __typename }' } : undefined, { token, method, path });
      expectRuntimeError(response, { status: 404, type: 'not_found_error', code: 'NOT_FOUND' });
    }
  });

  test('the admin listener does not serve /v1/upstream-auth', async () => {
    const { org, credentialId } = await anOrgWithCredential();
    const response = await fetch(`${vault.baseUrl}/v1/upstream-auth`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${runtimeToken(org.id)}` },
      body: JSON.stringify({ credential_id: credentialId }),
    });
    expect(response.status).toBe(404);
    expect(await response.text()).not.toContain('Bearer');
  });

  test('answers a CORS preflight without allowing any origin', async () => {
    const response = await fetch(`${runtimeUrlOf(vault)}/v1/upstream-auth`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(response.headers.get('access-control-allow-methods')).toBeNull();
  });
});

describe('RUNTIME_JWT_AUDIENCE', () => {
  const AUDIENCE = 'llm-gateway-runtime';
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ databaseUrl: database.url, env: { RUNTIME_JWT_AUDIENCE: AUDIENCE } });
  });

  afterAll(async () => {
    await app?.stop();
  });

  test('a runtime token with that aud is answered 200', async () => {
    const { org, credentialId } = await anOrgWithCredential(app);
    const response = await runtimeRequest(app, { credential_id: credentialId }, { token: runtimeToken(org.id, { audience: AUDIENCE }) });
    expect(response.status).toBe(200);
    expect(materialOf(response.body)).toBe('headers');
  });

  test('a runtime token without aud, or with another aud, is 401', async () => {
    const { org, credentialId } = await anOrgWithCredential(app);
    for (const token of [runtimeToken(org.id), runtimeToken(org.id, { audience: 'vault-admin' })]) {
      expectRuntimeError(await runtimeRequest(app, { credential_id: credentialId }, { token }), {
        status: 401,
        type: 'authentication_error',
        code: 'UNAUTHENTICATED',
      });
    }
  });

  test('an admin token with the runtime aud is still 403 on the runtime route', async () => {
    const { org, credentialId } = await anOrgWithCredential(app);
    const token = runtimeToken(org.id, { audience: AUDIENCE, roles: ['admin'] });
    expectRuntimeError(await runtimeRequest(app, { credential_id: credentialId }, { token }), {
      status: 403,
      type: 'permission_error',
      code: 'FORBIDDEN',
    });
  });
});

describe('RUNTIME_PORT=off', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ databaseUrl: database.url, env: { RUNTIME_PORT: 'off' } });
  });

  afterAll(async () => {
    await app?.stop();
  });

  test('app.runtimeUrl is null, and the admin listener still serves GraphQL but not the runtime route', async () => {
    expect(app.app.runtimeUrl).toBeNull();
    const { org, credentialId } = await anOrgWithCredential(app);
    const response = await fetch(`${app.baseUrl}/v1/upstream-auth`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${runtimeToken(org.id)}` },
      body: JSON.stringify({ credential_id: credentialId }),
    });
    expect(response.status).toBe(404);
  });
});
