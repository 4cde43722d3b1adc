// Entry point: read the environment once, start the application, stop cleanly on signals.
import 'reflect-metadata';
import nodeModule from 'node:module';
import { projectVersion } from './db/project-paths';
import { otlpTracesUrl } from './tracing/otlp-endpoint';
import type { Tracing } from './tracing/tracing';

async function main(): Promise<void> {
  keepCompiledCode();
  // Tracing starts before anything it instruments is loaded (its instrumentations patch http,
  // express, graphql, pg and gRPC as they are required), hence the imports that follow it here.
  const tracing = await startTracingWhenConfigured(process.env.OTEL_EXPORTER_OTLP_ENDPOINT);
  const { ConfigError, loadConfig } = await import('./config/config');
  const { developmentHints, startApplication } = await import('./application');
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exitCode = 2;
      await tracing?.shutdown();
      return;
    }
    throw error;
  }
  const app = await startApplication(config);
  for (const line of developmentHints(config, app.url)) process.stderr.write(`${line}\n`);

  // One owner of the signals (Apollo's own handlers are off). The first SIGTERM or SIGINT stops
  // taking work, lets requests in flight finish (SHUTDOWN_GRACE_MS), closes the database and the
  // key service, and exits 0; a stop that overruns its bound exits 1. Another SIGTERM while
  // stopping changes nothing; a second Ctrl-C (SIGINT) exits at once.
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      if (signal === 'SIGINT') {
        app.logger.warn({ event: 'stop_forced', signal }, 'second interrupt while stopping: exiting now');
        process.exit(1);
      }
      app.logger.info({ event: 'stopping', signal }, 'already stopping');
      return;
    }
    stopping = true;
    app.logger.info({ event: 'stopping', signal }, 'shutting down');
    const started = Date.now();
    const overrun = setTimeout(() => {
      app.logger.error({ event: 'stop_overrun', graceMs: config.shutdownGraceMs }, 'stop did not finish in time: exiting');
      process.exit(1);
    }, config.shutdownGraceMs + STOP_MARGIN_MS);
    overrun.unref();
    app
      .close()
      .then(() => tracing?.shutdown())
      .then(
        () => {
          app.logger.info({ event: 'stopped', durationMs: Date.now() - started }, 'stopped');
          process.exit(0);
        },
        (error: unknown) => {
          app.logger.error({ event: 'stop_failed', error: error instanceof Error ? error.message : String(error) }, 'stop failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/**
 * Node 22.1 and later keep V8's compiled code of every module between starts (in NODE_COMPILE_CACHE,
 * or a folder under the system's temporary directory), so that a restart skips most of the parsing
 * of the ~1,300 modules the service loads. Older Node has no such cache and this does nothing; a
 * cache that cannot be written (a read-only file system) only means no cache.
 */
function keepCompiledCode(): void {
  (nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
}

/** Beyond the grace period, what closing the database and the key service may take. */
const STOP_MARGIN_MS = 5_000;

/**
 * Starts tracing when OTEL_EXPORTER_OTLP_ENDPOINT is set; otherwise nothing of OpenTelemetry is
 * even loaded. A value that is not a URL starts nothing here, and loadConfig names it.
 */
async function startTracingWhenConfigured(endpoint: string | undefined): Promise<Tracing | null> {
  const url = endpoint === undefined || endpoint.trim() === '' ? undefined : otlpTracesUrl(endpoint.trim());
  if (url === undefined) return null;
  const { startTracing } = await import('./tracing/tracing');
  return startTracing({ url, serviceVersion: projectVersion() });
}

main().catch((error: unknown) => {
  process.stderr.write(`credential vault failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
