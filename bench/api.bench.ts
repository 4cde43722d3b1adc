// Benchmark of the admin API's requests, each against a floor measured in the same run: GraphQL
// createCredential, updateCredential (a rotation), credential(id:) and credentials(first: 100)
// against `{ __typename }` on the same listener with the same token; createCredential against a
// plain parameterized INSERT of the same row through pg; the REST create against the cheapest
// authenticated REST GET. Also the resident set before and after the load, the Cloud KMS calls per
// create, rotation and read (the fake KMS counts them) and the STS calls per validateAwsRole (the
// fake STS counts them). The real application runs in this process (loadConfig + startApplication)
// over a PostgreSQL database of its own. Figures are printed and appended to bench/results/api.jsonl;
// goals are reported, not asserted. The only assertions are that the setup worked and that every
// answer was a success (a 200, and for GraphQL an answer with data and no errors).
// Run: npx jest -c bench/jest.config.js --runInBand bench/api.bench.ts  (see bench/README.md)
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Pool } from 'pg';
import { type Application, startApplication } from '../src/application';
import { mintDevelopmentToken } from '../src/auth/token-minter';
import { type Config, loadConfig } from '../src/config/config';
import { type FakeKms, startFakeKms } from '../test/fakes/fake-kms-server';
import { type FakeSts, startFakeSts } from '../test/fakes/fake-sts-server';
import { aCredentialInput } from '../test/support/factories';
import { aProviderInput } from '../test/support/provider-client';
import { postGraphQL } from '../test/support/test-app';
import { createTestDatabase, type TestDatabase } from '../test/support/test-database';
import { useAwsIdentity, VALIDATE_AWS_ROLE } from '../test/support/validation-harness';
import { CREATE_CREDENTIAL, GET_CREDENTIAL, UPDATE_CREDENTIAL } from '../test/support/vault-client';
import { type LoadResult, loadSummary, type LoopSettings, runClosedLoop, runLoad, type Target } from './support/load';
import { residentSetMb } from './support/memory';
import { appendResult, environment, type Figure, fmt, goalNote, printFigures, reproduceCommand, round, setting } from './support/report';

const CONCURRENCY = setting('BENCH_CONCURRENCY', 32);
/** Length of each measured window, at 1 caller and at CONCURRENCY. */
const DURATION_MS = setting('BENCH_DURATION_MS', 4000);
/** Load before each scenario's windows (not measured): JIT, connection pools, caches. */
const WARMUP_MS = setting('BENCH_WARMUP_MS', 1000);
/** Credentials the listed organization holds, one provider each (at least 100: the page listed, and at least CONCURRENCY: one to rotate per caller). */
const LIST_CREDENTIALS = setting('BENCH_API_CREDENTIALS', 120);
/** validateAwsRole calls, one at a time, for the STS calls per validation. */
const VALIDATIONS = setting('BENCH_API_VALIDATIONS', 100);
/** The resident set is read again once this many requests have been answered. */
const RSS_REQUESTS = setting('BENCH_API_RSS_REQUESTS', 10_000);
/** A hard bound on any one window's requests, whatever the machine. */
const MAX_REQUESTS_PER_WINDOW = 200_000;
const PAGE = 100;

const BASE_COMMAND = 'npx jest -c bench/jest.config.js --runInBand bench/api.bench.ts';
const COMMAND = reproduceCommand('BENCH_', BASE_COMMAND);

const JWT_SECRET = `bench-${randomBytes(24).toString('hex')}`;
const AWS_ROLE_ARN = 'arn:aws:iam::123456789012:role/bench-validate';
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

let database: TestDatabase;
let kms: FakeKms;
let sts: FakeSts;
let restoreAwsEnv: (() => void) | undefined;
let dataDir: string;
let config: Config;
let app: Application;
let rawPool: Pool | undefined;
/** Log lines the application wrote (kept as a count only: the bench measures serialisation, not a disk). */
let logLines = 0;
/** The resident set once the application has started, before any request. */
let rssAtStart: { mb: number; collected: boolean };

beforeAll(async () => {
  database = await createTestDatabase('bench_api');
  kms = await startFakeKms();
  sts = await startFakeSts();
  // AssumeRole is signed with this process's AWS identity, read by the SDK's default chain.
  restoreAwsEnv = useAwsIdentity(sts.caller);
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'vault-bench-api-'));
  config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    RUNTIME_PORT: 'off',
    DATA_DIR: dataDir,
    DATABASE_URL: database.url,
    JWT_SECRET,
    // Production's level: every request's line and every write's audit line are logged.
    LOG_LEVEL: 'info',
    KMS_KEY_NAME: kms.keyName,
    KMS_API_ENDPOINT: kms.endpoint,
    AWS_STS_ENDPOINT: sts.endpoint,
    AWS_REGION: 'us-east-1',
    OUTBOUND_ALLOW_PRIVATE: 'true',
  });
  const logDestination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const byte of chunk) if (byte === 0x0a) logLines += 1;
      callback();
    },
  });
  app = await startApplication(config, { logDestination });
  rssAtStart = residentSetMb();
}, 60_000);

afterAll(async () => {
  await rawPool?.end();
  await app?.close();
  await sts?.close();
  await kms?.close();
  restoreAwsEnv?.();
  await database?.drop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

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
async function seed(token: string, mutation: string, inputType: string, inputs: unknown[]): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < inputs.length; start += SEED_BATCH) {
    const chunk = inputs.slice(start, start + SEED_BATCH);
    const declarations = chunk.map((_, index) => `$i${index}: ${inputType}!`).join(', ');
    const fields = chunk.map((_, index) => `r${index}: ${mutation}(input: $i${index}) { id }`).join(' ');
    const variables = Object.fromEntries(chunk.map((input, index) => [`i${index}`, input]));
    const { body } = await postGraphQL<Record<string, { id: string }>>(app.url, `mutation Seed(${declarations}) { ${fields} }`, variables, {
      token,
    });
    if (!body.data || body.errors) throw new Error(`seeding failed: ${JSON.stringify(body.errors)}`);
    ids.push(...chunk.map((_, index) => body.data?.[`r${index}`].id ?? ''));
  }
  return ids;
}

interface Scenario {
  /** Its results, by window name. */
  windows: Record<string, LoadResult>;
  /** Requests made in all (warm-ups included), for the per-operation call counts. */
  operations: number;
  kmsEncrypt: number;
  kmsDecrypt: number;
  sts: number;
}

function stsCalls(): number {
  return Object.values(sts.calls).reduce((sum, count) => sum + count, 0);
}

test('GraphQL and REST requests (create, rotate, get, list, validate) against their floors', async () => {
  expect(LIST_CREDENTIALS).toBeGreaterThanOrEqual(Math.max(PAGE, CONCURRENCY));
  const orgId = randomUUID();
  const token = mintDevelopmentToken(JWT_SECRET, { orgId, roles: ['admin'], sub: 'bench-admin' });
  const restBase = app.url.replace(/\/graphql$/, '');
  const graphql = (query: string, variables?: Record<string, unknown>): Target => ({
    url: app.url,
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(variables ? { query, variables } : { query }),
  });

  // Every answered request, for the resident set read once RSS_REQUESTS have been.
  let answered = 0;
  let rssAfterRequests: { requests: number; mb: number; collected: boolean } | undefined;
  const counted = (result: LoadResult): LoadResult => {
    answered += result.requests;
    if (!rssAfterRequests && answered >= RSS_REQUESTS) rssAfterRequests = { requests: answered, ...residentSetMb() };
    return result;
  };
  const loopOf = (concurrency: number, durationMs: number): LoopSettings => ({
    concurrency,
    durationMs,
    maxRequests: MAX_REQUESTS_PER_WINDOW,
  });
  /** One closed-loop window of `next` at `concurrency` callers, every answer checked by `accept`. */
  const window = async (
    next: (sequence: number, caller: number) => Target,
    accept: (body: string) => boolean,
    durationMs: number,
    concurrency = CONCURRENCY,
  ): Promise<LoadResult> => succeeded(counted(await runLoad({ ...loopOf(concurrency, durationMs), next, accept })));
  /** Runs `body` and counts the requests it made and the calls the fakes received meanwhile. */
  const scenario = async (body: (windows: Record<string, LoadResult>) => Promise<void>): Promise<Scenario> => {
    const before = { encrypt: kms.calls.encrypt, decrypt: kms.calls.decrypt, sts: stsCalls() };
    const windows: Record<string, LoadResult> = {};
    await body(windows);
    return {
      windows,
      operations: Object.values(windows).reduce((sum, result) => sum + result.requests, 0),
      kmsEncrypt: kms.calls.encrypt - before.encrypt,
      kmsDecrypt: kms.calls.decrypt - before.decrypt,
      sts: stsCalls() - before.sts,
    };
  };

  // The listed organization: LIST_CREDENTIALS OpenAI API keys, one provider each, and an AWS role to validate.
  const credentialIds = await seed(
    token,
    'createCredential',
    'CreateCredentialInput',
    Array.from({ length: LIST_CREDENTIALS }, (_, index) => aCredentialInput({ name: `seed-${RUN}-${index}` })),
  );
  await seed(
    token,
    'createProvider',
    'CreateProviderInput',
    credentialIds.map((id, index) => aProviderInput(id, { name: `route-${RUN}-${index}` })),
  );
  const externalId = `ext-${randomBytes(8).toString('hex')}`;
  sts.addRole({ arn: AWS_ROLE_ARN, externalId });
  const [roleId] = await seed(token, 'createCredential', 'CreateCredentialInput', [
    { name: `role-${RUN}`, modelProvider: 'BEDROCK', auth: { awsRole: { iamRoleArn: AWS_ROLE_ARN, externalId } } },
  ]);
  answered += Math.ceil(LIST_CREDENTIALS / SEED_BATCH) * 2 + 1;

  // The floor: `{ __typename }`, same listener, same token, same client.
  const typename = graphql(TYPENAME);
  const typenameOk = graphqlSuccess((data) => data.__typename === 'Query');
  const floor = await scenario(async (w) => {
    w.warmup = await window(() => typename, typenameOk, WARMUP_MS);
    w.at1 = await window(() => typename, typenameOk, DURATION_MS, 1);
    w.before = await window(() => typename, typenameOk, DURATION_MS);
  });

  // The list: a page of 100 credentials, each with its providers.
  const listTarget = graphql(LIST);
  const listOk = graphqlSuccess((data) => {
    const connection = field<{ totalCount: number; edges: { node: { providers: unknown[] } }[] }>(data, 'credentials');
    return connection?.edges.length === PAGE && connection.edges.every((edge) => edge.node.providers.length === 1);
  });
  const list = await scenario(async (w) => {
    w.warmup = await window(() => listTarget, listOk, WARMUP_MS);
    w.at1 = await window(() => listTarget, listOk, DURATION_MS, 1);
    w.loaded = await window(() => listTarget, listOk, DURATION_MS);
  });

  // Get by id, round the seeded credentials.
  const getTargets = credentialIds.map((id) => graphql(GET_CREDENTIAL, { id }));
  const getOk = graphqlSuccess((data) => typeof field<{ id?: unknown }>(data, 'credential')?.id === 'string');
  const get = await scenario(async (w) => {
    w.warmup = await window((sequence) => getTargets[sequence % getTargets.length], getOk, WARMUP_MS);
    w.loaded = await window((sequence) => getTargets[sequence % getTargets.length], getOk, DURATION_MS);
  });

  // Rotation: updateCredential with a new API key; each caller rotates a credential of its own,
  // so no two rotations race for one row (a lost compare-and-set would retry and measure that).
  const rotateOf = (sequence: number, caller: number): Target =>
    graphql(UPDATE_CREDENTIAL, {
      id: credentialIds[caller],
      input: { auth: { apiKey: { apiKey: `sk-bench-rotated-${RUN}-${sequence}` } } },
    });
  const rotateOk = graphqlSuccess((data) => (field<{ secretVersion?: number }>(data, 'updateCredential')?.secretVersion ?? 0) > 1);
  const rotate = await scenario(async (w) => {
    w.warmup = await window(rotateOf, rotateOk, WARMUP_MS);
    w.loaded = await window(rotateOf, rotateOk, DURATION_MS);
  });

  // validateAwsRole of the stored role, one at a time: AssumeRole with the external id, then the probe without.
  const validate = graphql(VALIDATE_AWS_ROLE, { input: { credentialId: roleId } });
  const validateOk = graphqlSuccess((data) => field<{ ok?: boolean }>(data, 'validateAwsRole')?.ok === true);
  const validations = await scenario(async (w) => {
    w.sequential = succeeded(
      counted(await runLoad({ concurrency: 1, durationMs: 60_000, maxRequests: VALIDATIONS, next: () => validate, accept: validateOk })),
    );
  });

  // createCredential: an OpenAI API key, a new name every time (the listed page is measured already).
  let created = 0;
  const createOf = (): Target => {
    created += 1;
    const suffix = `${RUN}-${created}`;
    return graphql(CREATE_CREDENTIAL, {
      input: {
        name: `bench-create-${suffix}`,
        modelProvider: 'OPENAI',
        auth: { apiKey: { apiKey: `sk-bench-${suffix}-0123456789abcdef` } },
      },
    });
  };
  const createOk = graphqlSuccess((data) => typeof field<{ id?: unknown }>(data, 'createCredential')?.id === 'string');
  const create = await scenario(async (w) => {
    w.warmup = await window(createOf, createOk, WARMUP_MS);
    w.at1 = await window(createOf, createOk, DURATION_MS, 1);
    w.loaded = await window(createOf, createOk, DURATION_MS);
  });

  // The raw floor of a create: one parameterized INSERT of the same row through pg, sealed columns
  // copied from a row the application sealed, into the same table of the same organization.
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
  // pg's default pool size, as the application's pool (src/db/database-deadlines.ts sets no max).
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

  // REST: the create (POST /admin/connections) against the cheapest authenticated GET.
  const restFloorTarget: Target = { url: `${restBase}${REST_FLOOR_PATH}`, method: 'GET', headers: { authorization: `Bearer ${token}` } };
  const restFloorOk = (body: string) => typeof (JSON.parse(body) as { configured?: unknown }).configured === 'boolean';
  let restCreated = 0;
  const restCreateOf = (): Target => {
    restCreated += 1;
    const suffix = `${RUN}-${restCreated}`;
    return {
      url: `${restBase}/admin/connections`,
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: `bench-rest-${suffix}`,
        model_provider: 'openai',
        auth_type: 'api_key',
        api_key: `sk-bench-${suffix}-0123456789abcdef`,
      }),
    };
  };
  const restCreateOk = (body: string) => typeof (JSON.parse(body) as { id?: unknown }).id === 'string';
  const restFloor = await scenario(async (w) => {
    w.warmup = await window(() => restFloorTarget, restFloorOk, WARMUP_MS);
    w.loaded = await window(() => restFloorTarget, restFloorOk, DURATION_MS);
  });
  const restCreate = await scenario(async (w) => {
    w.warmup = await window(restCreateOf, restCreateOk, WARMUP_MS);
    w.loaded = await window(restCreateOf, restCreateOk, DURATION_MS);
  });

  // The floor again, so that a machine that got busier (or quieter) meanwhile shows.
  const typenameAfter = await window(() => typename, typenameOk, DURATION_MS);
  const rssAtEnd = { requests: answered, ...residentSetMb() };

  // Figures.
  const floorAt1 = floor.windows.at1;
  const floorRate = (floor.windows.before.ratePerSecond + typenameAfter.ratePerSecond) / 2;
  const ratioToFloor = (result: LoadResult) => result.ratePerSecond / floorRate;
  const createRatio = ratioToFloor(create.windows.loaded);
  const listAt1 = list.windows.at1;
  const goals = {
    createRatio: createRatio >= GOALS.createRatio,
    listP50: listAt1.latencyMs.p50 <= GOALS.listP50Ms,
  };
  const per1000 = (count: number, operations: number) => (count / operations) * 1000;
  const ms = (value: number) => `${fmt(value, 2)} ms`;
  const rate = (result: LoadResult) => `${fmt(result.ratePerSecond)} req/s`;
  const latencies = (name: string, result: LoadResult, note?: string): Figure[] => [
    { name: `${name} p50`, value: ms(result.latencyMs.p50), note },
    { name: `${name} p99`, value: ms(result.latencyMs.p99) },
  ];
  const c = CONCURRENCY;
  const rssGrowth = (reading: { mb: number }) => `${reading.mb >= rssAtStart.mb ? '+' : ''}${fmt(reading.mb - rssAtStart.mb, 1)} MB`;
  const rssNote = (reading: { collected: boolean }) =>
    `the jest process: application, load client, fakes and compiled sources${reading.collected ? ', after a full collection' : ''}`;
  const kmsFigure = (name: string, s: Scenario): Figure => ({
    name: `KMS Encrypt / Decrypt per 1,000 ${name}`,
    value: `${fmt(per1000(s.kmsEncrypt, s.operations), 1)} / ${fmt(per1000(s.kmsDecrypt, s.operations), 1)}`,
    note: `(${fmt(s.kmsEncrypt)} Encrypt, ${fmt(s.kmsDecrypt)} Decrypt in ${fmt(s.operations)} ${name}, warm-ups included)`,
  });

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
      note: `(mean of ${fmt(floor.windows.before.ratePerSecond)} before and ${fmt(typenameAfter.ratePerSecond)} after the scenarios)`,
    },
    ...latencies(`{ __typename } @${c}`, floor.windows.before, '(before the scenarios; under load: includes queueing)'),
    {
      name: 'createCredential rate @1',
      value: rate(create.windows.at1),
      note: `(ratio to { __typename } @1: ${fmt(create.windows.at1.ratePerSecond / floorAt1.ratePerSecond, 3)})`,
    },
    ...latencies('createCredential @1', create.windows.at1),
    {
      name: `createCredential rate @${c}`,
      value: rate(create.windows.loaded),
      note: `(${fmt(create.windows.loaded.requests)} in ${fmt(create.windows.loaded.elapsedMs / 1000, 1)} s)`,
    },
    {
      name: `createCredential ratio to { __typename } @${c}`,
      value: fmt(createRatio, 3),
      note: goalNote(`>= ${GOALS.createRatio}`, goals.createRatio),
    },
    ...latencies(`createCredential @${c}`, create.windows.loaded),
    {
      name: `raw INSERT rate @${c}`,
      value: rate(raw),
      note: `(pg.Pool of ${String(rawPoolSize)} connections, one INSERT of the same row, sealed bytes included; no transaction, no audit event)`,
    },
    {
      name: `createCredential / raw INSERT @${c}`,
      value: fmt(create.windows.loaded.ratePerSecond / raw.ratePerSecond, 3),
      note: '(reported, no goal)',
    },
    {
      name: `rotate (updateCredential auth) rate @${c}`,
      value: rate(rotate.windows.loaded),
      note: '(each caller rotates a credential of its own)',
    },
    { name: `rotate ratio to { __typename } @${c}`, value: fmt(ratioToFloor(rotate.windows.loaded), 3) },
    ...latencies(`rotate @${c}`, rotate.windows.loaded),
    { name: `credential(id:) rate @${c}`, value: rate(get.windows.loaded) },
    { name: `credential(id:) ratio to { __typename } @${c}`, value: fmt(ratioToFloor(get.windows.loaded), 3) },
    ...latencies(`credential(id:) @${c}`, get.windows.loaded),
    {
      name: `credentials(first: ${PAGE}) @1 p50`,
      value: ms(listAt1.latencyMs.p50),
      note: `(${PAGE} of ${LIST_CREDENTIALS + 1} credentials, a provider each, with totalCount; ${fmt(listAt1.requests)} one at a time) ${goalNote(`<= ${GOALS.listP50Ms} ms`, goals.listP50)}`,
    },
    { name: `credentials(first: ${PAGE}) @1 p99`, value: ms(listAt1.latencyMs.p99) },
    { name: `credentials(first: ${PAGE}) rate @${c}`, value: rate(list.windows.loaded) },
    { name: `credentials(first: ${PAGE}) ratio to { __typename } @${c}`, value: fmt(ratioToFloor(list.windows.loaded), 3) },
    {
      name: `REST floor rate @${c}`,
      value: rate(restFloor.windows.loaded),
      note: `(GET ${REST_FLOOR_PATH}: authenticated, no database read)`,
    },
    { name: `REST create rate @${c}`, value: rate(restCreate.windows.loaded), note: '(POST /admin/connections, an OpenAI api_key)' },
    {
      name: `REST create ratio to REST floor @${c}`,
      value: fmt(restCreate.windows.loaded.ratePerSecond / restFloor.windows.loaded.ratePerSecond, 3),
    },
    ...latencies(`REST create @${c}`, restCreate.windows.loaded),
    { name: 'RSS after start', value: `${fmt(rssAtStart.mb, 1)} MB`, note: `(before any request; ${rssNote(rssAtStart)})` },
  ];
  if (rssAfterRequests) {
    figures.push(
      {
        name: `RSS after ${fmt(rssAfterRequests.requests)} requests`,
        value: `${fmt(rssAfterRequests.mb, 1)} MB`,
        note: `(read at the first window's end past ${fmt(RSS_REQUESTS)} requests)`,
      },
      { name: `RSS growth over those ${fmt(rssAfterRequests.requests)}`, value: rssGrowth(rssAfterRequests) },
    );
  }
  figures.push(
    {
      name: `RSS after ${fmt(rssAtEnd.requests)} requests`,
      value: `${fmt(rssAtEnd.mb, 1)} MB`,
      note: `(${rssGrowth(rssAtEnd)} since start; the end of the run)`,
    },
    kmsFigure('creates', create),
    kmsFigure('rotates', rotate),
    kmsFigure('gets', get),
    kmsFigure('REST creates', restCreate),
    {
      name: `STS calls per 100 validateAwsRole`,
      value: fmt((validations.sts / validations.operations) * 100, 1),
      note: `(${fmt(validations.sts)} in ${fmt(validations.operations)}, one at a time: p50 ${ms(validations.windows.sequential.latencyMs.p50)}; KMS Decrypt ${fmt(validations.kmsDecrypt)})`,
    },
  );

  const record: Record<string, unknown> = {
    bench: 'api',
    ...environment(),
    command: COMMAND,
    // What the libraries see (graphql-js checks more outside production); the application's own config never reads it here.
    nodeEnv: process.env.NODE_ENV ?? null,
    settings: {
      concurrency: CONCURRENCY,
      durationMs: DURATION_MS,
      warmupMs: WARMUP_MS,
      credentials: LIST_CREDENTIALS,
      validations: VALIDATIONS,
      rssRequests: RSS_REQUESTS,
    },
    floor: {
      at1: loadSummary(floorAt1),
      ratePerSecond: round(floorRate, 1),
      before: loadSummary(floor.windows.before),
      after: loadSummary(typenameAfter),
    },
    create: {
      at1: loadSummary(create.windows.at1),
      loaded: loadSummary(create.windows.loaded),
      ratioToFloor: round(createRatio, 4),
      ratioToRawInsert: round(create.windows.loaded.ratePerSecond / raw.ratePerSecond, 4),
      ...callsRecord(create),
    },
    rawInsert: { loaded: loadSummary(raw), poolSize: rawPoolSize },
    rotate: {
      loaded: loadSummary(rotate.windows.loaded),
      ratioToFloor: round(ratioToFloor(rotate.windows.loaded), 4),
      ...callsRecord(rotate),
    },
    get: { loaded: loadSummary(get.windows.loaded), ratioToFloor: round(ratioToFloor(get.windows.loaded), 4), ...callsRecord(get) },
    list: {
      page: PAGE,
      credentials: LIST_CREDENTIALS + 1,
      at1: loadSummary(listAt1),
      loaded: loadSummary(list.windows.loaded),
      ratioToFloor: round(ratioToFloor(list.windows.loaded), 4),
    },
    rest: {
      floorPath: REST_FLOOR_PATH,
      floor: loadSummary(restFloor.windows.loaded),
      create: loadSummary(restCreate.windows.loaded),
      ratioToFloor: round(restCreate.windows.loaded.ratePerSecond / restFloor.windows.loaded.ratePerSecond, 4),
      ...callsRecord(restCreate),
    },
    validateAwsRole: {
      sequential: loadSummary(validations.windows.sequential),
      ...callsRecord(validations),
      stsPer100: round((validations.sts / validations.operations) * 100, 3),
    },
    rss: {
      startMb: round(rssAtStart.mb, 1),
      afterRequests: rssAfterRequests ? { requests: rssAfterRequests.requests, mb: round(rssAfterRequests.mb, 1) } : null,
      end: { requests: rssAtEnd.requests, mb: round(rssAtEnd.mb, 1) },
      collected: rssAtStart.collected && rssAtEnd.collected,
    },
    logLines,
    goals,
  };
  const file = appendResult('api', record);
  printFigures(
    `API benchmark (commit ${String(record.commit)}, ${process.version}, ${String(record.cpus)} CPUs, NODE_ENV=${process.env.NODE_ENV ?? ''})`,
    figures,
    COMMAND,
  );
  process.stdout.write(`  appended to ${path.relative(process.cwd(), file)}\n\n`);
}, 240_000);

/**
 * Not a goal: a failed answer would make every figure meaningless, so the first window with one
 * fails the run at once, naming what was answered.
 */
function succeeded(result: LoadResult): LoadResult {
  expect(result.firstFailure).toBeUndefined();
  expect(result.failures).toBe(0);
  return result;
}

function callsRecord(s: Scenario): Record<string, number> {
  return {
    operations: s.operations,
    kmsEncrypt: s.kmsEncrypt,
    kmsDecrypt: s.kmsDecrypt,
    stsCalls: s.sts,
    kmsEncryptPer1000: round((s.kmsEncrypt / s.operations) * 1000, 3),
    kmsDecryptPer1000: round((s.kmsDecrypt / s.operations) * 1000, 3),
  };
}
