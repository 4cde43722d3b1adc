// The service's Prometheus metrics: one registry, every metric defined here, and the few functions
// the instrumented code calls. Label values come from closed sets only (schema field names, route
// templates, auth types, error codes, call names, outcomes); never an id, a secret or text that a
// client or an organization chose, so the number of series stays bounded whatever the traffic.
// Gauges that describe a moment (database pool, change feed) are read when /metrics is scraped.
import type { Pool } from 'pg';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export const metricsRegistry = new Registry();

const registers = [metricsRegistry];

/** GraphQL operations by root field (see graphql-metrics.plugin.ts), operation type and outcome. */
export const graphqlRequests = new Counter({
  name: 'graphql_requests_total',
  help: 'GraphQL requests, by root field, operation type and outcome (ok or the first error code).',
  labelNames: ['operation', 'operation_type', 'outcome'] as const,
  registers,
});

export const graphqlRequestDuration = new Histogram({
  name: 'graphql_request_duration_seconds',
  help: 'GraphQL request latency, by root field, operation type and outcome.',
  labelNames: ['operation', 'operation_type', 'outcome'] as const,
  registers,
});

/** REST requests by method, route template (never the raw path) and outcome (ok or the HTTP status). */
export const restRequests = new Counter({
  name: 'rest_requests_total',
  help: 'REST requests, by method, route template and outcome (ok or the HTTP status).',
  labelNames: ['method', 'route', 'outcome'] as const,
  registers,
});

export const restRequestDuration = new Histogram({
  name: 'rest_request_duration_seconds',
  help: 'REST request latency, by method, route template and outcome.',
  labelNames: ['method', 'route', 'outcome'] as const,
  registers,
});

/** Runtime resolves (POST /v1/upstream-auth) by auth type and outcome (ok or the error code). */
export const runtimeResolves = new Counter({
  name: 'runtime_resolves_total',
  help: 'Runtime resolves (POST /v1/upstream-auth), by auth type and outcome (ok or the error code).',
  labelNames: ['auth_type', 'outcome'] as const,
  registers,
});

export const runtimeResolveDuration = new Histogram({
  name: 'runtime_resolve_duration_seconds',
  help: 'Runtime resolve latency, by auth type and outcome.',
  labelNames: ['auth_type', 'outcome'] as const,
  registers,
});

/** The clouds this service calls. */
export type CloudService = 'kms' | 'sts' | 'google';

const cloudCalls = new Counter({
  name: 'cloud_calls_total',
  help: 'Calls to Cloud KMS, AWS STS and Google (OAuth, IAM Credentials, Vertex AI), by service, operation and outcome.',
  labelNames: ['service', 'operation', 'outcome'] as const,
  registers,
});

const cloudCallDuration = new Histogram({
  name: 'cloud_call_duration_seconds',
  help: 'Latency of calls to Cloud KMS, AWS STS and Google, by service, operation and outcome.',
  labelNames: ['service', 'operation', 'outcome'] as const,
  registers,
});

/** The in-memory caches: unwrapped KMS data keys, minted STS and Google credentials, runtime rows. */
export type CacheName = 'kms_data_key' | 'minted_credential' | 'runtime_row';

const cacheLookups = new Counter({
  name: 'cache_lookups_total',
  help: 'Lookups in the in-memory caches, by cache and result (hit or miss).',
  labelNames: ['cache', 'result'] as const,
  registers,
});

const auditWriteFailures = new Counter({
  name: 'audit_write_failures_total',
  help: 'Audit events that could not be written.',
  registers,
});

/** What the gauges read from a pg Pool. */
type PoolStatistics = Pick<Pool, 'totalCount' | 'idleCount' | 'waitingCount' | 'ended'>;

const pools = new Set<PoolStatistics>();

/** Sums over the pools being watched; a pool that has ended is forgotten. */
function poolSum(read: (pool: PoolStatistics) => number): number {
  let sum = 0;
  for (const pool of pools) {
    if (pool.ended) pools.delete(pool);
    else sum += read(pool);
  }
  return sum;
}

new Gauge({
  name: 'db_pool_connections',
  help: 'Open PostgreSQL connections in the pool (idle and in use).',
  registers,
  collect() {
    this.set(poolSum((pool) => pool.totalCount));
  },
});

new Gauge({
  name: 'db_pool_idle_connections',
  help: 'Idle PostgreSQL connections in the pool.',
  registers,
  collect() {
    this.set(poolSum((pool) => pool.idleCount));
  },
});

new Gauge({
  name: 'db_pool_waiting_requests',
  help: 'Requests waiting for a pooled PostgreSQL connection.',
  registers,
  collect() {
    this.set(poolSum((pool) => pool.waitingCount));
  },
});

const changeFeeds = new Set<{ readonly live: boolean }>();

new Gauge({
  name: 'change_feed_live',
  help: '1 while the change feed hears every write (LISTEN connection up), 0 while rows are read through.',
  registers,
  collect() {
    if (changeFeeds.size === 0) return;
    this.set([...changeFeeds].every((feed) => feed.live) ? 1 : 0);
  },
});

/** Reports the pool's connections on every scrape, until the pool ends. */
export function watchPool(pool: PoolStatistics): void {
  pools.add(pool);
}

/** Reports whether the change feed is live on every scrape; the returned function stops it. */
export function watchChangeFeed(feed: { readonly live: boolean }): () => void {
  changeFeeds.add(feed);
  return () => changeFeeds.delete(feed);
}

export function recordCacheLookup(cache: CacheName, hit: boolean): void {
  cacheLookups.inc({ cache, result: hit ? 'hit' : 'miss' });
}

/** Counts one audit event that could not be written (audit_write_failures_total). */
export function countAuditWriteFailure(): void {
  auditWriteFailures.inc();
}

/**
 * Runs one call to a cloud and records its count and latency. `operation` is a fixed name chosen
 * by the caller; `outcome` maps the answer or the failure onto a small closed set.
 */
export async function timedCloudCall<Result>(
  service: CloudService,
  operation: string,
  call: () => Promise<Result>,
  outcome: { ofResult?: (result: Result) => string; ofError: (error: unknown) => string },
): Promise<Result> {
  const started = process.hrtime.bigint();
  let label = 'ok';
  try {
    const result = await call();
    label = outcome.ofResult?.(result) ?? 'ok';
    return result;
  } catch (error) {
    label = outcome.ofError(error);
    throw error;
  } finally {
    recordCloudCall(service, operation, label, secondsSince(started));
  }
}

function recordCloudCall(service: CloudService, operation: string, outcome: string, seconds: number): void {
  const labels = { service, operation, outcome };
  cloudCalls.inc(labels);
  cloudCallDuration.observe(labels, seconds);
}

/** Seconds since a process.hrtime.bigint() reading. */
export function secondsSince(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e9;
}

let processMetricsStarted = false;

/** Node's process metrics (CPU, memory, event loop lag, GC, handles), once per process. */
export function collectProcessMetrics(): void {
  if (processMetricsStarted) return;
  processMetricsStarted = true;
  collectDefaultMetrics({ register: metricsRegistry });
}

/** Starts timing one runtime resolve; then call `resolved` with its auth type, or `failed` with the error code. */
export function timeRuntimeResolve(): { resolved(authType: string): void; failed(code: string): void } {
  const started = process.hrtime.bigint();
  const record = (authType: string, outcome: string) => {
    const labels = { auth_type: authType, outcome };
    runtimeResolves.inc(labels);
    runtimeResolveDuration.observe(labels, secondsSince(started));
  };
  return { resolved: (authType) => record(authType, 'ok'), failed: (code) => record('unknown', code) };
}
