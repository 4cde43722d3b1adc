// The vault's REST door as its existing clients call it: a fetch-based client that sends what a
// generated OpenAPI client sends (bearer token, a JSON body from JSON.stringify, so undefined
// properties are omitted and null is sent as null), the response shapes of the contract, and
// the assertion every REST error shares: exactly the error envelope, with this status and type.
import { randomUUID } from 'node:crypto';
import { hex } from './factories';
import type { TestApp } from './test-app';

/** Both mount points of the REST router: the documented one and the one the generated SDK sends. */
export const REST_PREFIXES = ['/admin', '/api/llm-gateway/admin'] as const;
export type RestPrefix = (typeof REST_PREFIXES)[number];

/** Exactly the fields of a Connection, as the contract names them. */
export const CONNECTION_FIELDS = [
  'id',
  'org_id',
  'name',
  'model_provider',
  'auth_type',
  'base_url',
  'settings',
  'stores_key_material',
  'key_last4',
  'secret_path',
  'secret_version',
  'secret_rotated_at',
  'created_at',
  'updated_at',
  'created_by_user_id',
  'last_modified_at',
  'last_modified_by_user_id',
  'last_change_note',
  'last_used_at',
] as const;

/** Exactly the fields of a Provider. */
export const PROVIDER_FIELDS = [
  'id',
  'org_id',
  'name',
  'model_provider',
  'connection_id',
  'auth_type',
  'settings',
  'created_at',
  'created_by_user_id',
  'updated_at',
  'last_modified_by_user_id',
] as const;

export interface ConnectionJson {
  id: string;
  org_id: string;
  name: string;
  model_provider: string;
  auth_type: string;
  base_url: string;
  settings: Record<string, unknown>;
  stores_key_material: boolean;
  key_last4: string | null;
  secret_path: string;
  secret_version: number;
  secret_rotated_at: string;
  created_at: string;
  updated_at: string;
  created_by_user_id: string;
  last_modified_at: string;
  last_modified_by_user_id: string;
  last_change_note: string | null;
  last_used_at: string | null;
}

export interface ProviderJson {
  id: string;
  org_id: string;
  name: string;
  model_provider: string;
  connection_id: string | null;
  auth_type: string;
  settings: Record<string, unknown>;
  created_at: string;
  created_by_user_id: string;
  updated_at: string;
  last_modified_by_user_id: string;
}

export interface ValidationResultJson {
  ok: boolean;
  message: string | null;
  checks: { name: string; ok: boolean; message: string | null }[];
}

export interface RestErrorJson {
  error: { message: string; type: string; param: string | null; code: string };
}

export interface RestResponse<Body = unknown> {
  status: number;
  headers: Headers;
  /** The parsed JSON body; undefined when the body is not JSON. */
  body: Body;
  text: string;
}

export interface RestRequestOptions {
  /** Serialised with JSON.stringify, as a generated client does. */
  body?: unknown;
  /** Sent exactly as given instead of `body` (malformed JSON, oversized bodies). */
  rawBody?: string;
  /** The Content-Type of a body; application/json unless given. */
  contentType?: string;
  headers?: Record<string, string>;
  /** Replaces the client's token for this request; null sends no Authorization header. */
  token?: string | null;
}

/** One exchange as it went out and came back, for the leak scans. */
export interface RestExchange {
  method: string;
  url: string;
  /** The Authorization header and the body, as sent. */
  sent: string;
  status: number;
  headers: [string, string][];
  text: string;
}

export interface RestClient {
  prefix: string;
  token: string | undefined;
  request<Body = unknown>(method: string, path: string, options?: RestRequestOptions): Promise<RestResponse<Body>>;
  get<Body = unknown>(path: string, options?: RestRequestOptions): Promise<RestResponse<Body>>;
  post<Body = unknown>(path: string, body: unknown, options?: RestRequestOptions): Promise<RestResponse<Body>>;
  put<Body = unknown>(path: string, body: unknown, options?: RestRequestOptions): Promise<RestResponse<Body>>;
  delete<Body = unknown>(path: string, options?: RestRequestOptions): Promise<RestResponse<Body>>;
  /** The same client acting with another token (null: none). */
  as(token: string | null): RestClient;
}

export interface RestClientOptions {
  token?: string;
  /** A mount point of the REST router, or any other path prefix a test means to try. */
  prefix?: RestPrefix | (string & {});
  /** Called with every exchange, after its response was read. */
  record?: (exchange: RestExchange) => void;
}

/**
 * Sends `payload` (JSON unless `contentType` says otherwise) with `bearer` (none if undefined) and
 * the extra `headers`; returns the headers sent, and the response with its text parsed as JSON
 * (undefined when it is not JSON).
 */
export async function sendJson<Body>(
  url: string,
  method: string,
  payload: string | undefined,
  options: { bearer?: string; contentType?: string; headers?: Record<string, string> },
): Promise<{ headers: Record<string, string>; response: RestResponse<Body> }> {
  const headers: Record<string, string> = {
    accept: 'application/json',
    ...(payload !== undefined ? { 'content-type': options.contentType ?? 'application/json' } : {}),
    ...(options.bearer !== undefined ? { authorization: `Bearer ${options.bearer}` } : {}),
    ...options.headers,
  };
  const response = await fetch(url, { method, headers, body: payload });
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { headers, response: { status: response.status, headers: response.headers, body: body as Body, text } };
}

/** A client of `vault`'s REST door under `prefix` (default /admin), acting with `token`. */
export function restClient(vault: Pick<TestApp, 'baseUrl'>, options: RestClientOptions = {}): RestClient {
  const prefix = options.prefix ?? REST_PREFIXES[0];
  const token = options.token;

  async function request<Body>(method: string, path: string, requestOptions: RestRequestOptions = {}): Promise<RestResponse<Body>> {
    const bearer = requestOptions.token === undefined ? token : (requestOptions.token ?? undefined);
    const payload = requestOptions.rawBody ?? (requestOptions.body === undefined ? undefined : JSON.stringify(requestOptions.body));
    const url = `${vault.baseUrl}${prefix}${path}`;
    const { headers, response } = await sendJson<Body>(url, method, payload, {
      bearer,
      contentType: requestOptions.contentType,
      headers: requestOptions.headers,
    });
    options.record?.({
      method,
      url,
      sent: `${headers.authorization ?? ''}\n${payload ?? ''}`,
      status: response.status,
      headers: [...response.headers],
      text: response.text,
    });
    return response;
  }

  return {
    prefix,
    token,
    request,
    get: (path, requestOptions) => request('GET', path, requestOptions),
    post: (path, body, requestOptions) => request('POST', path, { ...requestOptions, body }),
    put: (path, body, requestOptions) => request('PUT', path, { ...requestOptions, body }),
    delete: (path, requestOptions) => request('DELETE', path, requestOptions),
    as: (other) => restClient(vault, { ...options, token: other ?? undefined }),
  };
}

/** The body of a 200 answer; fails the test (showing the body) on any other status. */
export function okBody<Body>(response: RestResponse<Body>): Body {
  expect({ status: response.status, body: response.body }).toEqual({ status: 200, body: expect.anything() });
  return response.body;
}

export interface ExpectedRestError {
  status: number;
  type: string;
  /** The exact `param`; undefined leaves it unchecked, null requires null. */
  param?: string | null;
  /** A fragment the message must contain. */
  message?: string | RegExp;
  /** Values the answer (body and headers) must not repeat: secrets sent with the request. */
  notEchoing?: readonly string[];
}

/**
 * Asserts a JSON error answer (never HTML) of exactly the envelope `{"error": {"message", "type",
 * "param", "code"}}` with this status, type and param, repeating none of `notEchoing`; returns the error.
 */
export function expectRestError(response: RestResponse<unknown>, expected: ExpectedRestError): RestErrorJson['error'] {
  expect(response.headers.get('content-type')).toMatch(/^application\/json\b/);
  expect(response.text).not.toMatch(/<html|<!DOCTYPE/i);
  const { error } = (response.body ?? {}) as Partial<RestErrorJson>;
  expect({ status: response.status, body: response.body }).toEqual({
    status: expected.status,
    body: {
      error: {
        message: expect.any(String),
        type: expected.type,
        param: expected.param === undefined && typeof error?.param === 'string' ? expect.any(String) : (expected.param ?? null),
        code: expect.any(String),
      },
    },
  });
  if (!error) throw new Error('no error envelope');
  expect(error.message.length).toBeGreaterThan(0);
  if (expected.message !== undefined) {
    if (typeof expected.message === 'string') expect(error.message).toContain(expected.message);
    else expect(error.message).toMatch(expected.message);
  }
  const answer = `${JSON.stringify([...response.headers])}\n${response.text}`;
  expect((expected.notEchoing ?? []).filter((secret) => answer.includes(secret))).toEqual([]);
  return error;
}

/** The sorted keys of a JSON object: what "exactly these fields" compares. */
export function keysOf(value: unknown): string[] {
  return Object.keys(value as Record<string, unknown>).sort();
}

export type RestMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** One request with a bearer token under `mount` (default /admin), for tests that need no client: the status, body and ETag. */
export async function restRequest<Body = unknown>(
  vault: Pick<TestApp, 'baseUrl'>,
  method: RestMethod,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string>; mount?: string } = {},
): Promise<RestResponse<Body> & { etag: string | null }> {
  const response = await restClient(vault, { token: options.token, prefix: options.mount }).request<Body>(method, path, {
    body: options.body,
    headers: options.headers,
  });
  return { ...response, etag: response.headers.get('etag') };
}

/** A brand-new organization's REST callers under `prefix`, each with a `sub` of its own. */
export interface RestOrganization {
  id: string;
  /** The `sub` of the admin's token: what the attribution fields must show. */
  adminUserId: string;
  admin: RestClient;
  viewer: RestClient;
  /** Another admin of the same organization. */
  otherAdmin: RestClient;
  otherAdminUserId: string;
}

export function aRestOrganization(app: Pick<TestApp, 'baseUrl' | 'token'>, prefix: RestPrefix = REST_PREFIXES[0]): RestOrganization {
  const id = randomUUID();
  const adminUserId = `admin-${hex(4)}`;
  const otherAdminUserId = `admin-${hex(4)}`;
  const client = (sub: string, roles: string[]) => restClient(app, { prefix, token: app.token({ orgId: id, roles, sub }) });
  return {
    id,
    adminUserId,
    admin: client(adminUserId, ['admin']),
    viewer: client(`viewer-${hex(4)}`, ['viewer']),
    otherAdmin: client(otherAdminUserId, ['admin']),
    otherAdminUserId,
  };
}
