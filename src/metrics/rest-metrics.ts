// Counts and times every request to the REST door (rest_requests_total, rest_request_duration_seconds),
// mounted in front of the REST router. The route label is the template of the route the router
// matched (`/connections/{id}`), never the path a client sent: ids and made-up paths would each be a
// series of their own. A request no route matched is `unmatched`; one that closed before an answer
// was sent, `aborted`.
import type { Request, RequestHandler } from 'express';
import { httpStatusOutcome } from './call-outcomes';
import { restRequestDuration, restRequests, secondsSince } from './metrics';

const METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export const restRequestMetrics: RequestHandler = (req, res, next) => {
  const started = process.hrtime.bigint();
  let recorded = false;
  const record = (outcome: string) => {
    if (recorded) return;
    recorded = true;
    const labels = { method: METHODS.has(req.method) ? req.method : 'OTHER', route: routeTemplate(req), outcome };
    restRequests.inc(labels);
    restRequestDuration.observe(labels, secondsSince(started));
  };
  res.once('finish', () => record(httpStatusOutcome(res.statusCode)));
  res.once('close', () => record('aborted'));
  next();
};

/** The matched route's path in the route table's notation (`:id` → `{id}`), or `unmatched`. */
function routeTemplate(req: Request): string {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? path.replace(/:(\w+)/g, '{$1}') : 'unmatched';
}
