// Benchmark of the admin API's requests, measured from outside the service as a user runs it: the
// compiled service (`node dist/src/main.js`, as `npm start` runs it) is a child process of its own,
// on the default configuration (the local key ring under DATA_DIR, PostgreSQL through DATABASE_URL,
// log level info, NODE_ENV unset), and this process is only the load client. Each request is
// measured against a floor in the same run: GraphQL createCredential, updateCredential (a
// rotation), credential(id:) and credentials(first: 100) against `{ __typename }` on the same
// listener with the same token; createCredential against a plain parameterized INSERT of the same
// row through pg; the REST create against the cheapest authenticated REST GET. Also the service's
// resident set (VmRSS and VmHWM from /proc) after start and after the load. A second service,
// configured with Cloud KMS (the fake KMS in this process) and STS (the fake STS), gives the cloud
// calls per create, rotation, read and validateAwsRole: counts, not rates. Figures are printed and
// appended to bench/results/api.jsonl; goals are reported, not asserted. The only assertions are
// that the setup worked and that every answer was a success (a 200, and for GraphQL an answer with
// data, no errors and what the operation returns).
// Run: npm run bench -- bench/api.bench.ts  (builds dist/ first; see bench/README.md)
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import { mintDevelopmentToken } from '../src/auth/token-minter';
import { type FakeKms, startFakeKms } from '../test/fakes/fake-kms-server';
import { type FakeSts, startFakeSts } from '../test/fakes/fake-sts-server';
import { kmsEnv } from '../test/support/cloud-fakes';
import { aCredentialInput } from '../test/support/factories';
import { closedPort } from '../test/support/loopback';
import { aProviderInput } from '../test/support/provider-client';
import { postGraphQL } from '../test/support/test-app';
import { createTestDatabase, type TestDatabase } from '../test/support/test-database';
import { useAwsIdentity, VALIDATE_AWS_ROLE } from '../test/support/validation-harness';
import { CREATE_CREDENTIAL, GET_CREDENTIAL, UPDATE_CREDENTIAL } from '../test/support/vault-client';
import { type LoadResult, loadSummary, type LoopSettings, runClosedLoop, runLoad, type Target } from './support/load';
import {
  type Memory,
  memoryOf,
  SERVICE_MAIN,
  staleFigures,
  staleOutputs,
  type StartedProcess,
  startUntilHealthy,
  type Stop,
  stopAndTime,
} from './support/process';
import { appendResult, environment, type Figure, fmt, goalNote, printFigures, reproduceCommand, round, setting } from './support/report';

const CONCURRENCY = setting('BENCH_CONCURRENCY', 32);
/** Length of each measured window, at 1 caller and at CONCURRENCY. */
const DURATION_MS = setting('BENCH_DURATION_MS', 4000);
/** Load before each scenario's windows (not measured): JIT, connection pools, caches. */
const WARMUP_MS = setting('BENCH_WARMUP_MS', 1000);
/** Credentials the listed organization holds, one provider each (at least 100: the page listed, and at least CONCURRENCY: one to rotate per caller). */
const LIST_CREDENTIALS = setting('BENCH_API_CREDENTIALS', 120);
/** The resident set is read again once this many requests have been answered. */
const RSS_REQUESTS = setting('BENCH_API_RSS_REQUESTS', 10_000);
/** Creates, rotations, reads and REST creates each sent to the service on Cloud KMS, for the calls per operation. */
const CLOUD_OPERATIONS = setting('BENCH_API_CLOUD_OPERATIONS', 200);
/** validateAwsRole calls, one at a time, for the STS calls per validation. */
const VALIDATIONS = setting('BENCH_API_VALIDATIONS', 100);
/** A hard bound on any one window's requests, whatever the machine. */
const MAX_REQUESTS_PER_WINDOW = 200_000;
const PAGE = 100;
/** A service that has not answered GET /healthz by then fails the benchmark. */
const START_TIMEOUT_MS = 60_000;
/** SHUTDOWN_GRACE_MS (10 s) plus the margin the service gives closing the database and the key service (5 s), and some. */
const STOP_TIMEOUT_MS = 30_000;
/** Lines of a service's output kept for an error message (all are counted). */
const KEEP_LINES = 200;

const BASE_COMMAND = 'npm run bench -- bench/api.bench.ts';
const COMMAND = reproduceCommand('BENCH_', BASE_COMMAND);

const JWT_SECRET = `bench-${randomBytes(24).toString('hex')}`;
const AWS_ROLE_ARN = 'arn:aws:iam::123456789012:role/bench-validate';
const AWS_REGION = 'us-east-1';
/** Names of this run's rows: unique across windows and scenarios. */
const RUN = randomBytes(3).toString('hex');
/** Seeding sends this many aliased mutations per request (the alias limit). */
const SEED_BATCH = 15;

const GOALS = { createRatio: 0.5, listP50Ms: 3 };

const TYPENAME = '{ __typename }';
const LIST = `query Credentials {
  credentials(first: ${PAGE}) {
    totalCount
    edges { cursor node { id name modelProvider authType keyLast4 secretVersion secretRotatedAt lastUsedAt providers { id } } }
    pageInfo { hasNextPage endCursor }
  }
}`;
/** The cheapest authenticated REST route: the principal is checked, nothing is read from the database. */
const REST_FLOOR_PATH = '/admin/connections/aws-role-config';

const live = new Set<StartedProcess>();
const databases = new Set<TestDatabase>();
const dataDirs = new Set<string>();
let kms: FakeKms | undefined;
let sts: FakeSts | undefined;
let rawPool: Pool | undefined;
let stale: string[] = [];

beforeAll(() => {
  // `npm run bench` builds first; run directly, the figures are of whatever dist/ holds.
  stale = staleOutputs();
});

afterAll(async () => {
  for (const started of live) if (started.child.exitCode === null && started.child.signalCode === null) started.child.kill('SIGKILL');
  await Promise.all([...live].map((started) => started.exited));
  await rawPool?.end();
  await sts?.close();
  await kms?.close();
  for (const database of databases) await database.drop();
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
}, 60_000);

/** A running service: the child process and where it answers. */
interface Service {
  started: StartedProcess;
  graphqlUrl: string;
  restBase: string;
}

/**
 * Starts `node dist/src/main.js` as `npm start` does (NODE_ENV unset, no tracing) on a free port,
 * with a fresh DATA_DIR, this run's JWT secret, log level info (its output is read and counted, as a
 * log collector would), no runtime listener, and `env` on top of `base`; resolves at the first 200
 * of GET /healthz.
 */
async function startService(env: Record<string, string>, base: NodeJS.ProcessEnv = process.env): Promise<Service> {
  const port = await closedPort();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vault-bench-api-'));
  dataDirs.add(dataDir);
  const childEnv: NodeJS.ProcessEnv = {
    ...base,
    OTEL_EXPORTER_OTLP_ENDPOINT: '',
    HOST: '127.0.0.1',
    PORT: String(port),
    RUNTIME_PORT: 'off',
    DATA_DIR: dataDir,
    JWT_SECRET,
    LOG_LEVEL: 'info',
    ...env,
  };
  // What the jest process carries (NODE_ENV=test) is not what `npm start` gives.
  delete childEnv.NODE_ENV;
  const restBase = `http://127.0.0.1:${port}`;
  const started = await startUntilHealthy({
    args: [SERVICE_MAIN],
    env: childEnv,
    healthzUrl: `${restBase}/healthz`,
    pollMs: 10,
    timeoutMs: START_TIMEOUT_MS,
    keepLines: KEEP_LINES,
  });
  live.add(started);
  return { started, graphqlUrl: `${restBase}/graphql`, restBase };
}

/** SIGTERM, timed until the exit; a stop that is not a clean exit 0 is printed with the service's last lines. */
async function stopService(service: Service, label: string): Promise<Stop> {
  const stop = await stopAndTime(service.started, STOP_TIMEOUT_MS);
  live.delete(service.started);
  if (stop.code !== 0) {
    process.stdout.write(`${label}: exit code ${stop.code}, signal ${stop.signal}:\n${service.started.lines.join('\n')}\n`);
  }
  return stop;
}

/** This process's environment with `caller` as the AWS identity the SDK's default chain finds there, as useAwsIdentity sets it. */
function withAwsIdentity(caller: { accessKeyId: string; secretAccessKey: string }): NodeJS.ProcessEnv {
  const restore = useAwsIdentity(caller);
  try {
    return { ...process.env };
  } finally {
    restore();
  }
}

type Data = Record<string, unknown>;

/** A GraphQL answer is a success when it carries data, no errors, and what `check` looks for. */
function graphqlSuccess(check: (data: Data) => boolean): (body: string) => boolean {
  return (body) => {
    const parsed = JSON.parse(body) as { data?: Data | null; errors?: unknown };
    return parsed.errors === undefined && parsed.data !== undefined && parsed.data !== null && check(parsed.data);
  };
}

function field<T>(data: Data, name: string): T | undefined {
  return data[name] as T | undefined;
}

/** Runs `mutation` once per input, SEED_BATCH aliased mutations a request; returns the created ids. */
async function seed(url: string, token: string, mutation: string, inputType: string, inputs: unknown[]): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < inputs.length; start += SEED_BATCH) {
    const chunk = inputs.slice(start, start + SEED_BATCH);
    const declarations = chunk.map((_, index) => `$i${index}: ${inputType}!`).join(', ');
    const fields = chunk.map((_, index) => `r${index}: ${mutation}(input: $i${index}) { id }`).join(' ');
    const variables = Object.fromEntries(chunk.map((input, index) => [`i${index}`, input]));
    const { body } = await postGraphQL<Record<string, { id: string }>>(url, `mutation Seed(${declarations}) { ${fields} }`, variables, {
      token,
    });
    if (!body.data || body.errors) throw new Error(`seeding failed: ${JSON.stringify(body.errors)}`);
    ids.push(...chunk.map((_, index) => body.data?.[`r${index}`].id ?? ''));
  }
  return ids;
}

/** `count` OpenAI API-key credentials named `<prefix>-<RUN>-<n>`: their ids. */
function seedApiKeys(service: Service, token: string, prefix: string, count: number): Promise<string[]> {
  const inputs = Array.from({ length: count }, (_, index) => aCredentialInput({ name: `${prefix}-${RUN}-${index}` }));
  return seed(service.graphqlUrl, token, 'createCredential', 'CreateCredentialInput', inputs);
}

/** The requests of one service, with the token they carry, as load targets and answer checks. */
function requestsFor(service: Service, token: string) {
  const graphql = (query: string, variables?: Record<string, unknown>): Target => ({
    url: service.graphqlUrl,
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(variables ? { query, variables } : { query }),
  });
  let created = 0;
  let restCreated = 0;
  return {
    graphql,
    /** createCredential of an OpenAI API key, a new name every time. */
    create: (): Target => {
      created += 1;
      const suffix = `${RUN}-${created}`;
      return graphql(CREATE_CREDENTIAL, {
        input: {
          name: `bench-create-${suffix}`,
          modelProvider: 'OPENAI',
          auth: { apiKey: { apiKey: `sk-bench-${suffix}-0123456789abcdef` } },
        },
      });
    },
    createOk: graphqlSuccess((data) => typeof field<{ id?: unknown }>(data, 'createCredential')?.id === 'string'),
    /** updateCredential with a new API key of `id`. */
    rotate: (id: string, sequence: number): Target =>
      graphql(UPDATE_CREDENTIAL, { id, input: { auth: { apiKey: { apiKey: `sk-bench-rotated-${RUN}-${sequence}` } } } }),
    rotateOk: graphqlSuccess((data) => (field<{ secretVersion?: number }>(data, 'updateCredential')?.secretVersion ?? 0) > 1),
    get: (id: string): Target => graphql(GET_CREDENTIAL, { id }),
    getOk: graphqlSuccess((data) => typeof field<{ id?: unknown }>(data, 'credential')?.id === 'string'),
    /** POST /admin/connections of an OpenAI api_key, a new name every time. */
    restCreate: (): Target => {
      restCreated += 1;
      const suffix = `${RUN}-${restCreated}`;
      return {
        url: `${service.restBase}/admin/connections`,
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          name: `bench-rest-${suffix}`,
          model_provider: 'openai',
          auth_type: 'api_key',
          api_key: `sk-bench-${suffix}-0123456789abcdef`,
        }),
      };
    },
    restCreateOk: (body: string) => typeof (JSON.parse(body) as { id?: unknown }).id === 'string',
  };
}

/** A reading of the service's memory, with the requests it had answered by then. */
interface MemoryReading extends Memory {
  requests: number;
}

function readMemory(service: Service, requests: number): MemoryReading {
  const memory = memoryOf(service.started.child.pid);
  if (!memory) throw new Error(`no /proc/${String(service.started.child.pid)}/status to read the service's memory from`);
  return { requests, ...memory };
}

/**
 * Not a goal: a failed answer would make every figure meaningless, so the first window with one
 * fails the run at once, naming what was answered.
 */
function succeeded(result: LoadResult): LoadResult {
  expect(result.firstFailure).toBeUndefined();
  expect(result.failures).toBe(0);
  return result;
}

const loopOf = (concurrency: number, durationMs: number): LoopSettings => ({
  concurrency,
  durationMs,
  maxRequests: MAX_REQUESTS_PER_WINDOW,
});
const ms = (value: number) => `${fmt(value, 2)} ms`;
const mb = (value: number) => `${fmt(value, 1)} MB`;
const rate = (result: LoadResult) => `${fmt(result.ratePerSecond)} req/s`;
const latencies = (name: string, result: LoadResult, note?: string): Figure[] => [
  { name: `${name} p50`, value: ms(result.latencyMs.p50), note },
  { name: `${name} p99`, value: ms(result.latencyMs.p99) },
];

/** The rates and latencies, on the default configuration: figures and the record's part. */
async function measureDefaultService(): Promise<{
  figures: Figure[];
  record: Record<string, unknown>;
  service: Record<string, unknown>;
  goals: Record<string, boolean>;
}> {
  const database = await createTestDatabase('bench_api');
  databases.add(database);
  // The default key service, the local key ring, even where the shell running the benchmark names a Cloud KMS key.
  const service = await startService({ DATABASE_URL: database.url, KMS_KEY_NAME: '', KMS_API_ENDPOINT: '' });
  const atStart = readMemory(service, 0);

  const orgId = randomUUID();
  const token = mintDevelopmentToken(JWT_SECRET, { orgId, roles: ['admin'], sub: 'bench-admin' });
  const requests = requestsFor(service, token);

  // Every answered request, for the resident set read once RSS_REQUESTS have been.
  let answered = 0;
  let afterRequests: MemoryReading | undefined;
  const counted = (result: LoadResult): LoadResult => {
    answered += result.requests;
    if (!afterRequests && answered >= RSS_REQUESTS) afterRequests = readMemory(service, answered);
    return result;
  };
  /** One closed-loop window of `next` at `concurrency` callers, every answer checked by `accept`. */
  const window = async (
    next: (sequence: number, caller: number) => Target,
    accept: (body: string) => boolean,
    durationMs: number,
    concurrency = CONCURRENCY,
  ): Promise<LoadResult> => succeeded(counted(await runLoad({ ...loopOf(concurrency, durationMs), next, accept })));

  // The listed organization: LIST_CREDENTIALS OpenAI API keys, one provider each.
  const credentialIds = await seedApiKeys(service, token, 'seed', LIST_CREDENTIALS);
  await seed(
    service.graphqlUrl,
    token,
    'createProvider',
    'CreateProviderInput',
    credentialIds.map((id, index) => aProviderInput(id, { name: `route-${RUN}-${index}` })),
  );
  answered += Math.ceil(LIST_CREDENTIALS / SEED_BATCH) * 2;

  // The floor: `{ __typename }`, same listener, same token, same client.
  const typename = requests.graphql(TYPENAME);
  const typenameOk = graphqlSuccess((data) => data.__typename === 'Query');
  await window(() => typename, typenameOk, WARMUP_MS);
  const floorAt1 = await window(() => typename, typenameOk, DURATION_MS, 1);
  const floorBefore = await window(() => typename, typenameOk, DURATION_MS);

  // The list: a page of 100 credentials, each with its providers.
  const listTarget = requests.graphql(LIST);
  const listOk = graphqlSuccess((data) => {
    const connection = field<{ totalCount: number; edges: { node: { providers: unknown[] } }[] }>(data, 'credentials');
    return connection?.edges.length === PAGE && connection.edges.every((edge) => edge.node.providers.length === 1);
  });
  await window(() => listTarget, listOk, WARMUP_MS);
  const listAt1 = await window(() => listTarget, listOk, DURATION_MS, 1);
  const listLoaded = await window(() => listTarget, listOk, DURATION_MS);

  // Get by id, round the seeded credentials.
  const getTargets = credentialIds.map((id) => requests.get(id));
  const getNext = (sequence: number) => getTargets[sequence % getTargets.length];
  await window(getNext, requests.getOk, WARMUP_MS);
  const getLoaded = await window(getNext, requests.getOk, DURATION_MS);

  // Rotation: updateCredential with a new API key; each caller rotates a credential of its own,
  // so no two rotations race for one row (a lost compare-and-set would retry and measure that).
  const rotateNext = (sequence: number, caller: number) => requests.rotate(credentialIds[caller], sequence);
  await window(rotateNext, requests.rotateOk, WARMUP_MS);
  const rotateLoaded = await window(rotateNext, requests.rotateOk, DURATION_MS);

  // createCredential: an OpenAI API key, a new name every time (the listed page is measured already).
  await window(requests.create, requests.createOk, WARMUP_MS);
  const createAt1 = await window(requests.create, requests.createOk, DURATION_MS, 1);
  const createLoaded = await window(requests.create, requests.createOk, DURATION_MS);

  // The raw floor of a create: one parameterized INSERT of the same row through pg, sealed columns
  // copied from a row the service sealed, into the same table of the same organization.
  const [template] = await database.query<{
    base_url: string;
    key_last4: string;
    secret_algorithm: string;
    secret_ciphertext: Buffer;
    secret_nonce: Buffer;
    secret_wrapped_key: Buffer;
    secret_key_id: string;
  }>(
    `SELECT base_url, key_last4, secret_algorithm, secret_ciphertext, secret_nonce, secret_wrapped_key, secret_key_id
       FROM credentials WHERE organization_id = $1 AND name LIKE 'bench-create-%' LIMIT 1`,
    [orgId],
  );
  expect(template).toBeDefined();
  // pg's default pool size, as the service's pool (src/db/database-deadlines.ts sets no max).
  const pool = (rawPool = new Pool({ connectionString: database.url }));
  const insertSql = `INSERT INTO credentials (id, organization_id, name, model_provider, auth_type, base_url, settings, auth_parameters,
      key_last4, stores_key_material, secret_version, created_by, updated_by, change_note,
      secret_algorithm, secret_ciphertext, secret_nonce, secret_wrapped_key, secret_key_id)
    VALUES ($1, $2, $3, 'openai', 'API_KEY', $4, '{}', '{}', $5, true, 1, 'bench-admin', 'bench-admin', NULL, $6, $7, $8, $9, $10)`;
  let inserted = 0;
  const insert = async () => {
    inserted += 1;
    await pool.query(insertSql, [
      randomUUID(),
      orgId,
      `bench-raw-${RUN}-${inserted}`,
      template.base_url,
      template.key_last4,
      template.secret_algorithm,
      template.secret_ciphertext,
      template.secret_nonce,
      template.secret_wrapped_key,
      template.secret_key_id,
    ]);
    return { ok: true, status: 'inserted' };
  };
  succeeded(await runClosedLoop(loopOf(CONCURRENCY, WARMUP_MS), insert));
  const raw = succeeded(await runClosedLoop(loopOf(CONCURRENCY, DURATION_MS), insert));
  const rawPoolSize = pool.options.max;
  await pool.end();
  rawPool = undefined;

  // REST: the create (POST /admin/connections) against the cheapest authenticated GET.
  const restFloorTarget: Target = {
    url: `${service.restBase}${REST_FLOOR_PATH}`,
    method: 'GET',
    headers: { authorization: `Bearer ${token}` },
  };
  const restFloorOk = (body: string) => typeof (JSON.parse(body) as { configured?: unknown }).configured === 'boolean';
  await window(() => restFloorTarget, restFloorOk, WARMUP_MS);
  const restFloor = await window(() => restFloorTarget, restFloorOk, DURATION_MS);
  await window(requests.restCreate, requests.restCreateOk, WARMUP_MS);
  const restCreate = await window(requests.restCreate, requests.restCreateOk, DURATION_MS);

  // The floor again, so that a machine that got busier (or quieter) meanwhile shows.
  const floorAfter = await window(() => typename, typenameOk, DURATION_MS);
  const atEnd = readMemory(service, answered);
  const logLines = service.started.written.stdout;
  const stop = await stopService(service, 'the service on the default configuration');

  // Figures.
  const floorRate = (floorBefore.ratePerSecond + floorAfter.ratePerSecond) / 2;
  const ratioToFloor = (result: LoadResult) => result.ratePerSecond / floorRate;
  const createRatio = ratioToFloor(createLoaded);
  const goals = { createRatio: createRatio >= GOALS.createRatio, listP50: listAt1.latencyMs.p50 <= GOALS.listP50Ms };
  const c = CONCURRENCY;
  const growth = (reading: Memory) => `${reading.rssMb >= atStart.rssMb ? '+' : ''}${fmt(reading.rssMb - atStart.rssMb, 1)} MB`;

  const figures: Figure[] = [
    {
      name: '{ __typename } rate @1',
      value: rate(floorAt1),
      note: `(floor: POST /graphql, same token; ${fmt(floorAt1.requests)} in ${fmt(floorAt1.elapsedMs / 1000, 1)} s)`,
    },
    ...latencies('{ __typename } @1', floorAt1),
    {
      name: `{ __typename } rate @${c}`,
      value: `${fmt(floorRate)} req/s`,
      note: `(mean of ${fmt(floorBefore.ratePerSecond)} before and ${fmt(floorAfter.ratePerSecond)} after the scenarios)`,
    },
    ...latencies(`{ __typename } @${c}`, floorBefore, '(before the scenarios; under load: includes queueing)'),
    {
      name: 'createCredential rate @1',
      value: rate(createAt1),
      note: `(ratio to { __typename } @1: ${fmt(createAt1.ratePerSecond / floorAt1.ratePerSecond, 3)})`,
    },
    ...latencies('createCredential @1', createAt1),
    {
      name: `createCredential rate @${c}`,
      value: rate(createLoaded),
      note: `(${fmt(createLoaded.requests)} in ${fmt(createLoaded.elapsedMs / 1000, 1)} s)`,
    },
    {
      name: `createCredential ratio to { __typename } @${c}`,
      value: fmt(createRatio, 3),
      note: goalNote(`>= ${GOALS.createRatio}`, goals.createRatio),
    },
    ...latencies(`createCredential @${c}`, createLoaded),
    {
      name: `raw INSERT rate @${c}`,
      value: rate(raw),
      note: `(pg.Pool of ${String(rawPoolSize)} connections from this process, one INSERT of the same row, sealed bytes included; no transaction, no audit event)`,
    },
    {
      name: `createCredential / raw INSERT @${c}`,
      value: fmt(createLoaded.ratePerSecond / raw.ratePerSecond, 3),
      note: '(reported, no goal)',
    },
    { name: `rotate (updateCredential auth) rate @${c}`, value: rate(rotateLoaded), note: '(each caller rotates a credential of its own)' },
    { name: `rotate ratio to { __typename } @${c}`, value: fmt(ratioToFloor(rotateLoaded), 3) },
    ...latencies(`rotate @${c}`, rotateLoaded),
    { name: `credential(id:) rate @${c}`, value: rate(getLoaded) },
    { name: `credential(id:) ratio to { __typename } @${c}`, value: fmt(ratioToFloor(getLoaded), 3) },
    ...latencies(`credential(id:) @${c}`, getLoaded),
    {
      name: `credentials(first: ${PAGE}) @1 p50`,
      value: ms(listAt1.latencyMs.p50),
      note: `(${PAGE} of ${LIST_CREDENTIALS} credentials, a provider each, with totalCount; ${fmt(listAt1.requests)} one at a time) ${goalNote(`<= ${GOALS.listP50Ms} ms`, goals.listP50)}`,
    },
    { name: `credentials(first: ${PAGE}) @1 p99`, value: ms(listAt1.latencyMs.p99) },
    { name: `credentials(first: ${PAGE}) rate @${c}`, value: rate(listLoaded) },
    { name: `credentials(first: ${PAGE}) ratio to { __typename } @${c}`, value: fmt(ratioToFloor(listLoaded), 3) },
    { name: `REST floor rate @${c}`, value: rate(restFloor), note: `(GET ${REST_FLOOR_PATH}: authenticated, no database read)` },
    { name: `REST create rate @${c}`, value: rate(restCreate), note: '(POST /admin/connections, an OpenAI api_key)' },
    { name: `REST create ratio to REST floor @${c}`, value: fmt(restCreate.ratePerSecond / restFloor.ratePerSecond, 3) },
    ...latencies(`REST create @${c}`, restCreate),
    {
      name: 'service RSS after start',
      value: mb(atStart.rssMb),
      note: `(VmRSS of node dist/src/main.js at its first /healthz 200, before any request; VmHWM ${mb(atStart.hwmMb)})`,
    },
  ];
  if (afterRequests) {
    figures.push({
      name: `service RSS after ${fmt(afterRequests.requests)} requests`,
      value: mb(afterRequests.rssMb),
      note: `(${growth(afterRequests)} since start; VmHWM ${mb(afterRequests.hwmMb)}; the first window's end past ${fmt(RSS_REQUESTS)})`,
    });
  }
  figures.push({
    name: `service RSS after ${fmt(atEnd.requests)} requests`,
    value: mb(atEnd.rssMb),
    note: `(${growth(atEnd)} since start; VmHWM ${mb(atEnd.hwmMb)}; the end of the run, ${fmt(logLines)} log lines written)`,
  });

  const memoryRecord = (reading: MemoryReading) => ({
    requests: reading.requests,
    rssMb: round(reading.rssMb, 1),
    hwmMb: round(reading.hwmMb, 1),
  });
  const record = {
    floor: {
      at1: loadSummary(floorAt1),
      ratePerSecond: round(floorRate, 1),
      before: loadSummary(floorBefore),
      after: loadSummary(floorAfter),
    },
    create: {
      at1: loadSummary(createAt1),
      loaded: loadSummary(createLoaded),
      ratioToFloor: round(createRatio, 4),
      ratioToRawInsert: round(createLoaded.ratePerSecond / raw.ratePerSecond, 4),
    },
    rawInsert: { loaded: loadSummary(raw), poolSize: rawPoolSize },
    rotate: { loaded: loadSummary(rotateLoaded), ratioToFloor: round(ratioToFloor(rotateLoaded), 4) },
    get: { loaded: loadSummary(getLoaded), ratioToFloor: round(ratioToFloor(getLoaded), 4) },
    list: {
      page: PAGE,
      credentials: LIST_CREDENTIALS,
      at1: loadSummary(listAt1),
      loaded: loadSummary(listLoaded),
      ratioToFloor: round(ratioToFloor(listLoaded), 4),
    },
    rest: {
      floorPath: REST_FLOOR_PATH,
      floor: loadSummary(restFloor),
      create: loadSummary(restCreate),
      ratioToFloor: round(restCreate.ratePerSecond / restFloor.ratePerSecond, 4),
    },
  };
  const serviceRecord = {
    startMs: round(service.started.startMs, 1),
    memory: {
      start: memoryRecord(atStart),
      afterRequests: afterRequests ? memoryRecord(afterRequests) : null,
      end: memoryRecord(atEnd),
    },
    logLines,
    stop: { elapsedMs: round(stop.elapsedMs, 1), code: stop.code, signal: stop.signal },
  };
  return { figures, record, service: serviceRecord, goals };
}

/** Calls the fake KMS and STS received during one run of operations. */
interface CloudCount {
  result: LoadResult;
  encrypt: number;
  decrypt: number;
  sts: number;
}

/** The Cloud KMS and STS calls per operation, on a second service configured with both: figures and the record's part. */
async function countCloudCalls(): Promise<{ figures: Figure[]; record: Record<string, unknown> }> {
  const database = await createTestDatabase('bench_api_cloud');
  databases.add(database);
  const fakeKms = (kms = await startFakeKms());
  const fakeSts = (sts = await startFakeSts({ region: AWS_REGION }));
  const service = await startService(
    {
      DATABASE_URL: database.url,
      ...kmsEnv(fakeKms),
      AWS_STS_ENDPOINT: fakeSts.endpoint,
      AWS_REGION,
      // The fake STS listens on loopback.
      OUTBOUND_ALLOW_PRIVATE: 'true',
    },
    // The service signs AssumeRole with its own AWS identity, which the SDK reads from its environment.
    withAwsIdentity(fakeSts.caller),
  );
  const orgId = randomUUID();
  const token = mintDevelopmentToken(JWT_SECRET, { orgId, roles: ['admin'], sub: 'bench-admin' });
  const requests = requestsFor(service, token);

  // One credential per caller to rotate, and a role the fake STS knows to validate.
  const credentialIds = await seedApiKeys(service, token, 'cloud', CONCURRENCY);
  const externalId = `ext-${randomBytes(8).toString('hex')}`;
  fakeSts.addRole({ arn: AWS_ROLE_ARN, externalId });
  const [roleId] = await seed(service.graphqlUrl, token, 'createCredential', 'CreateCredentialInput', [
    { name: `role-${RUN}`, modelProvider: 'BEDROCK', auth: { awsRole: { iamRoleArn: AWS_ROLE_ARN, externalId } } },
  ]);

  const stsCalls = () => Object.values(fakeSts.calls).reduce((sum, count) => sum + count, 0);
  /** `operations` requests of `next` at `concurrency` callers, and the calls the fakes received meanwhile. */
  const count = async (
    operations: number,
    next: (sequence: number, caller: number) => Target,
    accept: (body: string) => boolean,
    concurrency = CONCURRENCY,
  ): Promise<CloudCount> => {
    const before = { encrypt: fakeKms.calls.encrypt, decrypt: fakeKms.calls.decrypt, sts: stsCalls() };
    const result = succeeded(await runLoad({ concurrency, durationMs: 120_000, maxRequests: operations, next, accept }));
    expect(result.requests).toBe(operations);
    return {
      result,
      encrypt: fakeKms.calls.encrypt - before.encrypt,
      decrypt: fakeKms.calls.decrypt - before.decrypt,
      sts: stsCalls() - before.sts,
    };
  };
  const creates = await count(CLOUD_OPERATIONS, requests.create, requests.createOk);
  const rotates = await count(CLOUD_OPERATIONS, (sequence, caller) => requests.rotate(credentialIds[caller], sequence), requests.rotateOk);
  const gets = await count(CLOUD_OPERATIONS, (sequence) => requests.get(credentialIds[sequence % credentialIds.length]), requests.getOk);
  const restCreates = await count(CLOUD_OPERATIONS, requests.restCreate, requests.restCreateOk);
  // validateAwsRole of the stored role, one at a time: AssumeRole with the external id, then the probe without.
  const validate = requests.graphql(VALIDATE_AWS_ROLE, { input: { credentialId: roleId } });
  const validateOk = graphqlSuccess((data) => field<{ ok?: boolean }>(data, 'validateAwsRole')?.ok === true);
  const validations = await count(VALIDATIONS, () => validate, validateOk, 1);
  const stop = await stopService(service, 'the service on Cloud KMS');

  const per = (calls: number, operations: number, scale: number) => (calls / operations) * scale;
  const kmsFigure = (name: string, counted: CloudCount): Figure => ({
    name: `KMS Encrypt / Decrypt per 1,000 ${name}`,
    value: `${fmt(per(counted.encrypt, counted.result.requests, 1000), 1)} / ${fmt(per(counted.decrypt, counted.result.requests, 1000), 1)}`,
    note: `(${fmt(counted.encrypt)} Encrypt, ${fmt(counted.decrypt)} Decrypt in ${fmt(counted.result.requests)} ${name} at ${CONCURRENCY} callers, on the service with Cloud KMS)`,
  });
  const figures: Figure[] = [
    kmsFigure('creates', creates),
    kmsFigure('rotates', rotates),
    kmsFigure('gets', gets),
    kmsFigure('REST creates', restCreates),
    {
      name: 'STS calls per 100 validateAwsRole',
      value: fmt(per(validations.sts, validations.result.requests, 100), 1),
      note: `(${fmt(validations.sts)} in ${fmt(validations.result.requests)}, one at a time: p50 ${ms(validations.result.latencyMs.p50)}; KMS Decrypt ${fmt(validations.decrypt)})`,
    },
  ];
  const callsRecord = (counted: CloudCount) => ({
    operations: counted.result.requests,
    kmsEncrypt: counted.encrypt,
    kmsDecrypt: counted.decrypt,
    stsCalls: counted.sts,
    kmsEncryptPer1000: round(per(counted.encrypt, counted.result.requests, 1000), 3),
    kmsDecryptPer1000: round(per(counted.decrypt, counted.result.requests, 1000), 3),
  });
  const record = {
    concurrency: CONCURRENCY,
    create: callsRecord(creates),
    rotate: callsRecord(rotates),
    get: callsRecord(gets),
    restCreate: callsRecord(restCreates),
    validateAwsRole: {
      sequential: loadSummary(validations.result),
      ...callsRecord(validations),
      stsPer100: round(per(validations.sts, validations.result.requests, 100), 3),
    },
    service: {
      startMs: round(service.started.startMs, 1),
      logLines: service.started.written.stdout,
      stop: { elapsedMs: round(stop.elapsedMs, 1), code: stop.code, signal: stop.signal },
    },
  };
  return { figures, record };
}

test('GraphQL and REST requests (create, rotate, get, list, validate) against their floors, on the compiled service', async () => {
  expect(LIST_CREDENTIALS).toBeGreaterThanOrEqual(Math.max(PAGE, CONCURRENCY));
  const measured = await measureDefaultService();
  const cloud = await countCloudCalls();

  const figures = [...measured.figures, ...cloud.figures, ...staleFigures(stale)];
  const record: Record<string, unknown> = {
    bench: 'api',
    ...environment(),
    command: COMMAND,
    distCurrent: stale.length === 0,
    // What the service ran with: `npm start`'s environment, PostgreSQL, the local key ring (Cloud KMS only for `cloud`).
    service: {
      main: path.relative(process.cwd(), SERVICE_MAIN),
      nodeEnv: null,
      logLevel: 'info',
      runtimeListener: false,
      keyService: 'local key ring',
      ...measured.service,
    },
    settings: {
      concurrency: CONCURRENCY,
      durationMs: DURATION_MS,
      warmupMs: WARMUP_MS,
      credentials: LIST_CREDENTIALS,
      rssRequests: RSS_REQUESTS,
      cloudOperations: CLOUD_OPERATIONS,
      validations: VALIDATIONS,
    },
    ...measured.record,
    cloud: cloud.record,
    goals: measured.goals,
  };
  const file = appendResult('api', record);
  printFigures(
    `API benchmark: node dist/src/main.js, NODE_ENV unset, PostgreSQL, local key ring (commit ${String(record.commit)}, ${process.version}, ${String(record.cpus)} CPUs)`,
    figures,
    COMMAND,
  );
  process.stdout.write(`  appended to ${path.relative(process.cwd(), file)}\n\n`);
}, 240_000);
