// The HTTP surface: POST/GET /graphql (Apollo Server 5 on Express), the REST door under /admin and
// /api/llm-gateway/admin with /openapi.json, /healthz, /readyz, /metrics and the admin page at /portal. The first three answer
// pages of the CORS_ORIGINS origins (src/cors/cors-allow-list.ts); the others never do.
// createServer takes its dependencies ready-made so that main.ts and the tests wire it alike.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import type { GraphQLSchema } from 'graphql';
import type { TokenVerifier } from './auth/token-verifier';
import { assignRequestId, originOf } from './audit/request-origin';
import { type Context, createContext, type Services } from './context';
import { corsAllowList } from './cors/cors-allow-list';
import { createErrorFormatting } from './errors/format-error';
import { IDEMPOTENCY_KEY_HEADER } from './idempotency/idempotency-key';
import type { Logger } from './logging/logger';
import { requestLoggingPlugin } from './logging/request-logging.plugin';
import { graphqlMetricsPlugin } from './metrics/graphql-metrics.plugin';
import { metricsEndpoint } from './metrics/metrics-endpoint';
import { restRequestMetrics } from './metrics/rest-metrics';
import { projectVersion } from './db/project-paths';
import { portalRouter } from './portal/portal-router';
import { lazyOpenApiDocument, lazyRestRouter, REST_METHODS, REST_MOUNTS } from './rest/rest-door';
import {
  OPERATION_LIMIT_DEFAULTS,
  operationLimitRules,
  type OperationLimits,
  operationParseOptions,
} from './request-guards/operation-limits';
import { requestGuardsPlugin } from './request-guards/request-guards.plugin';

export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

export interface ServerDependencies {
  schema: GraphQLSchema;
  services: Services;
  verifier: TokenVerifier;
  logger: Logger;
  production: boolean;
  readiness: ReadinessCheck[];
  /** Limits every GraphQL operation is held to before it runs (default: OPERATION_LIMIT_DEFAULTS). */
  operationLimits?: OperationLimits;
  /** SUBGRAPH_SDL_PUBLIC: in production, `_service { sdl }` answers without a token. */
  subgraphSdlPublic?: boolean;
  /** METRICS_PUBLIC: in production, GET /metrics answers without an admin token. */
  metricsPublic?: boolean;
  /** SHUTDOWN_GRACE_MS: how long close() waits for requests in flight. */
  shutdownGraceMs?: number;
  /** CORS_ORIGINS: origins whose pages may call /graphql, the REST door and /openapi.json (none by default). */
  corsOrigins?: readonly string[];
}

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Limits how long /readyz waits on one dependency. */
const READINESS_TIMEOUT_MS = 2000;
const BODY_LIMIT = '256kb';

export async function createServer(deps: ServerDependencies) {
  const app = express();
  app.disable('x-powered-by');
  app.use(assignRequestId);
  const httpServer = http.createServer(app);
  const errors = createErrorFormatting(deps.logger, { hideSuggestions: deps.production });
  const limits = deps.operationLimits ?? OPERATION_LIMIT_DEFAULTS;
  const corsOrigins = deps.corsOrigins ?? [];
  /** CORS for routes taking `methods`; while no origin is allowed, nothing at all (not even Vary). */
  const cors = (methods: readonly string[]): RequestHandler =>
    corsOrigins.length > 0 ? corsAllowList({ origins: corsOrigins, methods }) : (_req, _res, next) => next();

  const apollo = new ApolloServer<Context>({
    schema: deps.schema,
    introspection: !deps.production,
    hideSchemaDetailsFromClientErrors: deps.production,
    includeStacktraceInErrorResponses: false,
    // main.ts owns the signals: a second handler would call stop() again, and that call never returns.
    stopOnTerminationSignals: false,
    formatError: errors.formatError,
    parseOptions: operationParseOptions(limits),
    validationRules: operationLimitRules(limits),
    plugins: [
      // A stop lets requests in flight finish (up to the grace period), then closes every connection.
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: deps.shutdownGraceMs ?? 10_000 }),
      // Federated traces would carry resolver error details to whoever asks for them.
      ApolloServerPluginInlineTraceDisabled(),
      // No type or field carries a cache hint, so no response is cacheable; the plugin Apollo adds by
      // default would still wrap every field's resolver to compute a policy on each resolution.
      ApolloServerPluginCacheControlDisabled(),
      deps.production ? ApolloServerPluginLandingPageDisabled() : ApolloServerPluginLandingPageLocalDefault({ embed: true }),
      errors.plugin,
      requestGuardsPlugin({ production: deps.production, subgraphSdlPublic: deps.subgraphSdlPublic ?? false }),
      requestLoggingPlugin(deps.logger),
      graphqlMetricsPlugin(),
    ],
  });
  await apollo.start();

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  // Prometheus metrics: open outside production; in production an admin token unless METRICS_PUBLIC.
  app.get('/metrics', metricsEndpoint({ verifier: deps.verifier, open: !deps.production || (deps.metricsPublic ?? false) }));

  app.get('/readyz', async (_req, res) => {
    const results = await Promise.all(deps.readiness.map(async (dependency) => ({ name: dependency.name, ok: await answers(dependency) })));
    const failed = results.filter((result) => !result.ok).map((result) => result.name);
    if (failed.length === 0) {
      res.json({ status: 'ready', checks: Object.fromEntries(results.map((result) => [result.name, 'ok'])) });
      return;
    }
    deps.logger.warn({ event: 'not_ready', failed }, 'readiness check failed');
    res.status(503).json({
      status: 'unavailable',
      failed,
      checks: Object.fromEntries(results.map((result) => [result.name, result.ok ? 'ok' : 'failed'])),
    });
  });

  app.use(
    '/graphql',
    cors(['GET', 'POST']),
    express.json({ limit: BODY_LIMIT }),
    expressMiddleware(apollo, {
      context: async ({ req }) =>
        createContext(
          async () => ({ ...(await deps.verifier.authenticate(req.headers.authorization)), origin: originOf(req) }),
          deps.services,
          req.get(IDEMPOTENCY_KEY_HEADER),
        ),
    }),
  );

  // The REST door (the connections API existing clients call) and its OpenAPI document.
  // Both are loaded by the first request that needs them (src/rest/rest-door.ts), not by the start.
  app.use(
    [...REST_MOUNTS],
    // Before the metrics: a preflight answered here is not a REST request.
    cors([...REST_METHODS]),
    restRequestMetrics,
    lazyRestRouter({ services: deps.services, verifier: deps.verifier, logger: deps.logger, bodyLimit: BODY_LIMIT }),
  );
  const openApi = lazyOpenApiDocument(projectVersion());
  app.use('/openapi.json', cors(['GET']));
  app.get('/openapi.json', (_req, res, next) => {
    openApi().then((document) => res.json(document), next);
  });

  // The admin page (portal/), same origin as /graphql: it needs no CORS.
  app.use('/portal', portalRouter());

  app.use(bodyErrorHandler(deps.logger));

  async function answers(dependency: ReadinessCheck): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        dependency.check(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('timed out')), READINESS_TIMEOUT_MS);
        }),
      ]);
      return true;
    } catch (error) {
      deps.logger.warn(
        { event: 'readiness_failure', dependency: dependency.name, error: error instanceof Error ? error.message : 'unknown' },
        'dependency not ready',
      );
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  async function listen(port: number, host: string): Promise<RunningServer> {
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(port, host, () => {
        httpServer.off('error', reject);
        resolve();
      });
    });
    const address = httpServer.address() as AddressInfo;
    const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return {
      url: `http://${hostForUrl}:${address.port}/graphql`,
      port: address.port,
      close: () => apollo.stop(),
    };
  }

  return { app, apollo, listen };
}

/**
 * Body parser failures (malformed JSON, too large). Node's JSON.parse quotes the text it choked
 * on, which may be a secret, so the client gets a fixed message and the log only the kind.
 */
function bodyErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, _req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const { status, type } = (error ?? {}) as { status?: number; type?: string };
    if (typeof status === 'number' && status >= 400 && status < 500) {
      const message =
        type === 'entity.too.large' ? `The request body is larger than ${BODY_LIMIT}.` : 'The request body is not valid JSON.';
      logger.info({ event: 'bad_request', reason: type ?? 'unknown', status }, 'rejected request body');
      res.status(status).json({ errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] });
      return;
    }
    logger.error({ event: 'http_error', error: error instanceof Error ? error.name : 'unknown' }, 'unhandled HTTP error');
    res.status(500).json({ errors: [{ message: 'Internal server error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
  };
}
