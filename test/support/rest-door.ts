// The REST door (/admin, /api/llm-gateway/admin) as a caller sees it: one request with a bearer
// token and a JSON body, answered with the status, the parsed body and the ETag.
import type { TestApp } from './test-app';

export type RestMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface RestResponse<Body = unknown> {
  status: number;
  body: Body;
  etag: string | null;
}

/** The error envelope every REST failure answers with. */
export interface RestErrorEnvelope {
  error: { message: string; type: string; param: string | null; code: string };
}

/** A connection as the REST door answers it (the fields the tests read). */
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
  secret_version: number;
  last_change_note: string | null;
  [field: string]: unknown;
}

export interface RestRequestOptions {
  token?: string;
  /** Sent as JSON with Content-Type: application/json; omitted means no body. */
  body?: unknown;
  headers?: Record<string, string>;
  /** The mount point: `/admin` (default) or `/api/llm-gateway/admin`. */
  mount?: string;
}

/** Sends one REST request to `path` (relative to the mount, e.g. `/connections`). */
export async function restRequest<Body = unknown>(
  vault: TestApp,
  method: RestMethod,
  path: string,
  options: RestRequestOptions = {},
): Promise<RestResponse<Body>> {
  const { token, body, headers = {}, mount = '/admin' } = options;
  const response = await fetch(`${vault.baseUrl}${mount}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as Body, etag: response.headers.get('etag') };
}

/** The body of a 200 answer, failing the test (showing the body) on any other status. */
export function okBody<Body>(response: RestResponse<unknown>): Body {
  expect({ status: response.status, body: response.body }).toEqual({ status: 200, body: expect.anything() });
  return response.body as Body;
}
