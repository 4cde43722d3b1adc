// The runtime listener: a second HTTP server, on its own address (RUNTIME_HOST:RUNTIME_PORT),
// for the gateway's data plane only. One route, POST /v1/upstream-auth (and GET /healthz); runtime tokens only
// (admin and viewer tokens are refused here, and runtime tokens everywhere else); no GraphQL,
// no Sandbox, no CORS. Answers are never cached by anyone (Cache-Control: no-store).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type * as Zod from 'zod';
import { assignRequestId, originOf } from '../audit/request-origin';
import type { TokenVerifier } from '../auth/token-verifier';
import { slugOf } from '../catalog/model-provider-catalog';
import { isUuid } from '../ids/uuid';
import type { Logger } from '../logging/logger';
import { timeRuntimeResolve } from '../metrics/metrics';
import { nameOfAuthType } from '../rest/rest-auth-types';
import { envelopeErrorHandler, RestRequestError, requireJson, restErrorResponse } from '../rest/rest-error';
import { parseBody } from '../rest/rest-validation';
import type { UpstreamAuth, UpstreamAuthService } from './upstream-auth.service';

export interface RuntimeServerDependencies {
  upstreamAuth: Pick<UpstreamAuthService, 'resolve'>;
  /** Verifies runtime tokens (with RUNTIME_JWT_AUDIENCE when set). */
  verifier: TokenVerifier;
  logger: Logger;
}

export interface RunningRuntimeServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** The route's body schema, made with zod on the first request: zod is not among what the service loads to start. */
let upstreamAuthBody: Promise<ReturnType<typeof bodySchema>> | undefined;
const loadUpstreamAuthBody = () => (upstreamAuthBody ??= import('zod').then(bodySchema));

function bodySchema({ z }: typeof Zod) {
  const uuid = z.string().refine(isUuid, 'must be a UUID').optional();
  return z.strictObject({ provider_id: uuid, credential_id: uuid });
}

const BODY_LIMIT = '16kb';

export function createRuntimeApp(deps: RuntimeServerDependencies): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(assignRequestId);
  // Express would hash each body into an ETag: here that is a digest of secret material.
  app.set('etag', false);
  // Liveness of this listener, and the floor the runtime benchmark measures the route against.
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.post('/v1/upstream-auth', requireJson, express.json({ limit: BODY_LIMIT, type: () => true }), (req, res, next) => {
    // runtime_resolves_total and runtime_resolve_duration_seconds, by auth type and outcome.
    const timer = timeRuntimeResolve();
    void (async () => {
      const started = process.hrtime.bigint();
      const principal = { ...(await deps.verifier.authenticate(req.headers.authorization)), origin: originOf(req) };
      const body = parseBody(await loadUpstreamAuthBody(), req.body);
      const resolved = await deps.upstreamAuth.resolve(principal, { providerId: body.provider_id, credentialId: body.credential_id });
      res.setHeader('Cache-Control', 'no-store');
      res.status(200).json(answerOf(resolved));
      timer.resolved(resolved.authType);
      // One line per resolve is a debug line: the audit trail counts resolves per credential per minute.
      if (deps.logger.isLevelEnabled('debug')) {
        deps.logger.debug(
          {
            event: 'upstream_auth',
            status: 200,
            orgId: principal.orgId,
            credentialId: resolved.credentialId,
            providerId: resolved.providerId,
            durationMs: Number(process.hrtime.bigint() - started) / 1e6,
          },
          'upstream auth resolved',
        );
      }
    })().catch((error: unknown) => {
      timer.failed(restErrorResponse(error).body.error.code);
      next(error);
    });
  });
  app.use((_req, _res, next) => next(new RestRequestError(404, 'No such route.')));
  app.use(envelopeErrorHandler(deps.logger, 'upstream_auth'));
  return app;
}

/** The answer, snake_case: what the gateway needs for one upstream call, and exactly one kind of material. */
function answerOf(resolved: UpstreamAuth): Record<string, unknown> {
  const common = {
    credential_id: resolved.credentialId,
    provider_id: resolved.providerId,
    model_provider: slugOf(resolved.modelProvider),
    auth_type: nameOfAuthType(resolved.authType),
    base_url: resolved.baseUrl,
    settings: resolved.settings,
    secret_version: resolved.secretVersion,
    expires_at: resolved.expiresAt?.toISOString() ?? null,
  };
  const material = resolved.material;
  switch (material.kind) {
    case 'headers':
      return { ...common, headers: material.headers };
    case 'aws':
      return {
        ...common,
        aws: {
          access_key_id: material.aws.accessKeyId,
          secret_access_key: material.aws.secretAccessKey,
          session_token: material.aws.sessionToken,
          expiration: resolved.expiresAt?.toISOString() ?? null,
          region: material.aws.region,
        },
      };
    case 'google':
      return { ...common, google: { access_token: material.google.accessToken, expires_at: material.google.expiresAt.toISOString() } };
    case 'oauthPassthrough':
      return { ...common, oauth_passthrough: true };
  }
}

/**
 * Listens on host:port. close() stops taking connections, closes the idle ones, lets requests in
 * flight finish for up to `graceMs`, then closes whatever is left.
 */
export async function listenRuntime(app: express.Express, port: number, host: string, graceMs = 10_000): Promise<RunningRuntimeServer> {
  const server = http.createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${hostForUrl}:${address.port}`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        const deadline = setTimeout(() => server.closeAllConnections(), graceMs);
        server.close(() => {
          clearTimeout(deadline);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
