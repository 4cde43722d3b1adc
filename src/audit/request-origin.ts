// Where a request came from, for the audit events it causes: a request id (the caller's
// X-Request-Id when it is a sane one, else a fresh UUID, echoed back in the response), the client
// address as the socket saw it, and the User-Agent (cut to a bounded length).
import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import type { RequestOrigin } from './audit-log';

const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;
const MAX_USER_AGENT = 256;

/** Gives every request an id (res.locals.requestId) and answers with it in X-Request-Id. */
export const assignRequestId: RequestHandler = (req, res, next) => {
  const offered = req.headers['x-request-id'];
  const requestId = typeof offered === 'string' && REQUEST_ID.test(offered) ? offered : randomUUID();
  res.locals.requestId = requestId;
  res.setHeader('X-Request-Id', requestId);
  next();
};

export function originOf(req: Request): RequestOrigin {
  const requestId = (req.res?.locals as { requestId?: unknown } | undefined)?.requestId;
  const userAgent = req.headers['user-agent'];
  return {
    requestId: typeof requestId === 'string' ? requestId : null,
    clientIp: req.ip ?? req.socket.remoteAddress ?? null,
    userAgent: typeof userAgent === 'string' ? userAgent.slice(0, MAX_USER_AGENT) : null,
  };
}
