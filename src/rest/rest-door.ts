// What the server needs of the REST door when it starts, without loading the door: where it is
// mounted and which methods it answers (for CORS preflights). The door itself (its zod schemas,
// route table, router and OpenAPI document: about a sixth of the service's start-up) is loaded by
// the first request that needs it, once.
import type { RequestHandler } from 'express';
import type { RestRouterDependencies } from './rest.router';

/** The mount points of the REST router: the documented one and the one the generated SDK sends. */
export const REST_MOUNTS = ['/admin', '/api/llm-gateway/admin'] as const;

/** The methods of the route table (test/unit/rest/rest-door.test.ts holds the two together). */
export const REST_METHODS: readonly string[] = ['GET', 'POST', 'PUT', 'DELETE'];

/** The REST router, built on the first request that reaches it; a failure to load is that request's error. */
export function lazyRestRouter(dependencies: RestRouterDependencies): RequestHandler {
  let router: Promise<RequestHandler> | undefined;
  return (req, res, next) => {
    router ??= import('./rest.router').then(({ createRestRouter }) => createRestRouter(dependencies));
    router.then((handle) => handle(req, res, next), next);
  };
}

/** GET /openapi.json's body, generated on the first request for it and kept. */
export function lazyOpenApiDocument(version: string): () => Promise<Record<string, unknown>> {
  let document: Promise<Record<string, unknown>> | undefined;
  return () => (document ??= import('./openapi').then(({ openApiDocument }) => openApiDocument(version)));
}
