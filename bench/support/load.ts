// A small closed-loop load generator over node:http: `concurrency` callers, each sending its next
// request as soon as its previous answer has been read, over keep-alive connections (one Agent,
// one socket per caller), until a deadline or a request budget, whichever comes first. Records
// every latency (request written to body fully read) and every status, so a fast error can never
// pass for a fast answer. Each request may be a different one (`next`: unique names, a caller's own
// row), and a 200 may be checked further (`accept`: a GraphQL answer without errors). The same loop
// drives any other operation (`runClosedLoop`: SQL straight to the database, for instance).
import http from 'node:http';
import { round } from './report';

/** What to send, again and again. */
export interface Target {
  url: string;
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
}

/** How many in parallel, how long and how many at most: the shape of every closed loop. */
export interface LoopSettings {
  concurrency: number;
  /** Stop starting new operations after this long. */
  durationMs: number;
  /** And after this many in all (a bound even on a very fast machine). */
  maxRequests: number;
}

interface LoadSettings extends LoopSettings {
  /** A request that takes longer counts as failed (default 10 s). */
  requestTimeoutMs?: number;
  /**
   * Whether a 200 answer's body is a success (default: every 200 is). One that is not counts as
   * failed, under the status `200 not accepted`.
   */
  accept?: (body: string) => boolean;
}

/** The same request every time, or `next`: the request numbered `sequence` (0, 1, ... over all callers), sent by `caller` (0 to concurrency - 1). */
export type LoadOptions = LoadSettings & (Target | { next: (sequence: number, caller: number) => Target });

/** The status recorded for a 200 whose body `accept` refused. */
export const NOT_ACCEPTED = '200 not accepted';

export interface LoadResult {
  requests: number;
  /** Answers other than 200, 200s that `accept` refused, and requests that errored or timed out. */
  failures: number;
  statuses: Record<string, number>;
  /** The first failure: its status and the beginning of its body (or the error), to say what went wrong. */
  firstFailure?: string;
  elapsedMs: number;
  /** Answered requests (any status) per second over the whole window. */
  ratePerSecond: number;
  latencyMs: { p50: number; p99: number; max: number; mean: number };
}

interface Answer {
  status: number;
  body: string;
}

/** One request on `agent`; resolves when the whole body has been read. */
export function send(agent: http.Agent, options: Target & { requestTimeoutMs?: number }): Promise<Answer> {
  return new Promise<Answer>((resolve, reject) => {
    const request = http.request(options.url, { method: options.method, headers: options.headers, agent }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    request.setTimeout(options.requestTimeoutMs ?? 10_000, () => request.destroy(new Error('request timed out')));
    request.on('error', reject);
    request.end(options.body);
  });
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** What one operation of a closed loop came to: `ok`, and otherwise a status to count it under and what to show. */
export interface Outcome {
  ok: boolean;
  status: string;
  detail?: string;
}

/**
 * Runs `operation` in a closed loop: `concurrency` callers, each starting its next operation as
 * soon as its previous one has settled, until `durationMs` has passed or `maxRequests` have been
 * started. An operation that throws counts as failed under the status `error`.
 */
export async function runClosedLoop(
  settings: LoopSettings,
  operation: (sequence: number, caller: number) => Promise<Outcome>,
): Promise<LoadResult> {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let issued = 0;
  let failures = 0;
  let firstFailure: string | undefined;
  const started = performance.now();
  const deadline = started + settings.durationMs;
  const caller = async (index: number): Promise<void> => {
    while (performance.now() < deadline && issued < settings.maxRequests) {
      const sequence = issued;
      issued += 1;
      const sent = performance.now();
      let outcome: Outcome;
      try {
        outcome = await operation(sequence, index);
      } catch (error) {
        outcome = { ok: false, status: 'error', detail: error instanceof Error ? error.message : String(error) };
      }
      latencies.push(performance.now() - sent);
      statuses[outcome.status] = (statuses[outcome.status] ?? 0) + 1;
      if (!outcome.ok) {
        failures += 1;
        firstFailure ??= `${outcome.status}: ${(outcome.detail ?? '').slice(0, 500)}`;
      }
    }
  };
  await Promise.all(Array.from({ length: settings.concurrency }, (_, index) => caller(index)));
  const elapsedMs = performance.now() - started;
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    failures,
    statuses,
    ...(firstFailure === undefined ? {} : { firstFailure }),
    elapsedMs,
    ratePerSecond: (latencies.length / elapsedMs) * 1000,
    latencyMs: {
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      max: latencies.length > 0 ? latencies[latencies.length - 1] : Number.NaN,
      mean: latencies.length > 0 ? latencies.reduce((sum, value) => sum + value, 0) / latencies.length : Number.NaN,
    },
  };
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const targetOf = 'next' in options ? options.next : () => options;
  try {
    return await runClosedLoop(options, async (sequence, caller) => {
      const answer = await send(agent, { ...targetOf(sequence, caller), requestTimeoutMs: options.requestTimeoutMs });
      const status = answer.status === 200 && options.accept && !options.accept(answer.body) ? NOT_ACCEPTED : String(answer.status);
      return { ok: status === '200', status, detail: answer.body };
    });
  } finally {
    agent.destroy();
  }
}

/** A result as the JSON records keep it: counts, rate and latencies rounded. */
export function loadSummary(result: LoadResult): Record<string, unknown> {
  return {
    requests: result.requests,
    failures: result.failures,
    elapsedMs: round(result.elapsedMs, 1),
    ratePerSecond: round(result.ratePerSecond, 1),
    latencyMs: {
      p50: round(result.latencyMs.p50),
      p99: round(result.latencyMs.p99),
      max: round(result.latencyMs.max),
      mean: round(result.latencyMs.mean),
    },
  };
}
