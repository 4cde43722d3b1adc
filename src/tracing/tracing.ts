// OpenTelemetry tracing, on only when OTEL_EXPORTER_OTLP_ENDPOINT is set: main.ts then loads this
// module and starts it before anything it instruments is loaded (the instrumentations patch http,
// express, graphql, pg and @grpc/grpc-js as they are required). Unset, this module is never loaded:
// no SDK, no patching, no cost. Tests that start the application in-process never start it.
// Spans go over OTLP/HTTP (JSON) in batches, through ScrubbingSpanExporter, which decides what may
// leave the process; the instrumentations are also told to record no values: GraphQL without
// literals or variables, PostgreSQL without parameters, no HTTP headers, no gRPC metadata.
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { GraphQLInstrumentation } from '@opentelemetry/instrumentation-graphql';
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ScrubbingSpanExporter } from './scrubbing-span-exporter';

export interface TracingOptions {
  /** Where spans are posted: OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces (otlpTracesUrl). */
  url: string;
  serviceVersion: string;
}

export interface Tracing {
  /** Exports the spans still buffered and stops. */
  shutdown(): Promise<void>;
}

/** Paths probed every few seconds (liveness, readiness, scrapes): not worth a trace each. */
const UNTRACED_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

export function startTracing(options: TracingOptions): Tracing {
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'credential-vault', 'service.version': options.serviceVersion }),
    spanProcessors: [new BatchSpanProcessor(new ScrubbingSpanExporter(new OTLPTraceExporter({ url: options.url })))],
  });
  provider.register();
  const unregister = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.has((request.url ?? '').split('?')[0]),
      }),
      new ExpressInstrumentation(),
      new GraphQLInstrumentation({ allowValues: false, mergeItems: true, ignoreTrivialResolveSpans: true }),
      new PgInstrumentation({ enhancedDatabaseReporting: false }),
      new GrpcInstrumentation(),
    ],
  });
  return {
    async shutdown() {
      unregister();
      // A collector that does not answer must not hold the stop: what is not out by then is lost.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        provider.shutdown().catch(() => undefined),
        new Promise((resolve) => {
          timer = setTimeout(resolve, SHUTDOWN_FLUSH_MS);
        }),
      ]);
      clearTimeout(timer);
    },
  };
}

/** How long a stop waits for the last spans to be exported. */
const SHUTDOWN_FLUSH_MS = 2000;
