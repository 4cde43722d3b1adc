// A client generated from the served /openapi.json (swagger-typescript-api, fetch), transpiled
// with TypeScript and loaded as CommonJS, drives the connection lifecycle against the real
// application under the /api/llm-gateway prefix the existing SDK sends: what the document says
// is what the server does, for a client that knows nothing but the document.
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import type { generateApi as GenerateApi } from 'swagger-typescript-api';
import { anApiKey, uniqueName } from '../support/factories';
import { hostRequire } from '../support/host-require';
import { anAdmin, type Member } from '../support/organizations';
import type { ConnectionJson, RestErrorJson } from '../support/rest-client';
import { TempDirs } from '../support/temp-dirs';
import { fetchJson, startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

// Its CommonJS build requires ESM-only packages (nanoid): loaded by Node's own require (see host-require.ts).
const { generateApi } = hostRequire('swagger-typescript-api') as { generateApi: typeof GenerateApi };

/** Generating, type-checking and transpiling take seconds on a shared machine. */
const GENERATOR_TIMEOUT_MS = 120_000;

interface GeneratedResponse<Data> {
  status: number;
  data: Data;
  error: unknown;
  headers: Headers;
}

type Call<Args extends unknown[], Data> = (...args: [...Args, params?: Record<string, unknown>]) => Promise<GeneratedResponse<Data>>;

interface ConnectionOperations {
  createConnection: Call<[data: Record<string, unknown>], ConnectionJson>;
  getConnection: Call<[id: string], ConnectionJson>;
  listConnections: Call<[], ConnectionJson[]>;
  updateConnection: Call<[id: string, data: Record<string, unknown>], ConnectionJson>;
  deleteConnection: Call<[id: string], { deleted: boolean }>;
}

interface GeneratedApiConfig {
  baseUrl: string;
  securityWorker: (token: string | null) => { headers: Record<string, string> } | undefined;
  customFetch: typeof fetch;
}

interface GeneratedClient {
  setSecurityData(token: string | null): void;
}

interface GeneratedModule {
  Api: new (config: GeneratedApiConfig) => GeneratedClient;
}

const tempDirs = new TempDirs('vault-generated-client-');
let database: TestDatabase;
let vault: TestApp;
let admin: Member;
let source: string;
let sourceFile: string;
let generated: GeneratedModule;
/** The document's `servers`. */
let servers: { url: string }[] = [];
/** Every URL the generated client fetched. */
const requested: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase('rest_generated_client');
  vault = await startTestApp({ databaseUrl: database.url });
  admin = anAdmin(vault);

  const served = await fetchJson<{ servers?: { url: string }[] }>(`${vault.baseUrl}/openapi.json`);
  if (served.status !== 200) throw new Error(`GET /openapi.json answered ${served.status}`);
  servers = served.body.servers ?? [];
  const output = await generateApi({ spec: served.body, output: false, httpClientType: 'fetch', silent: true });
  const files = output.files.filter((file) => file.fileExtension === '.ts');
  if (files.length !== 1) throw new Error(`expected one generated module, got ${files.map((file) => file.fileName).join(', ')}`);
  source = files[0].fileContent;

  const dir = tempDirs.make();
  sourceFile = path.join(dir, `${files[0].fileName}.ts`);
  writeFileSync(sourceFile, source);
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
    fileName: sourceFile,
  });
  const moduleFile = path.join(dir, `${files[0].fileName}.js`);
  writeFileSync(moduleFile, outputText);
  generated = hostRequire(moduleFile) as GeneratedModule;
}, GENERATOR_TIMEOUT_MS);

afterAll(async () => {
  await vault?.stop();
  await database?.drop();
  tempDirs.removeAll();
});

/** The document's second server: the absolute prefix the existing SDK sends (`/api/llm-gateway`). */
function sdkBaseUrl(): string {
  const server = servers[1];
  if (!server) throw new Error('the document has no second server');
  return `${vault.baseUrl}${server.url}`;
}

/** A generated client acting as `member`, recording every URL it fetches. */
function clientFor(member: Member): ConnectionOperations {
  const api = new generated.Api({
    baseUrl: sdkBaseUrl(),
    securityWorker: (token) => (token ? { headers: { Authorization: `Bearer ${token}` } } : undefined),
    customFetch: (input, init) => {
      requested.push(input instanceof Request ? input.url : String(input));
      return fetch(input, init);
    },
  });
  api.setSecurityData(member.token);
  // The generator groups operations by the first path segment (api.admin.*); find them by name.
  const group = Object.values(api).find(
    (value): value is ConnectionOperations => typeof value === 'object' && value !== null && 'createConnection' in value,
  );
  if (!group) throw new Error('the generated client has no createConnection operation');
  return group;
}

/** What a generated call rejects with: the fetch Response, its parsed error body as `error`. */
async function rejection(call: Promise<unknown>): Promise<GeneratedResponse<unknown>> {
  try {
    await call;
  } catch (failure) {
    return failure as GeneratedResponse<unknown>;
  }
  throw new Error('the call succeeded');
}

async function createdBy(client: ConnectionOperations, overrides: Record<string, unknown> = {}): Promise<ConnectionJson> {
  const { data } = await client.createConnection({
    name: uniqueName('generated'),
    model_provider: 'openai',
    api_key: anApiKey(),
    ...overrides,
  });
  return data;
}

describe('the generated client', () => {
  test('is one TypeScript module that transpiles without syntax errors', () => {
    const result = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS }, reportDiagnostics: true });

    expect(result.diagnostics?.map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'))).toEqual([]);
    expect(source).toContain('createConnection');
  });

  test(
    'type-checks under strict TypeScript',
    () => {
      const program = ts.createProgram([sourceFile], {
        strict: true,
        noEmit: true,
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.CommonJS,
        lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
        types: [],
      });
      const diagnostics = ts
        .getPreEmitDiagnostics(program)
        .map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));

      expect(diagnostics).toEqual([]);
    },
    GENERATOR_TIMEOUT_MS,
  );
});

describe('the connection lifecycle through the generated client', () => {
  test('the document names /api/llm-gateway as its second server', () => {
    expect(servers[1]?.url).toBe('/api/llm-gateway');
  });

  test('createConnection answers the new connection, without its key', async () => {
    const client = clientFor(admin);
    const apiKey = anApiKey();
    const name = uniqueName('generated');

    const { status, data } = await client.createConnection({ name, model_provider: 'openai', api_key: apiKey, change_note: 'via the SDK' });

    expect(status).toBe(200);
    expect(data).toMatchObject({
      org_id: admin.orgId,
      name,
      model_provider: 'openai',
      auth_type: 'api_key',
      key_last4: apiKey.slice(-4),
      stores_key_material: true,
      secret_version: 1,
      last_change_note: 'via the SDK',
    });
    expect(JSON.stringify(data)).not.toContain(apiKey);
  });

  test('getConnection answers the connection createConnection made', async () => {
    const client = clientFor(admin);
    const created = await createdBy(client);

    const { status, data } = await client.getConnection(created.id);

    expect(status).toBe(200);
    expect(data).toEqual(created);
  });

  test('listConnections answers an array holding the created connection', async () => {
    const client = clientFor(admin);
    const created = await createdBy(client);

    const { data } = await client.listConnections();

    expect(Array.isArray(data)).toBe(true);
    expect(data.map((connection) => connection.id)).toContain(created.id);
  });

  test('updateConnection renames and merges settings', async () => {
    const client = clientFor(admin);
    const created = await createdBy(client, { settings: { organization: 'org-one' } });
    const name = uniqueName('renamed');

    const { data } = await client.updateConnection(created.id, { name, settings: { project: 'proj-two' } });

    expect(data).toMatchObject({ id: created.id, name, settings: { organization: 'org-one', project: 'proj-two' }, secret_version: 1 });
  });

  test('updateConnection with api_key rotates the secret', async () => {
    const client = clientFor(admin);
    const created = await createdBy(client);
    const apiKey = anApiKey();

    const { data } = await client.updateConnection(created.id, { api_key: apiKey });

    expect(data).toMatchObject({ id: created.id, key_last4: apiKey.slice(-4), secret_version: 2 });
  });

  test('deleteConnection answers {deleted: true}', async () => {
    const client = clientFor(admin);
    const created = await createdBy(client);

    const { status, data } = await client.deleteConnection(created.id);

    expect(status).toBe(200);
    expect(data).toEqual({ deleted: true });
  });

  test('a deleted connection is gone: getConnection rejects with 404 and the error envelope', async () => {
    const client = clientFor(admin);
    const created = await createdBy(client);
    await client.deleteConnection(created.id);

    const failure = await rejection(client.getConnection(created.id));

    expect(failure.status).toBe(404);
    expect((failure.error as RestErrorJson).error).toMatchObject({ type: 'not_found_error', code: 'NOT_FOUND' });
  });

  test('a refused body rejects with 400 naming the field', async () => {
    const client = clientFor(admin);

    const failure = await rejection(
      client.createConnection({ name: uniqueName('refused'), model_provider: 'openai', api_key: anApiKey(), colour: 'blue' }),
    );

    expect(failure.status).toBe(400);
    expect((failure.error as RestErrorJson).error).toMatchObject({ type: 'invalid_request_error', param: 'colour' });
  });

  test('without a token the generated call rejects with 401', async () => {
    const client = clientFor({ ...admin, token: '' });

    const failure = await rejection(client.getConnection(randomUUID()));

    expect(failure.status).toBe(401);
    expect((failure.error as RestErrorJson).error.type).toBe('authentication_error');
  });

  test('the generated client sends its requests under /api/llm-gateway/admin', async () => {
    const client = clientFor(admin);
    requested.length = 0;

    await client.listConnections();

    expect(requested).toEqual([`${vault.baseUrl}/api/llm-gateway/admin/connections`]);
  });
});
