// What the HTTP surface gives away in production and what it does not: no introspection, no
// Sandbox landing page, no "Did you mean" field suggestions; outside production the first two are
// available (without a token) and suggestions appear. Apollo's CSRF prevention guards both.
//
// A production start needs Cloud KMS over TLS with Google credentials, which no loopback fake
// offers; so the production server is built with createServer({ production: true }) over the
// services exactly as src/application.ts wires them (createServices). The key service (a local
// key ring) plays no part in what is checked here.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createServices } from '../../src/application';
import { TokenVerifier } from '../../src/auth/token-verifier';
import { loadConfig } from '../../src/config/config';
import { type DatabaseHandle, openDatabase } from '../../src/db/database';
import { createLogger } from '../../src/logging/logger';
import { createSchema } from '../../src/schema';
import { LocalKeyring } from '../../src/secrets/local-keyring';
import { createServer, type RunningServer } from '../../src/server';
import { Writable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { TEST_JWT_SECRET, validToken } from '../support/tokens';

let database: TestDatabase;
let development: TestApp;
let production: { server: RunningServer; database: DatabaseHandle; dataDir: string };

const INTROSPECTION = '{ __schema { queryType { name } types { name } } }';

async function startProductionServer(databaseUrl: string) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vault-production-'));
  const logger = createLogger({ level: 'silent', destination: new Writable({ write: (_chunk, _encoding, callback) => callback() }) });
  const keyService = await LocalKeyring.open(dataDir, { production: false });
  const handle = await openDatabase({ databaseUrl, dataDir });
  const services = createServices(loadConfig({ DATA_DIR: dataDir, JWT_SECRET: TEST_JWT_SECRET }), handle, keyService, logger);
  const server = await createServer({
    schema: await createSchema(),
    services,
    verifier: TokenVerifier.create({ secret: TEST_JWT_SECRET }),
    logger,
    production: true,
    readiness: [],
  });
  return { server: await server.listen(0, '127.0.0.1'), database: handle, dataDir };
}

interface Reply {
  status: number;
  contentType: string;
  text: string;
  json?: { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}

async function send(url: string, init: RequestInit = {}): Promise<Reply> {
  const response = await fetch(url, init);
  const text = await response.text();
  let json: Reply['json'];
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', text, json };
}

function post(url: string, query: string, headers: Record<string, string> = {}): Promise<Reply> {
  return send(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query }) });
}

function getQuery(url: string, query: string, headers: Record<string, string> = {}): Promise<Reply> {
  return send(`${url}?query=${encodeURIComponent(query)}`, { headers });
}

const adminToken = () => validToken({ orgId: randomUUID() });

beforeAll(async () => {
  database = await createTestDatabase('posture');
  development = await startTestApp({ databaseUrl: database.url });
  production = await startProductionServer(database.url);
});

afterAll(async () => {
  await production?.server.close();
  await production?.database.close();
  if (production) rmSync(production.dataDir, { recursive: true, force: true });
  await development?.stop();
  await database?.drop();
});

describe('starting with NODE_ENV=production', () => {
  test('without KMS_KEY_NAME is refused: the local key ring is for development only', async () => {
    await expect(startTestApp({ databaseUrl: database.url, env: { NODE_ENV: 'production' } })).rejects.toThrow(/KMS_KEY_NAME is required/);
  });
});

describe('in production', () => {
  test('an introspection query without a token gets an error, not the schema', async () => {
    const reply = await post(production.server.url, INTROSPECTION);

    expect(reply.json?.errors?.map((error) => error.message)).toEqual([expect.stringMatching(/introspection is not allowed/)]);
    expect(reply.json?.data?.__schema).toBeUndefined();
    expect(reply.text).not.toContain('"queryType"');
  });

  test('an introspection query with an admin token gets an error too', async () => {
    const reply = await post(production.server.url, INTROSPECTION, { authorization: `Bearer ${adminToken()}` });

    expect(reply.json?.errors?.length).toBeGreaterThan(0);
    expect(reply.json?.data?.__schema).toBeUndefined();
  });

  test('__type introspection is refused as well', async () => {
    const reply = await post(production.server.url, '{ __type(name: "Credential") { fields { name } } }', {
      authorization: `Bearer ${adminToken()}`,
    });

    expect(reply.json?.errors?.length).toBeGreaterThan(0);
    expect(reply.text).not.toContain('secretVersion');
  });

  test('GET /graphql from a browser (accept: text/html) is not the Sandbox landing page', async () => {
    const reply = await send(production.server.url, { headers: { accept: 'text/html' } });

    expect(reply.contentType).not.toContain('text/html');
    expect(reply.text).not.toMatch(/sandbox|<html/i);
  });

  test('a misspelled field is an error whose message suggests nothing', async () => {
    const reply = await post(production.server.url, '{ credentals { totalCount } }', { authorization: `Bearer ${adminToken()}` });

    const messages = (reply.json?.errors ?? []).map((error) => error.message);
    expect(messages).toHaveLength(1);
    expect(messages[0]).not.toMatch(/did you mean/i);
    expect(messages[0]).not.toContain('credentials');
  });

  test('a misspelled input field or a lower-case enum value in variables is an error whose message suggests nothing', async () => {
    const query = 'mutation($input: CreateCredentialInput!) { createCredential(input: $input) { id } }';
    const create = (input: Record<string, unknown>) =>
      fetch(production.server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken()}` },
        body: JSON.stringify({ query, variables: { input } }),
      }).then(async (response) => (await response.json()) as { errors?: { message: string }[] });

    const misspelled = await create({ name: 'posture', modelProvider: 'OPENAI', setings: {} });
    const lowerCase = await create({ name: 'posture', modelProvider: 'openai' });

    for (const reply of [misspelled, lowerCase]) {
      expect(reply.errors).toHaveLength(1);
      expect(reply.errors?.[0].message).not.toMatch(/did you mean/i);
    }
  });

  test('ordinary operations still work', async () => {
    const reply = await post(production.server.url, '{ credentials { totalCount } }', { authorization: `Bearer ${adminToken()}` });

    expect(reply.json).toEqual({ data: { credentials: { totalCount: 0 } } });
  });
});

describe('outside production', () => {
  test('an introspection query works without a token', async () => {
    const reply = await post(development.url, INTROSPECTION);

    expect(reply.json?.errors).toBeUndefined();
    expect(reply.json?.data?.__schema).toMatchObject({ queryType: { name: 'Query' } });
  });

  test('GET /graphql from a browser serves the Sandbox landing page', async () => {
    const reply = await send(development.url, { headers: { accept: 'text/html' } });

    expect(reply.status).toBe(200);
    expect(reply.contentType).toContain('text/html');
    expect(reply.text).toMatch(/sandbox/i);
  });

  test('a misspelled field gets a "Did you mean" suggestion (the production check above can fail)', async () => {
    const reply = await post(development.url, '{ credentals { totalCount } }', { authorization: `Bearer ${adminToken()}` });

    expect(reply.json?.errors?.[0]?.message).toMatch(/Did you mean "credentials"/);
  });
});

describe.each([
  ['in production', () => production.server.url],
  ['outside production', () => development.url],
])('CSRF prevention %s', (_label, urlOf) => {
  test('a GET query without apollo-require-preflight or a content-type is refused', async () => {
    const reply = await getQuery(urlOf(), '{ __typename }');

    expect(reply.status).toBe(400);
    expect(reply.json?.data).toBeUndefined();
    expect(reply.text).toMatch(/CSRF/);
  });

  test('a GET query with apollo-require-preflight: true is executed', async () => {
    const reply = await getQuery(urlOf(), '{ __typename }', { 'apollo-require-preflight': 'true' });

    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ data: { __typename: 'Query' } });
  });

  test('a POST with content-type: text/plain is refused', async () => {
    const reply = await send(urlOf(), {
      method: 'POST',
      headers: { 'content-type': 'text/plain', authorization: `Bearer ${adminToken()}` },
      body: JSON.stringify({ query: '{ credentials { totalCount } }' }),
    });

    expect(reply.status).toBe(400);
    expect(reply.json?.data).toBeUndefined();
    expect(reply.json?.errors?.[0]?.message).toMatch(/CSRF/);
  });
});
