// The runtime listener as the gateway's data plane calls it: POST /v1/upstream-auth with a runtime
// token and {"provider_id"} or {"credential_id"}, the answer's shape (exactly one material member),
// tokens for this listener (with or without an audience), and a recorder of every exchange for the
// leak scans, which must tell the route's 200 bodies (where secrets belong) from everything else.
import { mintDevelopmentToken } from '../../src/auth/token-minter';
import { type RestErrorJson, type RestResponse, sendJson } from './rest-client';
import type { TestApp } from './test-app';
import { TEST_JWT_SECRET } from './tokens';

export const UPSTREAM_AUTH_PATH = '/v1/upstream-auth';

/** Every answer carries exactly these fields, plus one material member. */
export const UPSTREAM_AUTH_COMMON_FIELDS = [
  'auth_type',
  'base_url',
  'credential_id',
  'expires_at',
  'model_provider',
  'provider_id',
  'secret_version',
  'settings',
] as const;

/** How the gateway authenticates: exactly one of these is present. */
export const MATERIAL_MEMBERS = ['aws', 'google', 'headers', 'oauth_passthrough'] as const;
export type MaterialMember = (typeof MATERIAL_MEMBERS)[number];

export interface AwsMaterialJson {
  access_key_id: string;
  secret_access_key: string;
  session_token: string | null;
  expiration: string | null;
  region: string;
}

export interface GoogleMaterialJson {
  access_token: string;
  expires_at: string;
}

export interface UpstreamAuthJson {
  credential_id: string | null;
  provider_id: string | null;
  model_provider: string;
  auth_type: string;
  base_url: string | null;
  settings: Record<string, unknown>;
  secret_version: number | null;
  expires_at: string | null;
  headers?: Record<string, string>;
  aws?: AwsMaterialJson;
  google?: GoogleMaterialJson;
  oauth_passthrough?: boolean;
}

/** What a request names: the body as sent (JSON.stringify), unless `rawBody` is given. */
export type UpstreamAuthRequestBody = { provider_id?: unknown; credential_id?: unknown } & Record<string, unknown>;

export interface RuntimeRequestOptions {
  /** The bearer token; null sends no Authorization header; undefined uses the client's own. */
  token?: string | null;
  /** Sent exactly as given instead of the JSON body. */
  rawBody?: string;
  /** application/json unless given. */
  contentType?: string;
  headers?: Record<string, string>;
  method?: string;
  /** A path on the runtime listener other than /v1/upstream-auth. */
  path?: string;
}

/** One exchange with the runtime listener, for the leak scans. */
export interface RuntimeExchange {
  /** What was asked, for the failure message of a scan. */
  label: string;
  status: number;
  headers: [string, string][];
  text: string;
}

/** The runtime listener's origin; fails the test when the application runs without one. */
export function runtimeUrlOf(vault: Pick<TestApp, 'app'>): string {
  const url = vault.app.runtimeUrl;
  if (url === null) throw new Error('the application runs without a runtime listener (RUNTIME_PORT=off)');
  return url;
}

/** A runtime token of `orgId`, signed with the test secret; `audience` becomes its `aud`. */
export function runtimeToken(orgId: string, options: { audience?: string; sub?: string; roles?: string[] } = {}): string {
  return mintDevelopmentToken(TEST_JWT_SECRET, {
    orgId,
    roles: options.roles ?? ['runtime'],
    sub: options.sub ?? 'gateway-data-plane',
    expiresInSeconds: 600,
    ...(options.audience ? { audience: options.audience } : {}),
  });
}

/** Sends one request to the runtime listener of `vault`; every exchange goes to `record` too. */
export async function runtimeRequest<Body = UpstreamAuthJson>(
  vault: Pick<TestApp, 'app'>,
  body: UpstreamAuthRequestBody | undefined,
  options: RuntimeRequestOptions & { record?: (exchange: RuntimeExchange) => void } = {},
): Promise<RestResponse<Body>> {
  const payload = options.rawBody ?? (body === undefined ? undefined : JSON.stringify(body));
  const method = options.method ?? 'POST';
  const path = options.path ?? UPSTREAM_AUTH_PATH;
  const { response } = await sendJson<Body>(`${runtimeUrlOf(vault)}${path}`, method, payload, {
    bearer: options.token ? options.token : undefined,
    contentType: options.contentType,
    headers: options.headers,
  });
  options.record?.({
    label: `${method} ${path} ${payload ?? ''}`,
    status: response.status,
    headers: [...response.headers],
    text: response.text,
  });
  return response;
}

export interface RuntimeClient {
  orgId: string;
  token: string;
  /** POST /v1/upstream-auth with this body, whatever the answer. */
  request<Body = UpstreamAuthJson>(body: UpstreamAuthRequestBody | undefined, options?: RuntimeRequestOptions): Promise<RestResponse<Body>>;
  /** The 200 answer for a provider (fails the test, showing the body, on any other status). */
  provider(providerId: string): Promise<UpstreamAuthJson>;
  /** The 200 answer for a credential (fails the test, showing the body, on any other status). */
  credential(credentialId: string): Promise<UpstreamAuthJson>;
}

/** The gateway's data plane of `orgId` calling `vault`'s runtime listener. */
export function runtimeClient(
  vault: Pick<TestApp, 'app'>,
  orgId: string,
  options: { token?: string; record?: (exchange: RuntimeExchange) => void } = {},
): RuntimeClient {
  const token = options.token ?? runtimeToken(orgId);
  const request = <Body>(body: UpstreamAuthRequestBody | undefined, requestOptions: RuntimeRequestOptions = {}) =>
    runtimeRequest<Body>(vault, body, {
      ...requestOptions,
      token: requestOptions.token === undefined ? token : requestOptions.token,
      record: options.record,
    });
  const resolved = async (body: UpstreamAuthRequestBody) => {
    const response = await request<UpstreamAuthJson>(body);
    expect({ status: response.status, body: response.body }).toEqual({ status: 200, body: expect.anything() });
    return response.body;
  };
  return {
    orgId,
    token,
    request,
    provider: (providerId) => resolved({ provider_id: providerId }),
    credential: (credentialId) => resolved({ credential_id: credentialId }),
  };
}

/** The one material member an answer carries; fails the test unless there is exactly one and the rest are the common fields. */
export function materialOf(answer: UpstreamAuthJson): MaterialMember {
  const keys = Object.keys(answer).sort();
  const present = MATERIAL_MEMBERS.filter((member) => keys.includes(member));
  expect(present).toHaveLength(1);
  expect(keys).toEqual([...UPSTREAM_AUTH_COMMON_FIELDS, present[0]].sort());
  return present[0];
}

/** The error of a runtime answer, asserting the REST envelope with this status, type and code. */
export function expectRuntimeError(
  response: RestResponse<unknown>,
  expected: { status: number; type: string; code: string; param?: string | null; message?: string | RegExp },
): RestErrorJson['error'] {
  expect(response.headers.get('content-type')).toMatch(/^application\/json\b/);
  expect(response.headers.get('cache-control')).toBe('no-store');
  const given = (response.body as Partial<RestErrorJson> | undefined)?.error?.param;
  expect({ status: response.status, body: response.body }).toEqual({
    status: expected.status,
    body: {
      error: {
        message: expect.any(String),
        type: expected.type,
        param: expected.param === undefined && typeof given === 'string' ? expect.any(String) : (expected.param ?? null),
        code: expected.code,
      },
    },
  });
  const { error } = response.body as RestErrorJson;
  if (expected.message !== undefined) {
    if (typeof expected.message === 'string') expect(error.message).toContain(expected.message);
    else expect(error.message).toMatch(expected.message);
  }
  return error;
}
