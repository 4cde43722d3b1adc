// Key rotation and re-wrap, end to end: credentials written through the real application (HTTP,
// PostgreSQL), the key rotated (local key ring or the fake Cloud KMS), every data key re-wrapped by
// rewrapAll / the secrets:rewrap CLI, the old version retired, and every secret still opening with
// what was sent. Also: resuming an interrupted run, idempotence, and rotations through the API
// racing the re-wrap. Each scenario has its own PostgreSQL schema in this file's database, its own
// DATA_DIR and its own application.
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main as keyRingMain } from '../../src/cli/key-ring';
import { captureIo } from '../support/capture-io';
import { main as rewrapMain, summarize } from '../../src/cli/rewrap-secrets';
import { EnvelopeCipher } from '../../src/secrets/envelope';
import type { KeyService, WrappedDataKey } from '../../src/secrets/key-service';
import { LOCAL_KEYRING_FILE, LocalKeyring } from '../../src/secrets/local-keyring';
import { type RewrapProgress, type RewrapReport, rewrapAll } from '../../src/secrets/rewrap';
import { SecretStore } from '../../src/secrets/secret-store';
import { type FakeKms, startFakeKms } from '../fakes/fake-kms-server';
import {
  aCredentialInput,
  anApiKey,
  apiKeyAuth,
  awsKeysAuth,
  type CreateCredentialInput,
  expectedSecretPayload,
  googleAdcAuth,
  hex,
} from '../support/factories';
import { anAdmin } from '../support/organizations';
import { sleep } from '../support/sleep';
import { startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { clientFor, type VaultClient } from '../support/vault-client';

const dev = { production: false };

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase('rewrap');
});

afterAll(async () => {
  await database?.drop();
});

/** What a test knows about a credential it created: where it lives and what its secret must open to. */
interface Written {
  id: string;
  organizationId: string;
  payload: Record<string, unknown> | null;
}

/** The sealed columns of one row, bytes as hex. */
interface SealedRow {
  id: string;
  organization_id: string;
  secret_version: number;
  secret_algorithm: string | null;
  secret_ciphertext: string | null;
  secret_nonce: string | null;
  secret_wrapped_key: string | null;
  secret_key_id: string | null;
}

interface Scenario {
  vault: TestApp;
  /** The schema-qualified credentials table of this scenario. */
  table: string;
  dataDir: string;
  /** DATABASE_URL of this scenario's schema. */
  databaseUrl: string;
  /** Environment for the CLIs: same database schema and DATA_DIR as the application. */
  env: Record<string, string>;
  admins: VaultClient[];
  sealedRows(): Promise<SealedRow[]>;
  /** A SecretStore on the application's database whose cipher uses this key service. */
  storeWith(keyService: KeyService): SecretStore;
  stop(): Promise<void>;
}

async function startScenario(label: string, env: Record<string, string> = {}): Promise<Scenario> {
  const schema = `${label}_${hex(3)}`;
  const url = new URL(database.url);
  url.searchParams.set('schema', schema);
  const databaseUrl = url.toString();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `vault-${label}-`));
  const vault = await startTestApp({ databaseUrl, dataDir, env });
  const admins = [anAdmin(vault), anAdmin(vault)];
  const table = `"${schema}".credentials`;
  return {
    vault,
    table,
    dataDir,
    databaseUrl,
    env: { DATA_DIR: dataDir, DATABASE_URL: databaseUrl, ...env },
    admins,
    sealedRows: () =>
      database.query<SealedRow>(
        `SELECT id, organization_id, secret_version, secret_algorithm, encode(secret_ciphertext, 'hex') AS secret_ciphertext,
                encode(secret_nonce, 'hex') AS secret_nonce, encode(secret_wrapped_key, 'hex') AS secret_wrapped_key, secret_key_id
           FROM ${table} ORDER BY id`,
      ),
    storeWith: (keyService) => new SecretStore(vault.app.database.prisma, new EnvelopeCipher(keyService)),
    async stop() {
      await vault.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Varied inputs, so the re-wrap meets every kind of sealed payload. */
const INPUTS: (() => CreateCredentialInput)[] = [
  () => aCredentialInput({ modelProvider: 'OPENAI' }),
  () => aCredentialInput({ modelProvider: 'BEDROCK' }), // AWS_ROLE
  () => aCredentialInput({ modelProvider: 'BEDROCK', auth: awsKeysAuth() }),
  () => aCredentialInput({ modelProvider: 'VERTEX' }), // GOOGLE_SERVICE_ACCOUNT
  () => aCredentialInput({ modelProvider: 'ANTHROPIC' }),
];

/** Only API-key providers: credentials a test rotates with apiKeyAuth(). */
const API_KEY_INPUTS: (() => CreateCredentialInput)[] = [() => aCredentialInput({ modelProvider: 'OPENAI' })];

async function createCredentials(scenario: Scenario, count: number, inputs = INPUTS): Promise<Written[]> {
  const written: Written[] = [];
  for (let i = 0; i < count; i += 1) {
    const admin = scenario.admins[i % scenario.admins.length];
    const input = inputs[i % inputs.length]();
    const created = await admin.created(input);
    written.push({ id: created.id, organizationId: created.organizationId, payload: expectedSecretPayload(input.auth!) });
  }
  return written;
}

/** Opens every credential with the key service and checks each payload against what was sent. */
async function expectAllOpen(scenario: Scenario, keyService: KeyService, written: Written[]): Promise<void> {
  const store = scenario.storeWith(keyService);
  const opened = [];
  for (const credential of written) opened.push((await store.open(credential.organizationId, credential.id))?.payload);
  expect(opened).toEqual(written.map((credential) => credential.payload));
}

const keyIdsOf = (rows: SealedRow[]) => rows.map((row) => row.secret_key_id);

/** A KeyService around another one, with hooks: our own interface, not an SDK. */
class HookedKeyService implements KeyService {
  readonly name = 'hooked';
  unwraps = 0;
  wraps = 0;
  constructor(
    private readonly inner: KeyService,
    private readonly hooks: {
      beforeUnwrap?: (aad: Buffer, count: number) => Promise<void> | void;
      beforeWrap?: (aad: Buffer, count: number) => Promise<void> | void;
    },
  ) {}
  async wrap(dataKey: Buffer, aad: Buffer): Promise<WrappedDataKey> {
    this.wraps += 1;
    await this.hooks.beforeWrap?.(aad, this.wraps);
    return this.inner.wrap(dataKey, aad);
  }
  async unwrap(wrapped: WrappedDataKey, aad: Buffer): Promise<Buffer> {
    this.unwraps += 1;
    await this.hooks.beforeUnwrap?.(aad, this.unwraps);
    return this.inner.unwrap(wrapped, aad);
  }
  checkReady(): Promise<void> {
    return this.inner.checkReady();
  }
  primaryKeyId(): Promise<string> {
    return this.inner.primaryKeyId();
  }
}

/** The credential id inside a secret's AAD (JSON: [context, organizationId, credentialId, version, authType]). */
const credentialIdOf = (aad: Buffer): string => (JSON.parse(aad.toString('utf8')) as string[])[2];

describe('rotate, re-wrap and retire with the local key ring', () => {
  const N = 30;
  let scenario: Scenario;
  let ring: LocalKeyring;
  let written: Written[];
  let before: SealedRow[];
  let report: RewrapReport;
  const progress: RewrapProgress[] = [];

  beforeAll(async () => {
    scenario = await startScenario('rotate');
    ring = await LocalKeyring.open(scenario.dataDir, dev);
    written = await createCredentials(scenario, N);
    before = await scenario.sealedRows();
    // Every test below relies on the rotation having made version 2 primary.
    const rotatedTo = ring.rotate();
    if (rotatedTo !== 2) throw new Error(`expected the rotation to make version 2 primary, got version ${rotatedTo}`);
    report = await rewrapAll(scenario.storeWith(ring), { batchSize: 7, onProgress: (p) => progress.push(p) });
  }, 60_000);

  afterAll(async () => {
    await scenario?.stop();
  });

  test('wrote every credential under local:1 before the rotation', () => {
    expect(new Set(keyIdsOf(before))).toEqual(new Set(['local:1']));
    expect(before).toHaveLength(N);
  });

  test('reports every data key re-wrapped, none already current, none failed, none remaining', () => {
    expect(report).toEqual({ primaryKeyId: 'local:2', rewrapped: N, alreadyCurrent: 0, changedConcurrently: 0, failed: [], remaining: {} });
  });

  test('reports progress after every batch of 7', () => {
    expect(progress).toEqual([7, 14, 21, 28, 30].map((processed) => ({ processed, rewrapped: processed, failed: 0 })));
  });

  test('stores every data key under local:2', async () => {
    expect(keyIdsOf(await scenario.sealedRows())).toEqual(Array(N).fill('local:2'));
  });

  test('leaves each secret version, algorithm, ciphertext and nonce unchanged', async () => {
    const strip = (rows: SealedRow[]) => rows.map(({ secret_wrapped_key: _w, secret_key_id: _k, ...rest }) => rest);
    expect(strip(await scenario.sealedRows())).toEqual(strip(before));
  });

  test('replaces every wrapped key', async () => {
    const after = await scenario.sealedRows();
    expect(after.filter((row, i) => row.secret_wrapped_key === before[i].secret_wrapped_key)).toEqual([]);
  });

  test('every credential still opens with what was sent', async () => {
    await expectAllOpen(scenario, await LocalKeyring.open(scenario.dataDir, dev), written);
  });

  test('records one credential.rewrapped event per credential, naming both key ids, as a command of the vault', async () => {
    const events = await scenario.vault.app.database.prisma.auditEvent.findMany({ where: { action: 'credential.rewrapped' } });
    expect(events).toHaveLength(N);
    expect(new Set(events.map((event) => event.targetId))).toEqual(new Set(written.map((credential) => credential.id)));
    for (const event of events) {
      expect(event).toMatchObject({
        actor: 'system:secrets-rewrap',
        targetType: 'credential',
        details: { fromKeyId: 'local:1', toKeyId: 'local:2' },
      });
    }
  });

  test('is idempotent: a second run re-wraps nothing and counts every row as already current', async () => {
    const rowsBefore = await scenario.sealedRows();
    const again = await rewrapAll(scenario.storeWith(ring), { batchSize: 7 });
    expect(again).toEqual({ primaryKeyId: 'local:2', rewrapped: 0, alreadyCurrent: N, changedConcurrently: 0, failed: [], remaining: {} });
    expect(await scenario.sealedRows()).toEqual(rowsBefore);
  });

  test('retires version 1 through `key-ring retire --version 1`', async () => {
    const io = captureIo();
    expect(await keyRingMain(['retire', '--version', '1'], scenario.env, io)).toBe(0);
    expect(io.out).toContain('retired local:1');
    expect((await LocalKeyring.open(scenario.dataDir, dev)).versions().map((v) => v.version)).toEqual([2]);
  });

  test('every credential still opens after version 1 is retired, with a key ring loaded afresh', async () => {
    const fresh = await LocalKeyring.open(scenario.dataDir, dev);
    expect(fresh.versions().map((v) => v.version)).toEqual([2]);
    await expectAllOpen(scenario, fresh, written);
  });

  test('the running application keeps reading and rotating after the retirement', async () => {
    const [credential] = written;
    const admin = clientFor(scenario.vault, credential.organizationId);
    const auth = apiKeyAuth(anApiKey());
    const rotated = await admin.update(credential.id, { auth });
    expect(rotated.body.errors).toBeUndefined();
    const opened = await scenario.storeWith(await LocalKeyring.open(scenario.dataDir, dev)).open(credential.organizationId, credential.id);
    expect(opened?.payload).toEqual(expectedSecretPayload(auth));
  });
});

describe('retiring a key version that stored data keys still need', () => {
  let scenario: Scenario;
  let ring: LocalKeyring;
  let written: Written[];

  beforeAll(async () => {
    scenario = await startScenario('refuse');
    ring = await LocalKeyring.open(scenario.dataDir, dev);
    written = await createCredentials(scenario, 4);
    ring.rotate();
  });

  afterAll(async () => {
    await scenario?.stop();
  });

  test('is refused with exit 1 and a message naming the key id and the count', async () => {
    const io = captureIo();
    expect(await keyRingMain(['retire', '--version', '1'], scenario.env, io)).toBe(1);
    expect(io.err).toMatch(/refusing to retire local:1: 4 stored data keys still need it/);
  });

  test('keeps the version in the key ring, so every credential still opens', async () => {
    await keyRingMain(['retire', '--version', '1'], scenario.env, captureIo());
    const fresh = await LocalKeyring.open(scenario.dataDir, dev);
    expect(fresh.versions().map((v) => v.version)).toEqual([1, 2]);
    await expectAllOpen(scenario, fresh, written);
  });

  test('is refused while a single data key still needs it after a partial re-wrap', async () => {
    const [last] = written.slice(-1);
    const skipping = new HookedKeyService(ring, {
      beforeUnwrap: (aad) => {
        if (credentialIdOf(aad) === last.id) throw new Error('simulated failure for one row');
      },
    });
    const report = await rewrapAll(scenario.storeWith(skipping));
    expect(report.remaining).toEqual({ 'local:1': 1 });
    const io = captureIo();
    expect(await keyRingMain(['retire', '--version', '1'], scenario.env, io)).toBe(1);
    expect(io.err).toContain('refusing to retire local:1: 1 stored data keys still need it');
  });
});

describe('a re-wrap whose key service fails halfway, resumed', () => {
  const N = 20;
  const K = 8;
  let scenario: Scenario;
  let ring: LocalKeyring;
  let written: Written[];
  let first: RewrapReport;

  beforeAll(async () => {
    scenario = await startScenario('failing');
    ring = await LocalKeyring.open(scenario.dataDir, dev);
    written = await createCredentials(scenario, N);
    ring.rotate();
    const failing = new HookedKeyService(ring, {
      beforeUnwrap: (_aad, count) => {
        if (count > K) throw new Error('key service went away');
      },
    });
    first = await rewrapAll(scenario.storeWith(failing), { batchSize: 5 });
  }, 60_000);

  afterAll(async () => {
    await scenario?.stop();
  });

  test('reports the first K rows re-wrapped and every other row as failed, with its id, key id and reason', () => {
    expect(first.rewrapped).toBe(K);
    expect(first.failed).toHaveLength(N - K);
    expect(first.failed.every((failure) => failure.keyId === 'local:1' && failure.reason === 'key service went away')).toBe(true);
  });

  test('reports the failed rows as still needing local:1', () => {
    expect(first.remaining).toEqual({ 'local:1': N - K });
  });

  test('names every failed row exactly once', async () => {
    const stale = (await scenario.sealedRows()).filter((row) => row.secret_key_id === 'local:1').map((row) => row.id);
    expect(first.failed.map((failure) => failure.credentialId)).toEqual(stale);
  });

  test('a normal run afterwards re-wraps only the rest', async () => {
    const second = await rewrapAll(scenario.storeWith(ring), { batchSize: 5 });
    expect(second).toEqual({
      primaryKeyId: 'local:2',
      rewrapped: N - K,
      alreadyCurrent: K,
      changedConcurrently: 0,
      failed: [],
      remaining: {},
    });
  });

  test('leaves every row current and every credential opening with what was sent', async () => {
    expect(keyIdsOf(await scenario.sealedRows())).toEqual(Array(N).fill('local:2'));
    await expectAllOpen(scenario, await LocalKeyring.open(scenario.dataDir, dev), written);
  });
});

describe('a re-wrap interrupted halfway (the run itself dies), resumed', () => {
  const N = 20;
  let scenario: Scenario;
  let ring: LocalKeyring;
  let written: Written[];

  beforeAll(async () => {
    scenario = await startScenario('interrupt');
    ring = await LocalKeyring.open(scenario.dataDir, dev);
    written = await createCredentials(scenario, N);
    ring.rotate();
  });

  afterAll(async () => {
    await scenario?.stop();
  });

  test('an interrupted run leaves the rows it finished current and the others untouched', async () => {
    const before = await scenario.sealedRows();
    const interrupted = rewrapAll(scenario.storeWith(ring), {
      batchSize: 5,
      onProgress: (p) => {
        if (p.processed >= 10) throw new Error('SIGTERM');
      },
    });
    await expect(interrupted).rejects.toThrow('SIGTERM');
    const after = await scenario.sealedRows();
    expect(keyIdsOf(after)).toEqual([...Array(10).fill('local:2'), ...Array(N - 10).fill('local:1')]);
    expect(after.slice(10)).toEqual(before.slice(10));
  });

  test('the next run finishes the rest', async () => {
    const resumed = await rewrapAll(scenario.storeWith(ring), { batchSize: 5 });
    expect(resumed).toEqual({
      primaryKeyId: 'local:2',
      rewrapped: N - 10,
      alreadyCurrent: 10,
      changedConcurrently: 0,
      failed: [],
      remaining: {},
    });
  });

  test('every credential opens with what was sent', async () => {
    expect(keyIdsOf(await scenario.sealedRows())).toEqual(Array(N).fill('local:2'));
    await expectAllOpen(scenario, await LocalKeyring.open(scenario.dataDir, dev), written);
  });
});

describe('re-wrap racing rotations through the API', () => {
  let scenario: Scenario;
  let ring: LocalKeyring;

  beforeAll(async () => {
    scenario = await startScenario('race');
    ring = await LocalKeyring.open(scenario.dataDir, dev);
  });

  afterAll(async () => {
    await scenario?.stop();
  });

  /** The admin of the credential's organization. */
  const adminOf = (credential: { organizationId: string }) => clientFor(scenario.vault, credential.organizationId);

  test('a rotation landing between the re-wrap read and its write wins, and is counted as changed concurrently', async () => {
    const written = await createCredentials(scenario, 5, API_KEY_INPUTS);
    ring.rotate();
    const target = written[2];
    const auth = apiKeyAuth(anApiKey());
    const racing = new HookedKeyService(ring, {
      beforeWrap: async (aad) => {
        if (credentialIdOf(aad) !== target.id) return;
        const response = await adminOf(target).update(target.id, { auth });
        expect(response.body.errors).toBeUndefined();
      },
    });
    const report = await rewrapAll(scenario.storeWith(racing));
    expect(report).toMatchObject({ rewrapped: 4, changedConcurrently: 1, failed: [], remaining: {} });
    const opened = await scenario.storeWith(await LocalKeyring.open(scenario.dataDir, dev)).open(target.organizationId, target.id);
    expect(opened).toEqual({ authType: 'API_KEY', secretVersion: 2, payload: expectedSecretPayload(auth) });
  });

  test('a row rotated after its batch was listed is counted as changed concurrently, not re-wrapped again', async () => {
    // Everything current first, then a new primary: N rows need the re-wrap.
    await rewrapAll(scenario.storeWith(ring));
    await createCredentials(scenario, 4, API_KEY_INPUTS);
    ring.rotate();
    const stale = await scenario.sealedRows(); // every row: none is under the new primary yet
    const last = stale[stale.length - 1];
    let rotated = false;
    const racing = new HookedKeyService(ring, {
      // While the run works on the first row of the batch, the last row of the same batch is rotated.
      beforeUnwrap: async () => {
        if (rotated) return;
        rotated = true;
        const response = await adminOf({ organizationId: last.organization_id }).update(last.id, { auth: apiKeyAuth() });
        expect(response.body.errors).toBeUndefined();
      },
    });
    const report = await rewrapAll(scenario.storeWith(racing), { batchSize: 1000 });
    expect(rotated).toBe(true);
    expect({ rewrapped: report.rewrapped, changedConcurrently: report.changedConcurrently }).toEqual({
      rewrapped: stale.length - 1,
      changedConcurrently: 1,
    });
  });

  test('loses no rotation when many rotations of the same credentials run during the re-wrap', async () => {
    const written = await createCredentials(scenario, 12, API_KEY_INPUTS);
    ring.rotate();
    const ROTATIONS = 5;
    const lastSent = new Map<string, Record<string, unknown> | null>();
    // A slow key service keeps the re-wrap running while the rotations land.
    const slow = new HookedKeyService(ring, { beforeWrap: () => sleep(5) });
    let rewrapRunning = true;
    let rotationsDuringRun = 0;
    const rotations = Promise.all(
      written.map(async (credential) => {
        const admin = adminOf(credential);
        for (let i = 0; i < ROTATIONS; i += 1) {
          const auth = apiKeyAuth(anApiKey());
          const response = await admin.update(credential.id, { auth });
          expect(response.body.errors).toBeUndefined();
          lastSent.set(credential.id, expectedSecretPayload(auth));
          if (rewrapRunning) rotationsDuringRun += 1;
        }
      }),
    );
    const run = rewrapAll(scenario.storeWith(slow), { batchSize: 2 }).finally(() => {
      rewrapRunning = false;
    });
    const [report] = await Promise.all([run, rotations]);
    expect(rotationsDuringRun).toBeGreaterThan(0); // the two really overlapped
    expect(report.failed).toEqual([]);
    expect(report.remaining).toEqual({});
    const fresh = await LocalKeyring.open(scenario.dataDir, dev);
    const store = scenario.storeWith(fresh);
    const opened = [];
    for (const credential of written) opened.push(await store.open(credential.organizationId, credential.id));
    expect(opened).toEqual(
      written.map((credential) => ({ authType: 'API_KEY', secretVersion: 1 + ROTATIONS, payload: lastSent.get(credential.id) })),
    );
  }, 60_000);

  test('loses no credential: every row created in this scenario is still there and opens', async () => {
    const rows = await scenario.sealedRows();
    expect(rows).toHaveLength(5 + 4 + 12);
    const store = scenario.storeWith(await LocalKeyring.open(scenario.dataDir, dev));
    for (const row of rows) {
      await expect(store.open(row.organization_id, row.id)).resolves.toMatchObject({
        secretVersion: row.secret_version,
        payload: expect.any(Object),
      });
    }
  });
});

describe('credentials without key material', () => {
  let scenario: Scenario;
  let ring: LocalKeyring;

  beforeAll(async () => {
    scenario = await startScenario('adc');
    ring = await LocalKeyring.open(scenario.dataDir, dev);
  });

  afterAll(async () => {
    await scenario?.stop();
  });

  test('are neither re-wrapped nor counted, and stay as they are', async () => {
    const [admin] = scenario.admins;
    await admin.created(aCredentialInput({ modelProvider: 'VERTEX', auth: googleAdcAuth({ quotaProjectId: 'quota-1' }) }));
    await admin.created(aCredentialInput({ modelProvider: 'OPENAI' }));
    ring.rotate();
    const before = await scenario.sealedRows();
    const adcBefore = before.filter((row) => row.secret_key_id === null);
    expect(adcBefore).toHaveLength(1);
    const report = await rewrapAll(scenario.storeWith(ring));
    expect(report).toEqual({ primaryKeyId: 'local:2', rewrapped: 1, alreadyCurrent: 0, changedConcurrently: 0, failed: [], remaining: {} });
    expect((await scenario.sealedRows()).filter((row) => row.secret_key_id === null)).toEqual(adcBefore);
  });
});

describe('rotate and re-wrap with Cloud KMS (the fake)', () => {
  const N = 10;
  let kms: FakeKms;
  let scenario: Scenario;
  let written: Written[];
  let report: RewrapReport;
  let version1: string;
  let version2: string;

  beforeAll(async () => {
    kms = await startFakeKms();
    scenario = await startScenario('kms', { KMS_KEY_NAME: kms.keyName, KMS_API_ENDPOINT: kms.endpoint });
    written = await createCredentials(scenario, N);
    version1 = kms.primaryVersion();
    version2 = kms.rotate();
    kms.resetCalls();
    report = await rewrapAll(scenario.storeWith(scenario.vault.app.keyService), { batchSize: 3 });
  }, 60_000);

  afterAll(async () => {
    await scenario?.stop();
    await kms?.close();
  });

  test('reports every data key re-wrapped under version 2', () => {
    expect(report).toEqual({ primaryKeyId: version2, rewrapped: N, alreadyCurrent: 0, changedConcurrently: 0, failed: [], remaining: {} });
  });

  test('makes one Decrypt and one Encrypt per row (and one Encrypt to learn the primary)', () => {
    expect(kms.calls).toEqual({ encrypt: N + 1, decrypt: N });
  });

  test('stores every data key under the version 2 name', async () => {
    expect(keyIdsOf(await scenario.sealedRows())).toEqual(Array(N).fill(version2));
  });

  test('every credential still opens after version 1 is destroyed in KMS', async () => {
    kms.destroyVersion(version1);
    await expectAllOpen(scenario, scenario.vault.app.keyService, written);
  });

  test('the secrets:rewrap CLI with KMS_KEY_NAME uses KMS and creates no local key ring', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vault-kms-cli-'));
    try {
      version2 = kms.rotate();
      const io = captureIo();
      expect(await rewrapMain([], { ...scenario.env, DATA_DIR: dataDir }, io)).toBe(0);
      expect(io.out).toContain(`primary key: ${version2}`);
      expect(io.out).toContain(`rewrapped ${N}, already current 0, changed concurrently 0, failed 0`);
      expect(existsSync(path.join(dataDir, LOCAL_KEYRING_FILE))).toBe(false);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('summarize', () => {
  const base: RewrapReport = {
    primaryKeyId: 'local:3',
    rewrapped: 5,
    alreadyCurrent: 7,
    changedConcurrently: 2,
    failed: [],
    remaining: {},
  };

  test('prints the primary key and the counts line', () => {
    const text = summarize(base);
    expect(text.split('\n').slice(0, 2)).toEqual([
      'primary key: local:3',
      'rewrapped 5, already current 7, changed concurrently 2, failed 0',
    ]);
  });

  test('says old versions can be retired when nothing remains under them', () => {
    expect(summarize(base)).toContain('every data key is under the primary key: older key versions can be retired');
  });

  test('names each failure and each key id still in use, with its count', () => {
    const text = summarize({
      ...base,
      failed: [{ credentialId: 'c-1', keyId: 'local:1', reason: 'boom' }],
      remaining: { 'local:1': 1, 'local:2': 4 },
    });
    expect(text).toContain('rewrapped 5, already current 7, changed concurrently 2, failed 1');
    expect(text).toContain('failed: credential c-1 (local:1): boom');
    expect(text).toContain('still under older keys (do not retire these): local:1 × 1, local:2 × 4');
    expect(text).not.toContain('can be retired');
  });
});

describe('the secrets:rewrap CLI', () => {
  let scenario: Scenario;
  let ring: LocalKeyring;

  beforeAll(async () => {
    scenario = await startScenario('cli');
    ring = await LocalKeyring.open(scenario.dataDir, dev);
  });

  afterAll(async () => {
    await scenario?.stop();
  });

  test('prints a progress line per batch to stderr and the summary to stdout, exit 0', async () => {
    const written = await createCredentials(scenario, 5);
    ring.rotate();
    const io = captureIo();
    expect(await rewrapMain(['--batch-size', '2'], scenario.env, io)).toBe(0);
    expect(io.err).toBe('processed 2: rewrapped 2, failed 0\nprocessed 4: rewrapped 4, failed 0\nprocessed 5: rewrapped 5, failed 0\n');
    expect(io.out).toBe(
      'primary key: local:2\nrewrapped 5, already current 0, changed concurrently 0, failed 0\n' +
        'every data key is under the primary key: older key versions can be retired\n',
    );
    await expectAllOpen(scenario, await LocalKeyring.open(scenario.dataDir, dev), written);
  });

  test('exits 1 and names the row when a data key cannot be re-wrapped', async () => {
    const [admin] = scenario.admins;
    const broken = await admin.created(aCredentialInput());
    ring.rotate();
    await database.query(`UPDATE ${scenario.table} SET secret_key_id = 'local:9' WHERE id = $1`, [broken.id]);
    const io = captureIo();
    expect(await rewrapMain([], scenario.env, io)).toBe(1);
    expect(io.out).toContain(`failed: credential ${broken.id} (local:9)`);
    expect(io.out).toContain('still under older keys (do not retire these): local:9 × 1');
  });

  test.each([{ argv: ['--batch-size', '0'] }, { argv: ['--batch-size', 'ten'] }, { argv: ['--batch'] }, { argv: ['extra'] }])(
    'exits 2 on the usage error $argv',
    async ({ argv }) => {
      const io = captureIo();
      expect(await rewrapMain(argv, scenario.env, io)).toBe(2);
      expect(io.err).toContain('Usage: rewrap-secrets [--batch-size N]');
    },
  );
});
