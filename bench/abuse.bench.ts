// Benchmark of the GraphQL operation limits under abuse: the two bombs that once took seconds and
// hundreds of megabytes (credentials → providers → credential nested 11 fields deep; 1,000 aliases
// of credentials(first: 100)), sent with a viewer token of an organization that has data to
// multiply, against the real application in this process over a PostgreSQL database of its own.
// Prints how fast each bomb is refused and how much the resident set grows, and the latency of
// another organization's ordinary query alone and while waves of bombs arrive (four in parallel,
// ten times a second, by default); appends the figures to
// bench/results/abuse.jsonl. Goals are reported, not asserted: the only assertions are that the
// setup worked, that every bomb was refused with QUERY_TOO_COMPLEX and every ordinary query answered.
// Run: npx jest -c bench/jest.config.js --runInBand bench/abuse.bench.ts  (see bench/README.md)
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import v8 from 'node:v8';
import vm from 'node:vm';
import { type Application, startApplication } from '../src/application';
import { mintDevelopmentToken } from '../src/auth/token-minter';
import { type Config, loadConfig } from '../src/config/config';
import { aCredentialInput } from '../test/support/factories';
import { aProviderInput } from '../test/support/provider-client';
import { aliasBomb, nestingBomb } from '../test/support/query-bombs';
import { postGraphQL } from '../test/support/test-app';
import { createTestDatabase, type TestDatabase } from '../test/support/test-database';
import { percentile, send } from './support/load';
import { appendResult, environment, type Figure, fmt, printFigures, reproduceCommand, round, setting } from './support/report';

/** Sequential requests of each bomb for its rejection latency and RSS growth. */
const BOMBS = setting('BENCH_ABUSE_BOMBS', 200);
/** Bombs sent in parallel in each wave (both kinds, alternating) while the ordinary query is measured. */
const SENDERS = setting('BENCH_ABUSE_SENDERS', 4);
/** A wave starts this often (or as soon as the previous one is answered, if that takes longer). */
const WAVE_INTERVAL_MS = setting('BENCH_ABUSE_WAVE_INTERVAL_MS', 100);
/** Length of the ordinary query's windows, alone and under bombs. */
const WINDOW_MS = setting('BENCH_ABUSE_WINDOW_MS', 4000);
/** Credentials of the attacked organization, each with PROVIDERS_PER_CREDENTIAL providers. */
const CREDENTIALS = setting('BENCH_ABUSE_CREDENTIALS', 100);
const PROVIDERS_PER_CREDENTIAL = 3;

const BASE_COMMAND = 'npx jest -c bench/jest.config.js --runInBand bench/abuse.bench.ts';
const COMMAND = reproduceCommand('BENCH_ABUSE_', BASE_COMMAND);

const JWT_SECRET = `bench-${randomBytes(24).toString('hex')}`;
/** What another organization asks for while bombs arrive: a page with each credential's providers. */
const ORDINARY_QUERY = 'query Ordinary { credentials(first: 20) { totalCount edges { node { id name authType providers { name } } } } }';
/** Seeding sends this many aliased mutations per request (the alias limit). */
const SEED_BATCH = 15;

const GOALS = { rejectionP99Ms: 50, rssGrowthMb: 20, ordinaryP50Ratio: 1.5 };

let database: TestDatabase;
let dataDir: string;
let config: Config;
let app: Application;
let logLines = 0;

beforeAll(async () => {
  database = await createTestDatabase('bench_abuse');
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'vault-bench-abuse-'));
  config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    RUNTIME_PORT: 'off',
    DATA_DIR: dataDir,
    DATABASE_URL: database.url,
    JWT_SECRET,
    // Production's level: the request line of every refusal is part of its cost.
    LOG_LEVEL: 'info',
  });
  const logDestination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const byte of chunk) if (byte === 0x0a) logLines += 1;
      callback();
    },
  });
  app = await startApplication(config, { logDestination });
}, 60_000);

afterAll(async () => {
  await app?.close();
  await database?.drop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

/** Runs `mutation` once per input, SEED_BATCH aliased fields a request; returns the created ids. */
async function seed(token: string, field: string, inputType: string, inputs: unknown[]): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < inputs.length; start += SEED_BATCH) {
    const chunk = inputs.slice(start, start + SEED_BATCH);
    const declarations = chunk.map((_, index) => `$i${index}: ${inputType}!`).join(', ');
    const fields = chunk.map((_, index) => `r${index}: ${field}(input: $i${index}) { id }`).join(' ');
    const variables = Object.fromEntries(chunk.map((input, index) => [`i${index}`, input]));
    const { body } = await postGraphQL<Record<string, { id: string }>>(app.url, `mutation Seed(${declarations}) { ${fields} }`, variables, {
      token,
    });
    if (!body.data || body.errors) throw new Error(`seeding failed: ${JSON.stringify(body.errors)}`);
    ids.push(...chunk.map((_, index) => body.data?.[`r${index}`].id ?? ''));
  }
  return ids;
}

/** An organization with `credentials` credentials of `providers` providers each; its viewer's token. */
async function anOrganizationWithData(credentials: number, providers: number): Promise<string> {
  const orgId = randomUUID();
  const admin = mintDevelopmentToken(JWT_SECRET, { orgId, roles: ['admin'], sub: 'bench-admin' });
  const ids = await seed(
    admin,
    'createCredential',
    'CreateCredentialInput',
    Array.from({ length: credentials }, () => aCredentialInput()),
  );
  await seed(
    admin,
    'createProvider',
    'CreateProviderInput',
    ids.flatMap((id, index) => Array.from({ length: providers }, (_, copy) => aProviderInput(id, { name: `route-${index}-${copy}` }))),
  );
  return mintDevelopmentToken(JWT_SECRET, { orgId, roles: ['viewer'], sub: 'bench-viewer' });
}

interface Bomb {
  name: string;
  body: string;
  /** The limit expected to refuse it first. */
  limit: string;
}

/** Highest resident set size sampled every few milliseconds, above its value at the start. */
function rssSampler() {
  const start = process.memoryUsage.rss();
  let peak = start;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 5);
  return {
    stop(): { startMb: number; peakGrowthMb: number } {
      clearInterval(timer);
      peak = Math.max(peak, process.memoryUsage.rss());
      return { startMb: start / MB, peakGrowthMb: (peak - start) / MB };
    },
  };
}

const MB = 2 ** 20;

// What the JavaScript heap keeps across the whole run, measured between two full collections
// (the flag must be set before gc is first looked up).
v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc') as () => void;

function heapRetention() {
  collectGarbage();
  const before = process.memoryUsage().heapUsed;
  return {
    stop(): number {
      collectGarbage();
      return (process.memoryUsage().heapUsed - before) / MB;
    },
  };
}

interface Latencies {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

function latencies(values: number[]): Latencies {
  const sorted = [...values].sort((a, b) => a - b);
  return { count: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? Number.NaN };
}

/** POSTs `body` and returns its latency, failing unless the answer is the refusal `bomb` expects. */
async function sendBomb(agent: http.Agent, token: string, bomb: Bomb): Promise<number> {
  const started = performance.now();
  const answer = await send(agent, {
    url: app.url,
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: bomb.body,
  });
  const elapsed = performance.now() - started;
  const parsed = JSON.parse(answer.body) as { data?: unknown; errors?: { extensions?: { code?: string; limit?: string } }[] };
  const refusal = parsed.errors?.[0]?.extensions;
  if (parsed.data !== undefined || refusal?.code !== 'QUERY_TOO_COMPLEX' || refusal.limit !== bomb.limit) {
    throw new Error(`${bomb.name} was not refused by the ${bomb.limit} limit: ${answer.body.slice(0, 300)}`);
  }
  return elapsed;
}

/** The ordinary query, one at a time, until `until` resolves; every answer must carry data. */
async function ordinaryQueries(token: string, windowMs: number): Promise<number[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const values: number[] = [];
  const deadline = performance.now() + windowMs;
  try {
    while (performance.now() < deadline) {
      const started = performance.now();
      const answer = await send(agent, {
        url: app.url,
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ query: ORDINARY_QUERY }),
      });
      values.push(performance.now() - started);
      if (answer.status !== 200 || answer.body.includes('"errors"')) throw new Error(`ordinary query failed: ${answer.body.slice(0, 300)}`);
    }
  } finally {
    agent.destroy();
  }
  return values;
}

test('bombs are refused fast and cheaply, and another organization does not notice them', async () => {
  const attacker = await anOrganizationWithData(CREDENTIALS, PROVIDERS_PER_CREDENTIAL);
  const bystander = await anOrganizationWithData(20, 1);
  const bombs: Bomb[] = [
    { name: 'nesting bomb (11 levels)', body: JSON.stringify({ query: nestingBomb(11) }), limit: 'depth' },
    { name: 'alias bomb (1,000 aliases)', body: JSON.stringify({ query: aliasBomb(1000) }), limit: 'tokens' },
  ];

  const retention = heapRetention();
  // Warm-up: JIT, connection pools and the heap's spaces, for both kinds of request.
  const warmAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  for (const bomb of bombs) for (let index = 0; index < 5; index += 1) await sendBomb(warmAgent, attacker, bomb);
  warmAgent.destroy();
  await ordinaryQueries(bystander, 500);

  // 1. The ordinary query alone.
  const aloneRss = rssSampler();
  const alone = latencies(await ordinaryQueries(bystander, WINDOW_MS));
  const aloneMemory = aloneRss.stop();

  // 2. Each bomb, BOMBS times in a row: the growth of the resident set during each request, and
  // its peak over all of them.
  const sequential = [];
  for (const bomb of bombs) {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const rss = rssSampler();
    const values: number[] = [];
    let perRequestMaxMb = 0;
    for (let index = 0; index < BOMBS; index += 1) {
      const before = process.memoryUsage.rss();
      values.push(await sendBomb(agent, attacker, bomb));
      perRequestMaxMb = Math.max(perRequestMaxMb, (process.memoryUsage.rss() - before) / MB);
    }
    const memory = { ...rss.stop(), perRequestMaxMb };
    agent.destroy();
    sequential.push({ bomb, latency: latencies(values), memory });
  }

  // 3. Waves of SENDERS bombs in parallel, one every WAVE_INTERVAL_MS, while the other
  // organization's query is measured.
  const rss = rssSampler();
  let sending = true;
  const bombLatencies: number[] = [];
  const agents = Array.from({ length: SENDERS }, () => new http.Agent({ keepAlive: true, maxSockets: 1 }));
  const waves = async () => {
    for (let wave = 0; sending; wave += 1) {
      const pause = new Promise((resolve) => setTimeout(resolve, WAVE_INTERVAL_MS));
      const sent = agents.map(async (agent, index) =>
        bombLatencies.push(await sendBomb(agent, attacker, bombs[(wave + index) % bombs.length])),
      );
      await Promise.all([...sent, pause]);
    }
  };
  const attack = waves();
  const underBombs = latencies(await ordinaryQueries(bystander, WINDOW_MS));
  sending = false;
  await attack;
  for (const agent of agents) agent.destroy();
  const mixedMemory = rss.stop();
  const mixedBombs = latencies(bombLatencies);
  const retainedHeapMb = retention.stop();

  const mark = (met: boolean) => (met ? 'met' : 'NOT MET');
  const goals: Record<string, boolean> = {};
  const figures: Figure[] = [];
  for (const { bomb, latency, memory } of sequential) {
    const key = bomb.limit === 'depth' ? 'nesting' : 'aliases';
    goals[`${key}.p99`] = latency.p99 < GOALS.rejectionP99Ms;
    goals[`${key}.rss`] = memory.perRequestMaxMb < GOALS.rssGrowthMb;
    figures.push(
      { name: `${bomb.name}: refused by`, value: bomb.limit, note: '(QUERY_TOO_COMPLEX)' },
      { name: `${bomb.name}: p50`, value: `${fmt(latency.p50, 2)} ms`, note: `(${latency.count} sequential requests)` },
      {
        name: `${bomb.name}: p99`,
        value: `${fmt(latency.p99, 2)} ms`,
        note: `(max ${fmt(latency.max, 2)} ms) [goal < ${GOALS.rejectionP99Ms} ms: ${mark(goals[`${key}.p99`])}]`,
      },
      {
        name: `${bomb.name}: RSS growth per request`,
        value: `${fmt(memory.perRequestMaxMb, 1)} MB`,
        note: `(the largest of ${latency.count}) [goal < ${GOALS.rssGrowthMb} MB: ${mark(goals[`${key}.rss`])}]`,
      },
      {
        name: `${bomb.name}: RSS peak over all`,
        value: `${fmt(memory.peakGrowthMb, 1)} MB`,
        note: `(above ${fmt(memory.startMb, 0)} MB when the first was sent)`,
      },
    );
  }
  const ratio = underBombs.p50 / alone.p50;
  goals['ordinary.p50'] = ratio <= GOALS.ordinaryP50Ratio;
  // The ordinary queries grow the resident set by themselves, by tens of megabytes and by a
  // different amount each run: the difference is shown, with no goal.
  const bombsRssShareMb = mixedMemory.peakGrowthMb - aloneMemory.peakGrowthMb;
  figures.push(
    { name: 'ordinary query alone: p50', value: `${fmt(alone.p50, 2)} ms`, note: `(${alone.count} sequential requests)` },
    { name: 'ordinary query alone: p99', value: `${fmt(alone.p99, 2)} ms` },
    { name: 'ordinary query alone: RSS growth', value: `${fmt(aloneMemory.peakGrowthMb, 1)} MB` },
    {
      name: 'ordinary query under bombs: p50',
      value: `${fmt(underBombs.p50, 2)} ms`,
      note: `(${underBombs.count} requests, ${fmt(ratio, 2)}x alone) [goal <= ${GOALS.ordinaryP50Ratio}x: ${mark(goals['ordinary.p50'])}]`,
    },
    {
      name: 'ordinary query under bombs: p99',
      value: `${fmt(underBombs.p99, 2)} ms`,
      note: `(max ${fmt(underBombs.max, 2)} ms)`,
    },
    {
      name: 'bombs refused meanwhile',
      value: fmt(mixedBombs.count),
      note: `(${SENDERS} in parallel every ${WAVE_INTERVAL_MS} ms; p50 ${fmt(mixedBombs.p50, 2)} ms, p99 ${fmt(mixedBombs.p99, 2)} ms)`,
    },
    {
      name: 'RSS growth while bombs arrive',
      value: `${fmt(mixedMemory.peakGrowthMb, 1)} MB`,
      note: `(${fmt(bombsRssShareMb, 1)} MB more than the ordinary queries alone)`,
    },
    { name: 'JS heap retained over the run', value: `${fmt(retainedHeapMb, 1)} MB`, note: '(after a full collection at each end)' },
  );

  const record: Record<string, unknown> = {
    bench: 'abuse',
    ...environment(),
    command: COMMAND,
    settings: {
      bombs: BOMBS,
      senders: SENDERS,
      waveIntervalMs: WAVE_INTERVAL_MS,
      windowMs: WINDOW_MS,
      credentials: CREDENTIALS,
      providersPerCredential: PROVIDERS_PER_CREDENTIAL,
    },
    limits: config.operationLimits,
    bombs: Object.fromEntries(
      sequential.map(({ bomb, latency, memory }) => [
        bomb.limit === 'depth' ? 'nesting' : 'aliases',
        {
          refusedBy: bomb.limit,
          bodyBytes: Buffer.byteLength(bomb.body),
          latencyMs: { p50: round(latency.p50), p99: round(latency.p99), max: round(latency.max) },
          requests: latency.count,
          rssGrowthPerRequestMaxMb: round(memory.perRequestMaxMb, 1),
          rssPeakGrowthMb: round(memory.peakGrowthMb, 1),
        },
      ]),
    ),
    ordinary: {
      alone: {
        requests: alone.count,
        p50: round(alone.p50),
        p99: round(alone.p99),
        max: round(alone.max),
        rssGrowthMb: round(aloneMemory.peakGrowthMb, 1),
      },
      underBombs: { requests: underBombs.count, p50: round(underBombs.p50), p99: round(underBombs.p99), max: round(underBombs.max) },
      p50Ratio: round(ratio, 3),
    },
    mixed: {
      bombsRefused: mixedBombs.count,
      bombLatencyMs: { p50: round(mixedBombs.p50), p99: round(mixedBombs.p99) },
      rssGrowthMb: round(mixedMemory.peakGrowthMb, 1),
      bombsRssShareMb: round(bombsRssShareMb, 1),
    },
    retainedHeapMb: round(retainedHeapMb, 1),
    logLines,
    goals,
  };
  const file = appendResult('abuse', record);
  printFigures(
    `GraphQL abuse benchmark (commit ${String(record.commit)}, ${process.version}, ${String(record.cpus)} CPUs)`,
    figures,
    COMMAND,
  );
  process.stdout.write(`  appended to ${path.relative(process.cwd(), file)}\n\n`);

  expect(mixedBombs.count).toBeGreaterThan(0);
}, 120_000);
