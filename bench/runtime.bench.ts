// Benchmark of the runtime route, POST /v1/upstream-auth, against GET /healthz on the same
// listener: the real application in this process (loadConfig + startApplication) over a
// PostgreSQL database of its own, with Cloud KMS, AWS STS and Google's OAuth token endpoint played
// by the wire-level fakes of test/fakes, whose counters give the upstream calls per 1,000 resolves.
// Figures are printed and appended to bench/results/runtime.jsonl; goals are reported, not
// asserted. The only assertions are that the setup worked and that every answer was a 200.
// Run: npx jest -c bench/jest.config.js --runInBand  (see bench/README.md)
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import http from 'node:http';
import { type Application, startApplication } from '../src/application';
import { mintDevelopmentToken } from '../src/auth/token-minter';
import { type Config, loadConfig } from '../src/config/config';
import { DATA_KEY_CACHE_DEFAULTS } from '../src/secrets/data-key-cache';
import { type FakeGoogleCloud, startFakeGoogleCloud } from '../test/fakes/fake-google-cloud';
import { type FakeKms, startFakeKms } from '../test/fakes/fake-kms-server';
import { type FakeSts, startFakeSts } from '../test/fakes/fake-sts-server';
import { serviceAccountAuth } from '../test/support/cloud-fakes';
import { postGraphQL } from '../test/support/test-app';
import { createTestDatabase, type TestDatabase } from '../test/support/test-database';
import { useAwsIdentity } from '../test/support/validation-harness';
import { CREATE_CREDENTIAL } from '../test/support/vault-client';
import { type LoadResult, loadSummary, runLoad, send, type Target } from './support/load';
import { appendResult, environment, type Figure, fmt, printFigures, reproduceCommand, round, setting } from './support/report';

const CONCURRENCY = setting('BENCH_CONCURRENCY', 32);
/** Length of each measured window at CONCURRENCY. */
const DURATION_MS = setting('BENCH_DURATION_MS', 4000);
/** Load before each measured window (not measured): JIT, connection pools, caches. */
const WARMUP_MS = setting('BENCH_WARMUP_MS', 1000);
/** Sequential resolves (one caller) for the unloaded latency, at most BENCH_LATENCY_MS long. */
const LATENCY_REQUESTS = setting('BENCH_LATENCY_REQUESTS', 2000);
const LATENCY_MS = setting('BENCH_LATENCY_MS', 3000);
/** A hard bound on any one window's requests, whatever the machine. */
const MAX_REQUESTS_PER_WINDOW = 200_000;

const BASE_COMMAND = 'npx jest -c bench/jest.config.js --runInBand bench/runtime.bench.ts';
const COMMAND = reproduceCommand('BENCH_', BASE_COMMAND);

const JWT_SECRET = `bench-${randomBytes(24).toString('hex')}`;
const AWS_ROLE_ARN = 'arn:aws:iam::123456789012:role/bench-bedrock';
const PROJECT_ID = 'vault-bench-project';
/** Lifetimes of what the fakes mint: STS sessions (the minter asks 3600 s) and Google access tokens (3600 s). */
const MINTED_LIFETIME_MS = 3600_000;
/** The minted-credential cache hands a credential out until 5 minutes before it expires. */
const MINTED_REFRESH_BEFORE_MS = 5 * 60_000;

let database: TestDatabase;
let kms: FakeKms;
let sts: FakeSts;
let google: FakeGoogleCloud;
let restoreAwsEnv: (() => void) | undefined;
let dataDir: string;
let config: Config;
let app: Application;
/** Log lines the application wrote (kept as a count only: the bench measures serialisation, not a disk). */
let logLines = 0;

beforeAll(async () => {
  database = await createTestDatabase('bench_runtime');
  kms = await startFakeKms();
  sts = await startFakeSts();
  google = await startFakeGoogleCloud();
  // AssumeRole is signed with this process's AWS identity, read by the SDK's default chain.
  restoreAwsEnv = useAwsIdentity(sts.caller);
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'vault-bench-'));
  config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    RUNTIME_PORT: '0',
    RUNTIME_HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    DATABASE_URL: database.url,
    JWT_SECRET,
    // Production's level: refusals and the per-minute audit lines are logged; a resolve's own line is at debug.
    LOG_LEVEL: 'info',
    KMS_KEY_NAME: kms.keyName,
    KMS_API_ENDPOINT: kms.endpoint,
    AWS_STS_ENDPOINT: sts.endpoint,
    AWS_REGION: 'us-east-1',
    GOOGLE_OAUTH_TOKEN_URL: google.tokenUrl,
    GOOGLE_IAM_CREDENTIALS_ENDPOINT: google.iamCredentialsEndpoint,
    VERTEX_API_ENDPOINT: google.vertexEndpoint,
    OUTBOUND_ALLOW_PRIVATE: 'true',
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
  await google?.close();
  await sts?.close();
  await kms?.close();
  restoreAwsEnv?.();
  await database?.drop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

interface Subject {
  /** Short name used in figure names and in the JSON record. */
  name: string;
  authType: string;
  credentialId: string;
  /** Checks one answer carries the material the fakes issued. */
  check(body: Record<string, unknown>): void;
}

interface Counters {
  kmsDecrypt: number;
  sts: number;
  oauth: number;
}

function counters(): Counters {
  return {
    kmsDecrypt: kms.calls.decrypt,
    sts: Object.values(sts.calls).reduce((sum, count) => sum + count, 0),
    oauth: google.requests.filter((request) => request.service === 'oauth2').length,
  };
}

async function createCredential(adminToken: string, input: Record<string, unknown>): Promise<string> {
  const response = await postGraphQL<{ createCredential: { id: string } }>(app.url, CREATE_CREDENTIAL, { input }, { token: adminToken });
  const id = response.body.data?.createCredential.id;
  if (!id) throw new Error(`createCredential failed: ${response.text}`);
  return id;
}

/** Three credentials of one organization, one per measured auth type, and a runtime token for it. */
async function setUp(): Promise<{ subjects: Subject[]; runtimeToken: string }> {
  const orgId = randomUUID();
  const adminToken = mintDevelopmentToken(JWT_SECRET, { orgId, roles: ['admin'], sub: 'bench-admin' });
  const runtimeToken = mintDevelopmentToken(JWT_SECRET, { orgId, roles: ['runtime'], sub: 'bench-gateway' });

  const apiKey = `sk-bench-${randomBytes(16).toString('hex')}`;
  const apiKeyId = await createCredential(adminToken, { name: 'bench-openai', modelProvider: 'OPENAI', auth: { apiKey: { apiKey } } });

  const externalId = `ext-${randomBytes(8).toString('hex')}`;
  sts.addRole({ arn: AWS_ROLE_ARN, externalId });
  const awsId = await createCredential(adminToken, {
    name: 'bench-bedrock',
    modelProvider: 'BEDROCK',
    auth: { awsRole: { iamRoleArn: AWS_ROLE_ARN, externalId } },
  });

  const account = google.createServiceAccount(`bench-${randomBytes(3).toString('hex')}@${PROJECT_ID}.iam.gserviceaccount.com`, PROJECT_ID);
  const googleId = await createCredential(adminToken, {
    name: 'bench-vertex',
    modelProvider: 'VERTEX',
    auth: serviceAccountAuth(account),
  });

  const subjects: Subject[] = [
    {
      name: 'api_key',
      authType: 'API_KEY',
      credentialId: apiKeyId,
      check: (body) => expect(JSON.stringify(body.headers)).toContain(apiKey),
    },
    {
      name: 'aws_role',
      authType: 'AWS_ROLE',
      credentialId: awsId,
      check: (body) => expect(sts.isIssued((body.aws as { access_key_id: string }).access_key_id)).toBe(true),
    },
    {
      name: 'google_service_account',
      authType: 'GOOGLE_SERVICE_ACCOUNT',
      credentialId: googleId,
      check: (body) => expect(google.principalOf((body.google as { access_token: string }).access_token)).toBe(account.clientEmail),
    },
  ];
  return { subjects, runtimeToken };
}

interface SubjectResult {
  subject: Subject;
  load: LoadResult;
  sequential: LoadResult;
  resolves: number;
  phaseMs: number;
  calls: Counters;
}

test('POST /v1/upstream-auth (API key, AWS role, Google service account) against GET /healthz', async () => {
  expect(app.runtimeUrl).not.toBeNull();
  const runtimeUrl = app.runtimeUrl ?? '';
  const { subjects, runtimeToken } = await setUp();
  const healthz: Target = { url: `${runtimeUrl}/healthz`, method: 'GET' };
  const resolveOf = (subject: Subject): Target => ({
    url: `${runtimeUrl}/v1/upstream-auth`,
    method: 'POST',
    headers: { authorization: `Bearer ${runtimeToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ credential_id: subject.credentialId }),
  });
  const window = (target: Target, durationMs: number, concurrency = CONCURRENCY, maxRequests = MAX_REQUESTS_PER_WINDOW) =>
    runLoad({ ...target, concurrency, durationMs, maxRequests });

  // The floor: the trivial route on the same listener, same client, same concurrency.
  await window(healthz, WARMUP_MS);
  const healthzBefore = await window(healthz, DURATION_MS);

  const results: SubjectResult[] = [];
  for (const subject of subjects) {
    const target = resolveOf(subject);
    const before = counters();
    const phaseStarted = performance.now();
    // Cold: the first resolve mints (STS, OAuth) and decrypts (KMS); its answer must carry what the fakes issued.
    const agent = new http.Agent({ keepAlive: false });
    const first = await send(agent, target);
    agent.destroy();
    expect(first.status).toBe(200);
    subject.check(JSON.parse(first.body) as Record<string, unknown>);
    const warmup = await window(target, WARMUP_MS);
    const load = await window(target, DURATION_MS);
    const sequential = await window(target, LATENCY_MS, 1, LATENCY_REQUESTS);
    const phaseMs = performance.now() - phaseStarted;
    const after = counters();
    results.push({
      subject,
      load,
      sequential,
      phaseMs,
      resolves: 1 + warmup.requests + load.requests + sequential.requests,
      calls: { kmsDecrypt: after.kmsDecrypt - before.kmsDecrypt, sts: after.sts - before.sts, oauth: after.oauth - before.oauth },
    });
    expect(warmup.failures).toBe(0);
  }

  // The floor again, so that a machine that got busier (or quieter) meanwhile shows.
  const healthzAfter = await window(healthz, DURATION_MS);
  const healthzRate = (healthzBefore.ratePerSecond + healthzAfter.ratePerSecond) / 2;

  const cache = config.kmsDataKeyCache === false ? null : (config.kmsDataKeyCache ?? DATA_KEY_CACHE_DEFAULTS);
  const figures: Figure[] = [
    {
      name: `healthz rate @${CONCURRENCY}`,
      value: `${fmt(healthzRate)} req/s`,
      note: `(mean of ${fmt(healthzBefore.ratePerSecond)} before and ${fmt(healthzAfter.ratePerSecond)} after the resolves)`,
    },
  ];
  const resolvesRecord: Record<string, unknown> = {};
  const record: Record<string, unknown> = {
    bench: 'runtime',
    ...environment(),
    command: COMMAND,
    settings: {
      concurrency: CONCURRENCY,
      durationMs: DURATION_MS,
      warmupMs: WARMUP_MS,
      latencyRequests: LATENCY_REQUESTS,
      latencyMs: LATENCY_MS,
    },
    healthz: {
      ratePerSecond: round(healthzRate, 1),
      before: loadSummary(healthzBefore),
      after: loadSummary(healthzAfter),
    },
    resolves: resolvesRecord,
    logLines,
  };
  const goals: Record<string, boolean> = {};
  for (const { subject, load, sequential, resolves, phaseMs, calls } of results) {
    const ratio = load.ratePerSecond / healthzRate;
    // One cache window per maxUses resolves or per maxAge, whichever gives more windows.
    const kmsWindows = cache ? Math.max(Math.ceil(resolves / cache.maxUses), Math.ceil(phaseMs / cache.maxAgeMs)) : resolves;
    const tokenLifetimes = Math.ceil(phaseMs / (MINTED_LIFETIME_MS - MINTED_REFRESH_BEFORE_MS));
    const minted = subject.authType === 'AWS_ROLE' ? calls.sts : subject.authType === 'GOOGLE_SERVICE_ACCOUNT' ? calls.oauth : 0;
    const mintGoal = subject.authType === 'API_KEY' ? calls.sts + calls.oauth === 0 : minted <= tokenLifetimes;
    const per1000 = (count: number) => (count / resolves) * 1000;
    const mark = (met: boolean) => (met ? 'met' : 'NOT MET');
    goals[`${subject.name}.ratio`] = ratio >= 0.5;
    goals[`${subject.name}.p99`] = sequential.latencyMs.p99 < 10;
    goals[`${subject.name}.kms`] = calls.kmsDecrypt <= kmsWindows;
    goals[`${subject.name}.mint`] = mintGoal;
    const n = subject.name;
    figures.push(
      {
        name: `${n} resolve rate @${CONCURRENCY}`,
        value: `${fmt(load.ratePerSecond)} req/s`,
        note: `(${fmt(load.requests)} in ${fmt(load.elapsedMs / 1000, 1)} s)`,
      },
      { name: `${n} ratio to healthz`, value: fmt(ratio, 3), note: `[goal >= 0.5: ${mark(goals[`${n}.ratio`])}]` },
      {
        name: `${n} p50 warm @1`,
        value: `${fmt(sequential.latencyMs.p50, 2)} ms`,
        note: `(${fmt(sequential.requests)} sequential resolves)`,
      },
      { name: `${n} p99 warm @1`, value: `${fmt(sequential.latencyMs.p99, 2)} ms`, note: `[goal < 10 ms: ${mark(goals[`${n}.p99`])}]` },
      { name: `${n} p50 warm @${CONCURRENCY}`, value: `${fmt(load.latencyMs.p50, 2)} ms`, note: '(under load: includes queueing)' },
      { name: `${n} p99 warm @${CONCURRENCY}`, value: `${fmt(load.latencyMs.p99, 2)} ms` },
      {
        name: `${n} KMS Decrypt per 1,000`,
        value: fmt(per1000(calls.kmsDecrypt), 3),
        note: `(${calls.kmsDecrypt} in ${fmt(resolves)} resolves, ${kmsWindows} cache window(s)) [goal <= 1 per window: ${mark(goals[`${n}.kms`])}]`,
      },
      {
        name: `${n} STS calls per 1,000`,
        value: fmt(per1000(calls.sts), 3),
        note: `(${calls.sts} in ${fmt(resolves)} resolves)${subject.authType === 'AWS_ROLE' ? ` [goal <= 1 per token lifetime: ${mark(mintGoal)}]` : ''}`,
      },
      {
        name: `${n} OAuth token calls per 1,000`,
        value: fmt(per1000(calls.oauth), 3),
        note: `(${calls.oauth} in ${fmt(resolves)} resolves)${subject.authType === 'GOOGLE_SERVICE_ACCOUNT' ? ` [goal <= 1 per token lifetime: ${mark(mintGoal)}]` : ''}`,
      },
    );
    resolvesRecord[n] = {
      authType: subject.authType,
      ratePerSecond: round(load.ratePerSecond, 1),
      ratioToHealthz: round(ratio, 4),
      loaded: loadSummary(load),
      sequential: loadSummary(sequential),
      resolves,
      kmsDecrypt: calls.kmsDecrypt,
      stsCalls: calls.sts,
      oauthTokenCalls: calls.oauth,
      kmsDecryptPer1000: round(per1000(calls.kmsDecrypt), 4),
      stsCallsPer1000: round(per1000(calls.sts), 4),
      oauthTokenCallsPer1000: round(per1000(calls.oauth), 4),
      kmsCacheWindows: kmsWindows,
      tokenLifetimes,
    };
  }
  record.goals = goals;
  const file = appendResult('runtime', record);
  printFigures(
    `Runtime route benchmark (commit ${String(record.commit)}, ${process.version}, ${String(record.cpus)} CPUs)`,
    figures,
    COMMAND,
  );
  process.stdout.write(`  appended to ${path.relative(process.cwd(), file)}\n\n`);

  // Not goals: a failed answer would make every figure above meaningless.
  for (const result of [healthzBefore, healthzAfter, ...results.flatMap((r) => [r.load, r.sequential])]) {
    expect(result.statuses).toEqual({ 200: result.requests });
  }
}, 120_000);
