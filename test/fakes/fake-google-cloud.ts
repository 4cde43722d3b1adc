// A fake Google Cloud for tests: three plain node:http servers on loopback playing Google's OAuth 2.0
// token endpoint (JWT-bearer grant with real RS256 verification against registered service-account
// keys; refresh_token grant for "authorized_user" files), IAM Credentials generateAccessToken (token
// creator grants along a delegation chain) and Vertex AI countTokens (only tokens this fake issued,
// per-project grants, known models). The real google-auth-library clients talk to it; see
// `fakeGoogleTransporter` for routing their hard-coded https://oauth2.googleapis.com/token here.

import { createPublicKey, generateKeyPairSync, randomBytes, randomInt, verify, type KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gaxios } from 'google-auth-library';
import { closeHttpServer, readBody, startHttpServer } from '../support/loopback';
import { sleep } from '../support/sleep';

export interface FakeServiceAccount {
  clientEmail: string;
  privateKeyPem: string;
  privateKeyId: string;
  projectId: string;
  clientId: string;
  /** a Google key file JSON with token_uri pointing at the fake */
  keyFile(tokenUrl: string): Record<string, string>;
}

/** An end user with an OAuth client and refresh token, as in gcloud's application_default_credentials.json. */
export interface FakeAuthorizedUser {
  email: string;
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  /** an "authorized_user" ADC file */
  keyFile(): Record<string, string>;
}

export interface FakeGoogleCloud {
  tokenUrl: string;
  iamCredentialsEndpoint: string;
  vertexEndpoint: string;
  createServiceAccount(email: string, projectId: string): FakeServiceAccount;
  createAuthorizedUser(email: string): FakeAuthorizedUser;
  grantTokenCreator(callerEmail: string, targetEmail: string): void;
  grantVertex(principalEmail: string, projectId: string): void;
  /** the principal an access token issued by this fake belongs to (undefined if unknown) */
  principalOf(accessToken: string): string | undefined;
  knownModels: Set<string>;
  /** tokens issued (to scan for leaks) */
  issuedTokens: string[];
  requests: Array<{ service: FakeGoogleService; path: string; method: string; authorization?: string }>;
  setLatency(ms: number): void;
  close(): Promise<void>;
}

export type FakeGoogleService = 'oauth2' | 'iamcredentials' | 'vertex';

export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
const IAM_SCOPE = 'https://www.googleapis.com/auth/iam';
/** The audience google-auth-library (gtoken) always puts in its assertions, whatever the key file says. */
export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
const ACCEPTED_AUDIENCES = [GOOGLE_TOKEN_URL, 'https://www.googleapis.com/oauth2/v4/token', 'https://accounts.google.com/o/oauth2/token'];
const DEFAULT_MODELS = ['gemini-2.5-pro', 'gemini-2.5-flash', 'gemini-2.0-flash-001', 'gemini-1.5-pro-002', 'claude-sonnet-4-5'];
const MAX_BODY_BYTES = 1024 * 1024;
/** Seconds of clock skew tolerated on a JWT's iat and exp. */
const JWT_SKEW_SECONDS = 300;
const MAX_TOKEN_LIFETIME_SECONDS = 3600;

interface Principal {
  email: string;
  /** public keys by private key id (service accounts only) */
  keys: Map<string, KeyObject>;
}

interface IssuedToken {
  principal: string;
  scopes: string[];
  expiresAt: number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(typeof body === 'string' ? body : JSON.stringify(body));
  }
}

/** OAuth 2.0 token endpoint error: `{ error, error_description }`. */
const oauthError = (status: number, error: string, description: string) => new HttpError(status, { error, error_description: description });

/** Google API (google.rpc.Status) error: `{ error: { code, message, status } }`. */
const apiError = (code: number, status: string, message: string) => new HttpError(code, { error: { code, message, status } });

const unauthenticated = (message: string) => apiError(401, 'UNAUTHENTICATED', message);

const INVALID_CREDENTIALS =
  'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.';
const MISSING_CREDENTIALS =
  'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.';
const INVALID_JWT_SIGNATURE = 'Invalid JWT Signature.';
const INVALID_JWT_TIME =
  'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.';

function insufficientScopes(): HttpError {
  return new HttpError(403, {
    error: {
      code: 403,
      message: 'Request had insufficient authentication scopes.',
      status: 'PERMISSION_DENIED',
      details: [
        { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'ACCESS_TOKEN_SCOPE_INSUFFICIENT', domain: 'googleapis.com' },
      ],
    },
  });
}

const randomToken = (prefix: string) => `${prefix}${randomBytes(48).toString('base64url')}`;

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function parseJsonBody(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw apiError(400, 'INVALID_ARGUMENT', `Invalid JSON payload received. Unexpected token.\n${body.toString('utf8').slice(0, 40)}\n^`);
  }
}

function decodeSegment(segment: string | undefined): Record<string, unknown> | undefined {
  if (!segment || !/^[A-Za-z0-9_-]+$/.test(segment)) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Strips the `projects/-/serviceAccounts/` prefix IAM accepts on delegates. */
const accountEmail = (nameOrEmail: string) => nameOrEmail.replace(/^projects\/[^/]+\/serviceAccounts\//, '');

/** Starts the three fake services on 127.0.0.1, each on its own ephemeral port. */
export async function startFakeGoogleCloud(): Promise<FakeGoogleCloud> {
  const principals = new Map<string, Principal>();
  const users = new Map<string, FakeAuthorizedUser>();
  const tokenCreators = new Map<string, Set<string>>(); // target -> callers
  const vertexGrants = new Map<string, Set<string>>(); // project -> principals
  const tokens = new Map<string, IssuedToken>();
  const issuedTokens: string[] = [];
  const requests: FakeGoogleCloud['requests'] = [];
  const knownModels = new Set(DEFAULT_MODELS);
  let latencyMs = 0;
  /** set once the OAuth server listens; a JWT's aud may name it */
  let tokenUrl = '';

  function issue(principal: string, scopes: string[], lifetimeSeconds: number): { token: string; expiresAt: number } {
    const token = randomToken('ya29.c.');
    const expiresAt = Date.now() + lifetimeSeconds * 1000;
    tokens.set(token, { principal, scopes, expiresAt });
    issuedTokens.push(token);
    return { token, expiresAt };
  }

  /** The issued, unexpired token in a `Bearer` Authorization header, or 401 as Google answers it. */
  function authenticate(req: IncomingMessage): IssuedToken {
    const header = req.headers.authorization;
    if (!header) throw unauthenticated(MISSING_CREDENTIALS);
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const record = m ? tokens.get(m[1]) : undefined;
    if (!record || record.expiresAt <= Date.now()) throw unauthenticated(INVALID_CREDENTIALS);
    return record;
  }

  // ---- OAuth 2.0 token endpoint -------------------------------------------------------------------

  function jwtBearerGrant(assertion: string | undefined): Record<string, unknown> {
    if (!assertion) throw oauthError(400, 'invalid_request', 'Missing required parameter: assertion');
    const parts = assertion.split('.');
    const header = decodeSegment(parts[0]);
    const claims = decodeSegment(parts[1]);
    if (parts.length !== 3 || !header || !claims || !/^[A-Za-z0-9_-]*$/.test(parts[2] ?? '')) {
      throw oauthError(400, 'invalid_grant', 'Invalid JWT: Malformed.');
    }
    if (header.alg !== 'RS256') throw oauthError(400, 'invalid_grant', INVALID_JWT_SIGNATURE);
    const iss = typeof claims.iss === 'string' ? claims.iss : '';
    const account = principals.get(iss);
    if (!account || account.keys.size === 0) throw oauthError(400, 'invalid_grant', 'Invalid grant: account not found');
    // gtoken (used by google-auth-library's JWT client) sends no `kid`: then every key of the account is tried,
    // as Google does. A `kid` that is present must name one of the account's keys.
    let candidates: KeyObject[];
    if (header.kid !== undefined) {
      const key = typeof header.kid === 'string' ? account.keys.get(header.kid) : undefined;
      if (!key) throw oauthError(400, 'invalid_grant', INVALID_JWT_SIGNATURE);
      candidates = [key];
    } else {
      candidates = [...account.keys.values()];
    }
    const signingInput = Buffer.from(`${parts[0]}.${parts[1]}`, 'utf8');
    const signature = Buffer.from(parts[2], 'base64url');
    if (!candidates.some((key) => verify('RSA-SHA256', signingInput, key, signature))) {
      throw oauthError(400, 'invalid_grant', INVALID_JWT_SIGNATURE);
    }
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!audiences.some((aud) => aud === tokenUrl || (typeof aud === 'string' && ACCEPTED_AUDIENCES.includes(aud)))) {
      throw oauthError(400, 'invalid_grant', `Invalid JWT: Failed audience check. The right audience is ${GOOGLE_TOKEN_URL}`);
    }
    const now = Math.floor(Date.now() / 1000);
    const { iat, exp } = claims;
    if (
      typeof iat !== 'number' ||
      typeof exp !== 'number' ||
      exp <= iat ||
      exp - iat > MAX_TOKEN_LIFETIME_SECONDS ||
      exp < now - JWT_SKEW_SECONDS ||
      iat > now + JWT_SKEW_SECONDS
    ) {
      throw oauthError(400, 'invalid_grant', INVALID_JWT_TIME);
    }
    if (claims.sub !== undefined && claims.sub !== iss) {
      throw oauthError(
        401,
        'unauthorized_client',
        'Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.',
      );
    }
    const scopes = typeof claims.scope === 'string' ? claims.scope.split(/\s+/).filter(Boolean) : [];
    if (scopes.length === 0) throw oauthError(400, 'invalid_scope', 'Invalid OAuth scope or ID token audience provided.');
    const lifetime = Math.min(MAX_TOKEN_LIFETIME_SECONDS - 1, exp - now);
    const { token } = issue(iss, scopes, lifetime);
    return { access_token: token, expires_in: lifetime, token_type: 'Bearer' };
  }

  function refreshTokenGrant(form: Record<string, string>): Record<string, unknown> {
    const user = [...users.values()].find((u) => u.clientId === form.client_id);
    if (!user || user.clientSecret !== form.client_secret) {
      throw oauthError(401, 'invalid_client', 'The OAuth client was not found.');
    }
    if (!form.refresh_token) throw oauthError(400, 'invalid_request', 'Missing required parameter: refresh_token');
    if (form.refresh_token !== user.refreshToken) throw oauthError(400, 'invalid_grant', 'Bad Request');
    const scopes = [CLOUD_PLATFORM_SCOPE, 'https://www.googleapis.com/auth/userinfo.email', 'openid'];
    const lifetime = MAX_TOKEN_LIFETIME_SECONDS - 1;
    const { token } = issue(user.email, scopes, lifetime);
    return { access_token: token, expires_in: lifetime, scope: scopes.join(' '), token_type: 'Bearer' };
  }

  function handleOAuth(req: IncomingMessage, body: Buffer): [number, unknown] {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    if (path !== '/token') throw apiError(404, 'NOT_FOUND', `The requested URL ${path} was not found on this server.`);
    if (req.method !== 'POST') throw oauthError(405, 'invalid_request', `Method ${req.method} not allowed`);
    const contentType = String(req.headers['content-type'] ?? '');
    const form: Record<string, string> = {};
    if (contentType.startsWith('application/json')) {
      const json = parseJsonBody(body);
      if (json && typeof json === 'object') {
        for (const [k, v] of Object.entries(json)) if (typeof v === 'string') form[k] = v;
      }
    } else {
      for (const [k, v] of new URLSearchParams(body.toString('utf8'))) form[k] = v;
    }
    switch (form.grant_type) {
      case 'urn:ietf:params:oauth:grant-type:jwt-bearer':
        return [200, jwtBearerGrant(form.assertion)];
      case 'refresh_token':
        return [200, refreshTokenGrant(form)];
      case undefined:
        throw oauthError(400, 'invalid_request', 'Missing required parameter: grant_type');
      default:
        throw oauthError(400, 'unsupported_grant_type', `Invalid grant_type: ${form.grant_type}`);
    }
  }

  // ---- IAM Credentials ----------------------------------------------------------------------------

  function handleIam(req: IncomingMessage, body: Buffer): [number, unknown] {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const m = /^\/v1\/projects\/([^/]+)\/serviceAccounts\/([^/:]+):generateAccessToken$/.exec(path);
    if (!m || req.method !== 'POST') throw apiError(404, 'NOT_FOUND', `The requested URL ${path} was not found on this server.`);
    const target = decodeURIComponent(m[2]);
    const caller = authenticate(req);
    if (!caller.scopes.includes(CLOUD_PLATFORM_SCOPE) && !caller.scopes.includes(IAM_SCOPE)) throw insufficientScopes();

    const request = parseJsonBody(body) as { scope?: unknown; delegates?: unknown; lifetime?: unknown } | null;
    if (!request || typeof request !== 'object') throw apiError(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.');
    const scopes = Array.isArray(request.scope) ? request.scope.filter((s): s is string => typeof s === 'string' && s !== '') : [];
    if (scopes.length === 0) throw apiError(400, 'INVALID_ARGUMENT', 'Scope must be provided.');
    const delegates = request.delegates === undefined ? [] : request.delegates;
    if (!Array.isArray(delegates) || delegates.some((d) => typeof d !== 'string')) {
      throw apiError(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.');
    }
    let lifetime = MAX_TOKEN_LIFETIME_SECONDS;
    if (request.lifetime !== undefined) {
      const lm = typeof request.lifetime === 'string' ? /^(\d+)(?:\.\d{1,9})?s$/.exec(request.lifetime) : null;
      if (!lm)
        throw apiError(
          400,
          'INVALID_ARGUMENT',
          `Invalid value at 'lifetime' (type.googleapis.com/google.protobuf.Duration), ${JSON.stringify(request.lifetime)}`,
        );
      lifetime = Number(lm[1]);
      if (lifetime < 1 || lifetime > MAX_TOKEN_LIFETIME_SECONDS) {
        throw apiError(400, 'INVALID_ARGUMENT', `The lifetime must be between 1s and ${MAX_TOKEN_LIFETIME_SECONDS}s.`);
      }
    }
    // caller -> delegates[0] -> ... -> delegates[n-1] -> target: each hop needs Token Creator on the next.
    const chain = [caller.principal, ...(delegates as string[]).map(accountEmail), target];
    for (let i = 1; i < chain.length; i += 1) {
      const hop = chain[i];
      if (!principals.has(hop) || !tokenCreators.get(hop)?.has(chain[i - 1])) {
        throw apiError(
          403,
          'PERMISSION_DENIED',
          "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).",
        );
      }
    }
    const { token, expiresAt } = issue(target, scopes, lifetime);
    return [200, { accessToken: token, expireTime: rfc3339(expiresAt) }];
  }

  // ---- Vertex AI ----------------------------------------------------------------------------------

  function handleVertex(req: IncomingMessage, body: Buffer): [number, unknown] {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const claude = /^\/(v1|v1beta1)\/projects\/([^/]+)\/locations\/([^/]+)\/publishers\/anthropic\/models\/count-tokens:rawPredict$/.exec(
      path,
    );
    if (claude && req.method === 'POST') return countClaudeTokens(req, claude[2], claude[3], body);
    const m = /^\/(v1|v1beta1)\/projects\/([^/]+)\/locations\/([^/]+)\/publishers\/google\/models\/([^/:]+):countTokens$/.exec(path);
    if (!m || req.method !== 'POST') throw apiError(404, 'NOT_FOUND', `The requested URL ${path} was not found on this server.`);
    const [, , project, location, model] = m as unknown as [string, string, string, string, string];
    const caller = authenticate(req);
    if (!caller.scopes.includes(CLOUD_PLATFORM_SCOPE)) throw insufficientScopes();
    const resource = `projects/${project}/locations/${location}/publishers/google/models/${model}`;
    if (!vertexGrants.get(project)?.has(caller.principal)) {
      throw apiError(
        403,
        'PERMISSION_DENIED',
        `Permission 'aiplatform.endpoints.predict' denied on resource '//aiplatform.googleapis.com/${resource}' (or it may not exist).`,
      );
    }
    if (!knownModels.has(model)) throw apiError(404, 'NOT_FOUND', `Publisher Model \`${resource}\` not found.`);
    const request = parseJsonBody(body) as { contents?: Array<{ parts?: Array<{ text?: unknown }> }> } | null;
    const first = request?.contents?.[0]?.parts?.[0]?.text;
    if (typeof first !== 'string') {
      throw apiError(
        400,
        'INVALID_ARGUMENT',
        'Unable to submit request because it has an empty contents field. Add content and try again.',
      );
    }
    const texts = (request?.contents ?? []).flatMap((c) => (c.parts ?? []).map((p) => (typeof p.text === 'string' ? p.text : '')));
    const words = texts.join(' ').split(/\s+/).filter(Boolean).length;
    const characters = texts.join('').replace(/\s+/g, '').length;
    return [200, { totalTokens: Math.max(1, words), totalBillableCharacters: characters }];
  }

  /** Claude on Vertex: the Messages API's count-tokens endpoint names the model in the body. */
  function countClaudeTokens(req: IncomingMessage, project: string, location: string, body: Buffer): [number, unknown] {
    const caller = authenticate(req);
    if (!caller.scopes.includes(CLOUD_PLATFORM_SCOPE)) throw insufficientScopes();
    const request = parseJsonBody(body) as { model?: unknown; messages?: Array<{ content?: unknown }> } | null;
    const model = typeof request?.model === 'string' ? request.model : '';
    const resource = `projects/${project}/locations/${location}/publishers/anthropic/models/${model}`;
    if (!vertexGrants.get(project)?.has(caller.principal)) {
      throw apiError(
        403,
        'PERMISSION_DENIED',
        `Permission 'aiplatform.endpoints.predict' denied on resource '//aiplatform.googleapis.com/${resource}'.`,
      );
    }
    if (!knownModels.has(model)) throw apiError(404, 'NOT_FOUND', `Publisher Model \`${resource}\` not found.`);
    const texts = (request?.messages ?? []).map((message) => (typeof message.content === 'string' ? message.content : ''));
    if (texts.join('').trim() === '') throw apiError(400, 'INVALID_ARGUMENT', 'messages: at least one message is required');
    return [200, { input_tokens: Math.max(1, texts.join(' ').split(/\s+/).filter(Boolean).length) }];
  }

  function handler(service: FakeGoogleService, route: (req: IncomingMessage, body: Buffer) => [number, unknown]) {
    return (req: IncomingMessage, res: ServerResponse): void => {
      requests.push({
        service,
        path: req.url ?? '/',
        method: req.method ?? 'GET',
        ...(req.headers.authorization !== undefined ? { authorization: req.headers.authorization } : {}),
      });
      void (async () => {
        try {
          const body = await readBody(req, MAX_BODY_BYTES, () =>
            apiError(413, 'INVALID_ARGUMENT', 'Request payload size exceeds the limit.'),
          );
          if (latencyMs > 0) await sleep(latencyMs);
          const [status, payload] = route(req, body);
          sendJson(res, status, payload);
        } catch (error) {
          const failure = error instanceof HttpError ? error : apiError(500, 'INTERNAL', 'Internal error encountered.');
          if (!res.headersSent && !res.destroyed) sendJson(res, failure.status, failure.body);
        }
      })();
    };
  }

  const oauth = await startHttpServer(handler('oauth2', handleOAuth));
  const iam = await startHttpServer(handler('iamcredentials', handleIam));
  const vertex = await startHttpServer(handler('vertex', handleVertex));
  tokenUrl = `${oauth.base}/token`;

  return {
    tokenUrl,
    iamCredentialsEndpoint: iam.base,
    vertexEndpoint: vertex.base,
    createServiceAccount(email: string, projectId: string): FakeServiceAccount {
      if (principals.has(email) || users.has(email)) throw new Error(`fake Google: principal ${email} already exists`);
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      const privateKeyId = randomBytes(20).toString('hex');
      principals.set(email, { email, keys: new Map([[privateKeyId, createPublicKey(publicKey.export({ type: 'spki', format: 'pem' }))]]) });
      const clientId = `1${Array.from({ length: 20 }, () => randomInt(10)).join('')}`;
      return {
        clientEmail: email,
        privateKeyPem,
        privateKeyId,
        projectId,
        clientId,
        keyFile: (uri: string) => ({
          type: 'service_account',
          project_id: projectId,
          private_key_id: privateKeyId,
          private_key: privateKeyPem,
          client_email: email,
          client_id: clientId,
          auth_uri: 'https://accounts.google.com/o/oauth2/auth',
          token_uri: uri,
          auth_provider_x509_cert_url: 'https://www.googleapis.com/oauth2/v1/certs',
          client_x509_cert_url: `https://www.googleapis.com/robot/v1/metadata/x509/${encodeURIComponent(email)}`,
          universe_domain: 'googleapis.com',
        }),
      };
    },
    createAuthorizedUser(email: string): FakeAuthorizedUser {
      if (principals.has(email) || users.has(email)) throw new Error(`fake Google: principal ${email} already exists`);
      const clientId = `${randomInt(100000000000, 999999999999)}-${randomBytes(16).toString('hex')}.apps.googleusercontent.com`;
      const clientSecret = `GOCSPX-${randomBytes(21).toString('base64url')}`;
      const refreshToken = `1//${randomBytes(64).toString('base64url')}`;
      const user: FakeAuthorizedUser = {
        email,
        clientId,
        clientSecret,
        refreshToken,
        keyFile: () => ({ type: 'authorized_user', client_id: clientId, client_secret: clientSecret, refresh_token: refreshToken }),
      };
      users.set(email, user);
      principals.set(email, { email, keys: new Map() });
      return user;
    },
    grantTokenCreator(callerEmail: string, targetEmail: string): void {
      const callers = tokenCreators.get(targetEmail) ?? new Set<string>();
      callers.add(callerEmail);
      tokenCreators.set(targetEmail, callers);
    },
    grantVertex(principalEmail: string, projectId: string): void {
      const granted = vertexGrants.get(projectId) ?? new Set<string>();
      granted.add(principalEmail);
      vertexGrants.set(projectId, granted);
    },
    principalOf(accessToken: string): string | undefined {
      return tokens.get(accessToken)?.principal;
    },
    knownModels,
    issuedTokens,
    requests,
    setLatency(ms: number): void {
      latencyMs = Math.max(0, ms);
    },
    async close(): Promise<void> {
      await Promise.all([oauth.server, iam.server, vertex.server].map(closeHttpServer));
    },
  };
}

/**
 * A gaxios transporter (google-auth-library's own gaxios 7, re-exported as `gaxios`) that routes
 * google-auth-library's hard-coded Google URLs to the fake: the OAuth token endpoint to `tokenUrl`,
 * `iamcredentials.googleapis.com` to the IAM endpoint and `*aiplatform.googleapis.com` to Vertex.
 * Any other request to a Google host is refused, so a test never reaches the real Google.
 * It fetches with Node's global fetch, which google-auth-library needs under jest anyway.
 * Pass it as `transporter` (JWT, UserRefreshClient, OAuth2Client) or `clientOptions.transporter` (GoogleAuth).
 */
export function fakeGoogleTransporter(
  fake: Pick<FakeGoogleCloud, 'tokenUrl' | 'iamCredentialsEndpoint' | 'vertexEndpoint'>,
): gaxios.Gaxios {
  // Node's own fetch: left to itself, gaxios 7 loads node-fetch with a dynamic import(), which fails
  // under jest ("A dynamic import callback was invoked without --experimental-vm-modules").
  const transporter = new gaxios.Gaxios({ fetchImplementation: fetch });
  transporter.interceptors.request.add({
    resolved: (config) => {
      const url = new URL(String(config.url));
      const pathAndQuery = `${url.pathname}${url.search}`;
      if (url.protocol === 'https:' && ACCEPTED_AUDIENCES.includes(`${url.origin}${url.pathname}`)) {
        config.url = new URL(fake.tokenUrl);
      } else if (url.protocol === 'https:' && url.hostname === 'iamcredentials.googleapis.com') {
        config.url = new URL(`${fake.iamCredentialsEndpoint}${pathAndQuery}`);
      } else if (url.protocol === 'https:' && /^([a-z0-9-]+-)?aiplatform\.googleapis\.com$/.test(url.hostname)) {
        config.url = new URL(`${fake.vertexEndpoint}${pathAndQuery}`);
      } else if (/(^|\.)(googleapis|google)\.com$/.test(url.hostname)) {
        return Promise.reject(
          new Error(`fake Google transporter: refusing to send a request to the real Google: ${url.origin}${url.pathname}`),
        );
      }
      return Promise.resolve(config);
    },
  });
  return transporter;
}
