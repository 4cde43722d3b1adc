// GET /openapi.json: an OpenAPI 3.1 document of the REST door, built from the route table and
// the zod schemas the router validates with. Nothing here is written by hand twice: a new
// route or field appears in the document because it exists.
import { z } from 'zod';
import { IDEMPOTENCY_KEY_HEADER } from '../idempotency/idempotency-key';
import { RestErrorSchema, restComponents } from './rest.schemas';
import { REST_MOUNTS } from './rest-door';
import { REST_ROUTES, type RestRoute } from './rest.routes';

type JsonObject = Record<string, unknown>;

const ERROR_STATUSES: Record<string, string> = {
  '400': 'A field is missing, malformed or unknown (param names it); or the body is not JSON.',
  '401': 'No valid bearer token.',
  '403': 'Your role does not allow this operation (viewers only read).',
  '404': 'No such object in your organization (or an id that is not a UUID).',
  '409': 'The name is taken, or the connection is in use (the message names the providers, with their ids, to repoint or delete).',
  '412': 'If-Match no longer matches the connection or provider.',
  '413': 'The body is too large.',
  '415': 'The body is not application/json.',
  '503': 'The key service is unavailable; nothing was written.',
};

/** What a route that takes an Idempotency-Key may answer besides. */
const IDEMPOTENT_ERROR_STATUSES: Record<string, string> = {
  '422': `The ${IDEMPOTENCY_KEY_HEADER} was used with another request (another body or route) within 24 hours.`,
};

export function openApiDocument(version: string): JsonObject {
  const { schemas } = z.toJSONSchema(restComponents, {
    target: 'draft-2020-12',
    uri: (id) => `#/components/schemas/${id}`,
    unrepresentable: 'any',
  });
  const components = Object.fromEntries(
    Object.entries(schemas).map(([id, schema]) => {
      // Each component is embedded in this document: no dialect or identity of its own.
      const { $schema: _dialect, $id: _identity, ...rest } = schema as JsonObject;
      return [id, rest];
    }),
  );

  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const route of REST_ROUTES) {
    const path = `${REST_MOUNTS[0]}${route.path}`;
    paths[path] = { ...paths[path], [route.method]: operationOf(route) };
  }

  return {
    openapi: '3.1.0',
    info: {
      title: 'Credential vault: connections API',
      version,
      description:
        'The REST door of the credential vault: connections (upstream credentials), providers (routes), validation and AWS trust. ' +
        `Every path is served under ${REST_MOUNTS.join(' and ')}. Secrets are write-only.`,
    },
    servers: [
      { url: '/', description: 'Paths as documented (/admin/...)' },
      { url: '/api/llm-gateway', description: 'The same routes under the absolute prefix the generated SDK sends' },
    ],
    security: [{ bearerAuth: [] }],
    tags: [
      { name: 'connections', description: 'Upstream credentials' },
      { name: 'providers', description: 'Routes of the gateway' },
      { name: 'audit', description: 'The audit trail' },
    ],
    paths,
    components: {
      schemas: components,
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
  };
}

function operationOf(route: RestRoute): JsonObject {
  const answerSchema = { $ref: refOf(route.answer) };
  const parameters: JsonObject[] = [];
  if (route.path.includes('{id}')) {
    parameters.push({ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } });
  }
  for (const [name, description] of Object.entries(route.query ?? {})) {
    parameters.push({ name, in: 'query', required: false, description, schema: { type: 'string' } });
  }
  if (route.idempotent) {
    parameters.push({
      name: IDEMPOTENCY_KEY_HEADER,
      in: 'header',
      required: false,
      description:
        '1 to 255 printable ASCII characters naming this request: a retry with the same key and body within 24 hours answers the first result without creating again; the same key with another body is a 422.',
      schema: { type: 'string', minLength: 1, maxLength: 255 },
    });
  }
  if (route.method === 'put' && route.etag) {
    parameters.push({
      name: 'If-Match',
      in: 'header',
      required: false,
      description: 'The ETag as last read: the update fails with 412 when the object has been written since.',
      schema: { type: 'string' },
    });
  }
  const errors = Object.fromEntries(
    Object.entries({ ...ERROR_STATUSES, ...(route.idempotent ? IDEMPOTENT_ERROR_STATUSES : {}) }).map(([status, description]) => [
      status,
      { description, content: { 'application/json': { schema: { $ref: refOf(RestErrorSchema) } } } },
    ]),
  );
  return {
    operationId: route.operationId,
    summary: route.summary,
    tags: [route.tag],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: { $ref: refOf(route.body) } } } } } : {}),
    responses: {
      '200': {
        description: 'OK',
        ...(route.etag ? { headers: { ETag: { description: 'Changes on every write of the object.', schema: { type: 'string' } } } } : {}),
        content: { 'application/json': { schema: route.list ? { type: 'array', items: answerSchema } : answerSchema } },
      },
      ...errors,
    },
  };
}

function refOf(schema: z.ZodType): string {
  const meta = restComponents.get(schema);
  if (!meta) throw new Error('a REST route names a schema that is not a registered component');
  return `#/components/schemas/${meta.id}`;
}
