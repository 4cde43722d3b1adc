// GET /openapi.json against the REST door it describes: a valid OpenAPI 3.1 document whose
// every $ref resolves; every route the Express router registers is documented and every
// documented operation is served (under both servers); the request bodies the document declares
// closed are the ones the server refuses unknown fields of (one source of schemas); and every
// operation names itself, its 200 answer and its errors in the Error envelope.
import type { Validator as OpenApiValidator } from '@seriousme/openapi-schema-validator';
import type { Router } from 'express';
import { createServices } from '../../src/application';
import { TokenVerifier } from '../../src/auth/token-verifier';
import { createRestRouter } from '../../src/rest/rest.router';
import { aCredentialInput } from '../support/factories';
import { hostRequire } from '../support/host-require';
import { anAdmin, type Member } from '../support/organizations';
import { type RestErrorJson, type RestMethod, restRequest } from '../support/rest-client';
import { fetchJson, startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { TEST_JWT_SECRET } from '../support/tokens';

// ESM-only: loaded by Node's own require, outside Jest's registry (see host-require.ts).
const { Validator } = hostRequire('@seriousme/openapi-schema-validator') as { Validator: typeof OpenApiValidator };

type Json = Record<string, unknown>;

interface Operation extends Json {
  operationId?: string;
  requestBody?: { content?: Record<string, { schema?: Json }> };
  responses?: Record<string, { content?: Record<string, { schema?: Json }> }>;
}

interface OpenApiDocument extends Json {
  openapi: string;
  servers: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Json> };
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const ERROR_REF = '#/components/schemas/Error';
const NOT_A_ROUTE = 'No such route.';

let database: TestDatabase;
let vault: TestApp;
let admin: Member;
let doc: OpenApiDocument;

beforeAll(async () => {
  database = await createTestDatabase('openapi_e2e');
  vault = await startTestApp({ databaseUrl: database.url });
  admin = anAdmin(vault);
  const served = await fetchJson<OpenApiDocument>(`${vault.baseUrl}/openapi.json`);
  if (served.status !== 200) throw new Error(`GET /openapi.json answered ${served.status}`);
  doc = served.body;
});

afterAll(async () => {
  await vault?.stop();
  await database?.drop();
});

/** Every operation of the document as [method, path, operation]. */
function operations(): [string, string, Operation][] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => HTTP_METHODS.includes(method))
      .map(([method, operation]): [string, string, Operation] => [method, path, operation]),
  );
}

/** Every `$ref` in `value`, with the JSON path where it appears. */
function refsIn(value: unknown, at = '#'): { at: string; ref: string }[] {
  if (Array.isArray(value)) return value.flatMap((item, index) => refsIn(item, `${at}/${index}`));
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, child]) =>
    key === '$ref' && typeof child === 'string' ? [{ at, ref: child }] : refsIn(child, `${at}/${key}`),
  );
}

/** The value a local JSON pointer (`#/components/schemas/X`) names in the document, or undefined. */
function resolvePointer(ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  return ref
    .slice(2)
    .split('/')
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((node, segment) => (typeof node === 'object' && node !== null ? (node as Json)[segment] : undefined), doc);
}

/** The component a `{ $ref }` schema names. */
function componentOf(schema: Json | undefined): Json {
  const ref = schema?.$ref;
  if (typeof ref !== 'string') throw new Error(`expected a $ref schema, got ${JSON.stringify(schema)}`);
  const component = resolvePointer(ref);
  if (typeof component !== 'object' || component === null) throw new Error(`${ref} does not resolve`);
  return component as Json;
}

/** A value of a documented schema: the first enum member, or a placeholder of its type. */
function exampleOf(schema: Json): unknown {
  const resolved = typeof schema.$ref === 'string' ? componentOf(schema) : schema;
  if (Array.isArray(resolved.enum)) return resolved.enum[0];
  switch (resolved.type) {
    case 'object':
      return minimalBody(resolved);
    case 'array':
      return [];
    case 'boolean':
      return true;
    case 'integer':
    case 'number':
      return 1;
    default:
      return 'x';
  }
}

/** An object with the schema's required properties only, each an example of its schema. */
function minimalBody(schema: Json): Json {
  const properties = (schema.properties ?? {}) as Record<string, Json>;
  const required = (schema.required ?? []) as string[];
  return Object.fromEntries(required.map((name) => [name, exampleOf(properties[name])]));
}

/** A documented path with every `{param}` filled with a UUID nothing has. */
function concretePath(path: string): string {
  return path.replace(/\{\w+\}/g, '00000000-0000-4000-8000-000000000000');
}

/** A REST router as the server builds it, over this application's real services, database and key service. */
function restRouter(): Router {
  return createRestRouter({
    services: createServices(vault.config, vault.app.database, vault.app.keyService, vault.app.logger),
    verifier: TokenVerifier.create({ secret: vault.config.jwt.secret ?? TEST_JWT_SECRET }),
    logger: vault.app.logger,
    bodyLimit: '256kb',
  });
}

/** (method, path) of every route the REST router registers, as OpenAPI spells them, relative to its mount. */
function registeredRoutes(router: Router): string[] {
  return router.stack.flatMap((layer) => {
    const route = layer.route;
    if (!route) return [];
    const path = route.path.replace(/:(\w+)/g, '{$1}');
    // Layers registered with router.all() (the 405 answers) have no method: they serve no operation.
    const methods = new Set(route.stack.flatMap((handler) => (handler.method ? [handler.method.toLowerCase()] : [])));
    return [...methods].map((method) => `${method} ${path}`);
  });
}

describe('the document', () => {
  test('is valid OpenAPI 3.1', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc));

    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
  });

  test('resolves every $ref (the validator dereferences it without error)', async () => {
    // resolveRefs dereferences in place: it gets a copy, never the document the other tests read.
    const validator = new Validator();
    await validator.validate(structuredClone(doc));

    expect(() => validator.resolveRefs()).not.toThrow();
  });

  test('every $ref points at something in the document', () => {
    const refs = refsIn(doc);
    const dangling = refs.filter(({ ref }) => resolvePointer(ref) === undefined);

    expect(refs.length).toBeGreaterThan(0);
    expect(dangling).toEqual([]);
  });

  test('the second server is the /api/llm-gateway prefix the generated SDK sends', () => {
    expect(doc.servers.map((server) => server.url)).toEqual(['/', '/api/llm-gateway']);
  });
});

describe('routes and the document agree', () => {
  test('every route the Express router registers is documented under /admin', () => {
    const registered = registeredRoutes(restRouter());
    const documented = operations().map(([method, path]) => `${method} ${path}`);

    const undocumented = registered.map((route) => route.replace(' ', ' /admin')).filter((route) => !documented.includes(route));

    expect(registered.length).toBeGreaterThan(0);
    expect(undocumented).toEqual([]);
  });

  test('the document has no operation the router does not register', () => {
    const registered = registeredRoutes(restRouter()).map((route) => route.replace(' ', ' /admin'));
    const documented = operations().map(([method, path]) => `${method} ${path}`);

    const unregistered = documented.filter((operation) => !registered.includes(operation));

    expect(unregistered).toEqual([]);
  });

  test('every documented operation is served under every documented server', async () => {
    const unserved: { server: string; operation: string; status: number; body: unknown }[] = [];
    for (const server of doc.servers) {
      const mount = `${server.url.replace(/\/$/, '')}`;
      for (const [method, path, operation] of operations()) {
        const response = await restRequest<Partial<RestErrorJson>>(vault, method.toUpperCase() as RestMethod, concretePath(path), {
          token: admin.token,
          mount,
          body: operation.requestBody ? {} : undefined,
        });
        const routeMissing = response.status === 405 || (response.status === 404 && response.body?.error?.message === NOT_A_ROUTE);
        if (routeMissing)
          unserved.push({ server: server.url, operation: `${method} ${path}`, status: response.status, body: response.body });
      }
    }

    expect(operations().length).toBeGreaterThan(0);
    expect(unserved).toEqual([]);
  });

  test('a path the document does not have is the 404 "No such route" envelope (the check above can fail)', async () => {
    const response = await restRequest<RestErrorJson>(vault, 'GET', '/connections-that-do-not-exist', { token: admin.token });

    expect(response.status).toBe(404);
    expect(response.body.error.message).toBe(NOT_A_ROUTE);
  });
});

describe('request bodies: one schema for the document and the server', () => {
  test('CreateConnection is closed in the document (additionalProperties: false)', () => {
    const createConnection = doc.components.schemas.CreateConnection;

    expect(createConnection).toMatchObject({ type: 'object', additionalProperties: false });
    expect(componentOf(doc.paths['/admin/connections'].post.requestBody?.content?.['application/json']?.schema)).toBe(createConnection);
  });

  test('the server refuses an unknown top-level CreateConnection field with 400 naming it', async () => {
    const response = await restRequest<RestErrorJson>(vault, 'POST', '/connections', {
      token: admin.token,
      body: { name: 'unknown-field', model_provider: 'openai', api_key: 'sk-test-0123456789abcdef', colour: 'blue' },
    });

    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ type: 'invalid_request_error', param: 'colour' });
  });

  test('the server knows every CreateConnection property the document lists', async () => {
    const properties = Object.keys(doc.components.schemas.CreateConnection.properties as Json);
    const unknown: string[] = [];
    for (const property of properties) {
      const response = await restRequest<Partial<RestErrorJson>>(vault, 'POST', '/connections', {
        token: admin.token,
        body: { name: `known-${property}`, model_provider: 'openai', [property]: 42 },
      });
      if (response.body?.error?.message?.startsWith('Unknown field')) unknown.push(property);
    }

    expect(properties).toEqual(expect.arrayContaining(['name', 'model_provider', 'api_key', 'credentials', 'settings', 'change_note']));
    expect(unknown).toEqual([]);
  });

  test('every documented request body is closed (additionalProperties: false)', () => {
    const open = operations()
      .filter(([, , operation]) => operation.requestBody)
      .map(([method, path, operation]) => ({
        operation: `${method} ${path}`,
        additionalProperties: componentOf(operation.requestBody?.content?.['application/json']?.schema).additionalProperties,
      }))
      .filter((body) => body.additionalProperties !== false);

    expect(open).toEqual([]);
  });

  test('the server refuses an unknown top-level field on every operation with a body', async () => {
    const existing = await admin.created(aCredentialInput());
    const accepted: { operation: string; status: number; body: unknown }[] = [];
    const withBody = operations().filter(([, , operation]) => operation.requestBody);
    for (const [method, path, operation] of withBody) {
      // The documented required fields, filled in, so that the unknown field is the body's only fault.
      const body = { ...minimalBody(componentOf(operation.requestBody?.content?.['application/json']?.schema)), zz_unknown_field: true };
      const response = await restRequest<Partial<RestErrorJson>>(
        vault,
        method.toUpperCase() as RestMethod,
        path.replace(/^\/admin/, '').replace('{id}', existing.id),
        { token: admin.token, body },
      );
      if (response.status !== 400 || response.body?.error?.param !== 'zz_unknown_field') {
        accepted.push({ operation: `${method} ${path}`, status: response.status, body: response.body });
      }
    }

    expect(withBody.length).toBeGreaterThan(0);
    expect(accepted).toEqual([]);
  });
});

describe('operations', () => {
  test('every operation has an operationId', () => {
    const missing = operations()
      .filter(([, , operation]) => typeof operation.operationId !== 'string' || operation.operationId === '')
      .map(([method, path]) => `${method} ${path}`);

    expect(missing).toEqual([]);
  });

  test('operationIds are unique', () => {
    const ids = operations().map(([, , operation]) => operation.operationId);

    expect(new Set(ids).size).toBe(ids.length);
  });

  test('every operation documents a 200 answer with a JSON schema', () => {
    const missing = operations()
      .filter(([, , operation]) => !operation.responses?.['200']?.content?.['application/json']?.schema)
      .map(([method, path]) => `${method} ${path}`);

    expect(missing).toEqual([]);
  });

  test('every operation documents its errors (400, 401, 404) and each error answer is the Error component', () => {
    const problems = operations().flatMap(([method, path, operation]) => {
      const responses = operation.responses ?? {};
      const errors = Object.entries(responses).filter(([status]) => !status.startsWith('2'));
      const missing = ['400', '401', '404'].filter((status) => !(status in responses)).map((status) => `${status} missing`);
      const wrong = errors
        .filter(([, response]) => response.content?.['application/json']?.schema?.$ref !== ERROR_REF)
        .map(([status]) => `${status} is not ${ERROR_REF}`);
      return [...missing, ...wrong].map((problem) => `${method} ${path}: ${problem}`);
    });

    expect(problems).toEqual([]);
  });

  test('the Error component is the envelope the server answers with', async () => {
    const response = await restRequest<RestErrorJson>(vault, 'GET', '/connections');
    const envelope = doc.components.schemas.Error as { required?: string[]; properties: { error: { required?: string[] } } };

    expect(response.status).toBe(401);
    expect(Object.keys(response.body).sort()).toEqual([...(envelope.required ?? [])].sort());
    expect(Object.keys(response.body.error).sort()).toEqual([...(envelope.properties.error.required ?? [])].sort());
  });
});
