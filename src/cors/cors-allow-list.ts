// CORS for pages on other origins (CORS_ORIGINS, see cors-origins.ts): an origin on the list is
// told it may read the answers and may send the headers the API takes, and its preflights are
// answered here; any other origin gets no CORS header at all, so a browser keeps its pages from
// reading anything. Credentials (cookies, TLS client certificates) are never allowed: a token
// travels in the Authorization header, which a page must set itself and which makes the browser
// ask first. A request a browser sends without asking (a form post, a plain GET) is still refused
// by Apollo's CSRF prevention on /graphql, and the REST door only takes JSON with a bearer token.
import type { RequestHandler } from 'express';

/** Request headers a page may send: the token, JSON bodies, the write headers, Apollo's CSRF headers. */
export const CORS_ALLOWED_HEADERS = [
  'Authorization',
  'Content-Type',
  'Idempotency-Key',
  'If-Match',
  'X-Request-Id',
  'Apollo-Require-Preflight',
  'X-Apollo-Operation-Name',
] as const;

/** Response headers a page may read besides the CORS-safelisted ones. */
export const CORS_EXPOSED_HEADERS = ['ETag', 'X-Request-Id'] as const;

/** How long a browser may reuse a preflight's answer, in seconds. */
export const CORS_PREFLIGHT_MAX_AGE_SECONDS = 600;

export interface CorsAllowListOptions {
  /** Exact origins, as browsers send them. */
  origins: readonly string[];
  /** The methods of the routes behind this middleware, answered to preflights. */
  methods: readonly string[];
}

export function corsAllowList(options: CorsAllowListOptions): RequestHandler {
  const allowed = new Set(options.origins);
  const methods = options.methods.join(', ');
  return (req, res, next) => {
    // The answer depends on the Origin header, whichever origin this one is: caches must key on it.
    res.vary('Origin');
    const origin = req.get('origin');
    if (origin === undefined || !allowed.has(origin)) {
      next();
      return;
    }
    res.setHeader('Access-Control-Allow-Origin', origin);
    if (req.method === 'OPTIONS' && req.get('access-control-request-method') !== undefined) {
      res.setHeader('Access-Control-Allow-Methods', methods);
      res.setHeader('Access-Control-Allow-Headers', CORS_ALLOWED_HEADERS.join(', '));
      res.setHeader('Access-Control-Max-Age', String(CORS_PREFLIGHT_MAX_AGE_SECONDS));
      res.status(204).end();
      return;
    }
    res.setHeader('Access-Control-Expose-Headers', CORS_EXPOSED_HEADERS.join(', '));
    next();
  };
}
