// GET /metrics on the main listener, in Prometheus's text format. Outside production it is open;
// in production it needs an admin token (401 without a valid token, 403 for another role) unless
// METRICS_PUBLIC=true, for a scraper on a private network that cannot hold a token. The runtime
// listener never serves it.
import type { RequestHandler } from 'express';
import { isRuntime } from '../auth/principal';
import type { TokenVerifier } from '../auth/token-verifier';
import { AppError } from '../errors/app-error';
import { collectProcessMetrics, metricsRegistry } from './metrics';

export interface MetricsEndpointOptions {
  verifier: Pick<TokenVerifier, 'authenticate'>;
  /** Whether anyone may read the metrics without a token (outside production, or METRICS_PUBLIC). */
  open: boolean;
}

export function metricsEndpoint(options: MetricsEndpointOptions): RequestHandler {
  collectProcessMetrics();
  return (req, res, next) => {
    void (async () => {
      if (!options.open) {
        const refusal = await refusalOf(options.verifier, req.headers.authorization);
        if (refusal) {
          res.status(refusal.status).json({ errors: [{ message: refusal.message, extensions: { code: refusal.code } }] });
          return;
        }
      }
      const text = await metricsRegistry.metrics();
      res.setHeader('Content-Type', metricsRegistry.contentType);
      res.setHeader('Cache-Control', 'no-store');
      res.send(text);
    })().catch(next);
  };
}

async function refusalOf(
  verifier: MetricsEndpointOptions['verifier'],
  authorization: string | undefined,
): Promise<{ status: number; code: string; message: string } | null> {
  try {
    const principal = await verifier.authenticate(authorization);
    if (principal.roles.includes('admin') && !isRuntime(principal)) return null;
    return { status: 403, code: 'FORBIDDEN', message: 'Metrics require the admin role.' };
  } catch (error) {
    if (error instanceof AppError && error.code === 'UNAUTHENTICATED') return { status: 401, code: error.code, message: error.message };
    throw error;
  }
}
