// The REST door as an Express router, built from the route table: bearer authentication as for
// GraphQL, JSON bodies only (415 otherwise, 413 past the limit), `{id}` checked to be a UUID,
// and every failure in the error envelope — never Express's HTML, never a 500 for bad input.
import express, { type Request, type RequestHandler, type Response } from 'express';
import type { TokenVerifier } from '../auth/token-verifier';
import type { Services } from '../context';
import { originOf } from '../audit/request-origin';
import { isUuid } from '../ids/uuid';
import type { Logger } from '../logging/logger';
import { envelopeErrorHandler, RestRequestError, requireJson } from './rest-error';
import { REST_ROUTES, type RestRoute } from './rest.routes';

export interface RestRouterDependencies {
  services: Services;
  verifier: TokenVerifier;
  logger: Logger;
  /** The largest JSON body accepted, in Express's notation (`256kb`). */
  bodyLimit: string;
}

/** `/connections/{id}` in Express's notation. */
export function expressPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, ':$1');
}

export function createRestRouter(deps: RestRouterDependencies): express.Router {
  const router = express.Router({ caseSensitive: true, strict: false });
  const parseJson = express.json({ limit: deps.bodyLimit, type: () => true });
  const methodsByPath = new Map<string, string[]>();
  for (const route of REST_ROUTES) methodsByPath.set(route.path, [...(methodsByPath.get(route.path) ?? []), route.method.toUpperCase()]);
  const refuseMethod =
    (methods: string[]): RequestHandler =>
    (req, res, next) => {
      if (methods.includes(req.method)) {
        next();
        return;
      }
      res.setHeader('Allow', methods.join(', '));
      next(new RestRequestError(405, `This path takes ${methods.join(', ')}.`));
    };

  // Literal segments win over `{id}`: GET /connections/aws-role-validate is a 405 for that path,
  // not GET /connections/{id} with an id that is not a UUID.
  for (const [path, methods] of methodsByPath) {
    if (!path.includes('{')) router.all(expressPath(path), refuseMethod(methods));
  }

  for (const route of REST_ROUTES) {
    const handlers: RequestHandler[] = route.body ? [requireJson, parseJson] : [];
    router[route.method](expressPath(route.path), ...handlers, (req, res, next) => {
      serve(route, req, res).catch(next);
    });
  }

  // A path with `{id}` and another method is a 405 naming the methods it takes; anything else, a 404.
  for (const [path, methods] of methodsByPath) {
    if (path.includes('{')) router.all(expressPath(path), refuseMethod(methods));
  }
  router.use((_req, _res, next) => next(new RestRequestError(404, 'No such route.')));
  router.use(envelopeErrorHandler(deps.logger, 'rest_request'));
  return router;

  async function serve(route: RestRoute, req: Request, res: Response): Promise<void> {
    const started = process.hrtime.bigint();
    const principal = { ...(await deps.verifier.authenticate(req.headers.authorization)), origin: originOf(req) };
    const id = typeof req.params.id === 'string' ? req.params.id : '';
    if (route.path.includes('{id}') && !isUuid(id)) throw new RestRequestError(404, 'id must be a UUID; no object has this id.', 'id');
    const answer = await route.handle({
      principal,
      services: deps.services,
      id: id.toLowerCase(),
      body: req.body as unknown,
      header: (name) => req.get(name),
      query: (name) => queryParameter(req, name),
    });
    res.setHeader('Cache-Control', 'no-store');
    if (answer.etag) res.setHeader('ETag', answer.etag);
    res.status(200).json(answer.body);
    deps.logger.info(
      {
        event: 'rest_request',
        operation: route.operationId,
        status: 200,
        durationMs: Number(process.hrtime.bigint() - started) / 1e6,
        orgId: principal.orgId,
        userId: principal.userId,
      },
      'rest request',
    );
  }
}

/** One query parameter's value; a parameter given twice (or as an object) is a 400 naming it. */
function queryParameter(req: Request, name: string): string | undefined {
  const value = (req.query as Record<string, unknown>)[name];
  if (value === undefined || typeof value === 'string') return value;
  throw new RestRequestError(400, `${name} must be given once, as a plain value.`, name);
}
