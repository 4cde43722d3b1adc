// A small closed-loop load generator over node:http: `concurrency` callers, each sending its next
// request as soon as its previous answer has been read, over keep-alive connections (one Agent,
// one socket per caller), until a deadline or a request budget, whichever comes first. Records
// every latency (request written to body fully read) and every status, so a fast error can never
// pass for a fast answer.
import http from 'node:http';

/** What to send, again and again. */
export interface Target {
  url: string;
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
}

export interface LoadOptions extends Target {
  concurrency: number;
  /** Stop issuing new requests after this long. */
  durationMs: number;
  /** And after this many requests in all (a bound even on a very fast machine). */
  maxRequests: number;
  /** A request that takes longer counts as failed (default 10 s). */
  requestTimeoutMs?: number;
}

export interface LoadResult {
  requests: number;
  /** Answers other than 200, and requests that errored or timed out. */
  failures: number;
  statuses: Record<string, number>;
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

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let issued = 0;
  let failures = 0;
  const started = performance.now();
  const deadline = started + options.durationMs;
  const caller = async (): Promise<void> => {
    while (performance.now() < deadline && issued < options.maxRequests) {
      issued += 1;
      const sent = performance.now();
      let status: string;
      try {
        status = String((await send(agent, options)).status);
      } catch {
        status = 'error';
      }
      latencies.push(performance.now() - sent);
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status !== '200') failures += 1;
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, caller));
  } finally {
    agent.destroy();
  }
  const elapsedMs = performance.now() - started;
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    failures,
    statuses,
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
