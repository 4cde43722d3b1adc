// The key-ring CLI (`npm run keys:rotate | keys:retire | keys:list`) driven through its main():
// rotation adds a primary version that a running application follows without a restart; usage
// and configuration errors exit 2 without touching the key ring; with KMS_KEY_NAME set, it
// explains that rotation happens in Cloud KMS. Retiring is refused for the primary, for unknown
// versions, and while stored data keys need the version.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { SYSTEM_ORGANIZATION_ID } from '../../src/audit/audit-log';
import { main } from '../../src/cli/key-ring';
import { captureIo } from '../support/capture-io';
import { LOCAL_KEYRING_FILE, LocalKeyring } from '../../src/secrets/local-keyring';
import { aCredentialInput, apiKeyAuth, expectedSecretPayload, hex } from '../support/factories';
import { anAdmin } from '../support/organizations';
import { startTestApp, type TestApp } from '../support/test-app';
import { eventually } from '../support/sleep';
import { TempDirs } from '../support/temp-dirs';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { openSecret } from '../support/vault-client';

const dev = { production: false };
const KMS_KEY_NAME = 'projects/test/locations/global/keyRings/vault/cryptoKeys/secrets';

let database: TestDatabase;
const tempDirs = new TempDirs('vault-key-ring-cli-');
const tempDir = () => tempDirs.make();

beforeAll(async () => {
  database = await createTestDatabase('key_ring_cli');
});

afterAll(async () => {
  tempDirs.removeAll();
  await database?.drop();
});

/** A DATABASE_URL on a schema of its own, so counts of stored data keys start at zero. */
function freshSchemaUrl(): { url: string; table: string } {
  const schema = `cli_${hex(4)}`;
  const url = new URL(database.url);
  url.searchParams.set('schema', schema);
  return { url: url.toString(), table: `"${schema}".credentials` };
}

const versionsIn = async (dataDir: string) =>
  (await LocalKeyring.open(dataDir, dev)).versions().map(({ version, primary }) => ({ version, primary }));

describe('key-ring rotate', () => {
  test('adds version 2 and makes it primary, keeping version 1', async () => {
    const dataDir = tempDir();
    await LocalKeyring.open(dataDir, dev);
    const io = captureIo();
    expect(await main(['rotate'], { DATA_DIR: dataDir, DATABASE_URL: database.url }, io)).toBe(0);
    expect(io.out).toContain('key version 2 is now primary');
    expect(await versionsIn(dataDir)).toEqual([
      { version: 1, primary: false },
      { version: 2, primary: true },
    ]);
  });

  test('records the rotation in the audit trail, as an event of the vault itself', async () => {
    const dataDir = tempDir();
    const { url } = freshSchemaUrl();
    expect(await main(['rotate'], { DATA_DIR: dataDir, DATABASE_URL: url }, captureIo())).toBe(0);

    const schema = new URL(url).searchParams.get('schema') ?? '';
    const events = await database.query<{ organization_id: string; actor: string; action: string; target_id: string }>(
      `SELECT organization_id, actor, action, target_id FROM "${schema}".audit_events`,
    );
    expect(events).toEqual([
      { organization_id: SYSTEM_ORGANIZATION_ID, actor: 'system:keys-rotate', action: 'key_ring.rotated', target_id: 'local:2' },
    ]);
  });

  test('creates the key ring with version 1 on a fresh DATA_DIR and rotates it to version 2', async () => {
    const dataDir = tempDir();
    expect(await main(['rotate'], { DATA_DIR: dataDir, DATABASE_URL: database.url }, captureIo())).toBe(0);
    expect(await versionsIn(dataDir)).toEqual([
      { version: 1, primary: false },
      { version: 2, primary: true },
    ]);
  });

  test('keeps data keys wrapped under the old version unwrappable', async () => {
    const dataDir = tempDir();
    const ring = await LocalKeyring.open(dataDir, dev);
    const aad = Buffer.from('aad');
    const key = Buffer.alloc(32, 9);
    const wrapped = await ring.wrap(key, aad);
    await main(['rotate'], { DATA_DIR: dataDir, DATABASE_URL: database.url }, captureIo());
    const fresh = await LocalKeyring.open(dataDir, dev);
    expect(await fresh.unwrap(wrapped, aad)).toEqual(key);
    expect((await fresh.wrap(key, aad)).keyId).toBe('local:2');
  });
});

describe('key-ring list', () => {
  test('shows every version, marks the primary, and counts the data keys under each', async () => {
    const dataDir = tempDir();
    const { url } = freshSchemaUrl();
    const vault = await startTestApp({ databaseUrl: url, dataDir });
    try {
      const admin = anAdmin(vault);
      await admin.created(aCredentialInput());
      await admin.created(aCredentialInput());
      await main(['rotate'], { DATA_DIR: dataDir, DATABASE_URL: database.url }, captureIo());
      await admin.created(aCredentialInput());
      const io = captureIo();
      expect(await main(['list'], { DATA_DIR: dataDir, DATABASE_URL: url }, io)).toBe(0);
      const lines = io.out.trim().split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/^local:1 created \S+: 2 data keys$/);
      expect(lines[1]).toMatch(/^local:2 \(primary\) created \S+: 1 data keys$/);
    } finally {
      await vault.stop();
    }
  });
});

describe('key-ring retire', () => {
  /** Exit code and what the CLI said, whether main() returns a code or throws (the bin prints and exits 1). */
  async function retireOutcome(version: string, dataDir: string, url: string): Promise<{ code: number | undefined; text: string }> {
    const io = captureIo();
    return main(['retire', '--version', version], { DATA_DIR: dataDir, DATABASE_URL: url }, io).then(
      (code) => ({ code, text: io.err }),
      (error: Error) => ({ code: undefined, text: `${io.err}${error.message}` }),
    );
  }

  test('retires a version no stored data key needs', async () => {
    const dataDir = tempDir();
    const { url } = freshSchemaUrl();
    await main(['rotate'], { DATA_DIR: dataDir, DATABASE_URL: database.url }, captureIo());
    const io = captureIo();
    expect(await main(['retire', '--version', '1'], { DATA_DIR: dataDir, DATABASE_URL: url }, io)).toBe(0);
    expect(io.out).toContain('retired local:1');
    expect(await versionsIn(dataDir)).toEqual([{ version: 2, primary: true }]);
  });

  test('refuses with exit 1, naming the count, while stored data keys need the version', async () => {
    const dataDir = tempDir();
    const { url } = freshSchemaUrl();
    const vault = await startTestApp({ databaseUrl: url, dataDir });
    try {
      const admin = anAdmin(vault);
      for (let i = 0; i < 3; i += 1) await admin.created(aCredentialInput());
      await main(['rotate'], { DATA_DIR: dataDir, DATABASE_URL: database.url }, captureIo());
      const io = captureIo();
      expect(await main(['retire', '--version', '1'], { DATA_DIR: dataDir, DATABASE_URL: url }, io)).toBe(1);
      expect(io.err).toContain('refusing to retire local:1: 3 stored data keys still need it');
      expect((await versionsIn(dataDir)).map((v) => v.version)).toEqual([1, 2]);
    } finally {
      await vault.stop();
    }
  });

  test('never retires the primary version', async () => {
    const dataDir = tempDir();
    const { url } = freshSchemaUrl();
    await main(['rotate'], { DATA_DIR: dataDir, DATABASE_URL: database.url }, captureIo());
    const before = readFileSync(path.join(dataDir, LOCAL_KEYRING_FILE), 'utf8');
    const outcome = await retireOutcome('2', dataDir, url);
    expect(outcome.code).not.toBe(0);
    expect(outcome.text).toContain('primary');
    expect(readFileSync(path.join(dataDir, LOCAL_KEYRING_FILE), 'utf8')).toBe(before);
  });

  test('refuses a version that is not in the key ring', async () => {
    const dataDir = tempDir();
    const { url } = freshSchemaUrl();
    await main(['rotate'], { DATA_DIR: dataDir, DATABASE_URL: database.url }, captureIo());
    const before = readFileSync(path.join(dataDir, LOCAL_KEYRING_FILE), 'utf8');
    const outcome = await retireOutcome('7', dataDir, url);
    expect(outcome.code).not.toBe(0);
    expect(outcome.text).toContain('not in the key ring');
    expect(readFileSync(path.join(dataDir, LOCAL_KEYRING_FILE), 'utf8')).toBe(before);
  });
});

describe('key-ring usage errors', () => {
  test.each([
    { argv: [] as string[] },
    { argv: ['spin'] },
    { argv: ['retire'] },
    { argv: ['retire', '--version', '0'] },
    { argv: ['retire', '--version', 'abc'] },
    { argv: ['retire', '--version', '1.5'] },
    { argv: ['rotate', '--force'] },
  ])('exits 2 with the usage on $argv, touching no key ring', async ({ argv }) => {
    const dataDir = tempDir();
    const io = captureIo();
    expect(await main(argv, { DATA_DIR: dataDir }, io)).toBe(2);
    expect(io.err).toContain('Usage: key-ring rotate | retire --version N | list');
    expect(existsSync(path.join(dataDir, LOCAL_KEYRING_FILE))).toBe(false);
  });

  test('exits 2 naming the variable on invalid configuration', async () => {
    const dataDir = tempDir();
    const io = captureIo();
    expect(await main(['rotate'], { DATA_DIR: dataDir, DATABASE_URL: 'mysql://localhost/vault' }, io)).toBe(2);
    expect(io.err).toContain('DATABASE_URL');
    expect(existsSync(path.join(dataDir, LOCAL_KEYRING_FILE))).toBe(false);
  });
});

describe('key-ring with KMS_KEY_NAME set', () => {
  test.each([{ argv: ['rotate'] }, { argv: ['retire', '--version', '1'] }])(
    'explains that $argv happens in Cloud KMS and exits 2 without creating a local key ring',
    async ({ argv }) => {
      const dataDir = tempDir();
      const io = captureIo();
      expect(await main(argv, { DATA_DIR: dataDir, KMS_KEY_NAME }, io)).toBe(2);
      expect(io.err).toContain('Cloud KMS');
      expect(io.err).toContain('secrets:rewrap');
      expect(existsSync(path.join(dataDir, LOCAL_KEYRING_FILE))).toBe(false);
    },
  );
});

describe('a running application and a rotation made by the CLI', () => {
  let vault: TestApp;
  let dataDir: string;
  let table: string;

  beforeAll(async () => {
    dataDir = tempDir();
    const fresh = freshSchemaUrl();
    table = fresh.table;
    vault = await startTestApp({ databaseUrl: fresh.url, dataDir });
  });

  afterAll(async () => {
    await vault?.stop();
  });

  /** The running application sees another process's rotation within the key ring's recheck interval (1 s), usually at once. */
  const noticedBy = (running: TestApp, keyId: string) =>
    eventually(async () => (await running.app.keyService.primaryKeyId()) === keyId, `the application to use ${keyId}`, 1_500);

  const keyIdOf = async (id: string) =>
    (await database.query<{ secret_key_id: string }>(`SELECT secret_key_id FROM ${table} WHERE id = $1`, [id]))[0].secret_key_id;

  test('stores a credential created after `rotate` under local:2 without a restart, and the older one still opens', async () => {
    const admin = anAdmin(vault);
    const olderInput = aCredentialInput({ auth: apiKeyAuth() });
    const older = await admin.created(olderInput);
    expect(await keyIdOf(older.id)).toBe('local:1');

    expect(await main(['rotate'], { DATA_DIR: dataDir, DATABASE_URL: database.url }, captureIo())).toBe(0);
    await noticedBy(vault, 'local:2');

    const newer = await admin.created(aCredentialInput());
    expect(await keyIdOf(newer.id)).toBe('local:2');
    expect((await openSecret(vault, older.organizationId, older.id))?.payload).toEqual(expectedSecretPayload(olderInput.auth!));
  });

  test('stores a secret rotated through the API after `rotate` under the new primary', async () => {
    const admin = anAdmin(vault);
    const created = await admin.created(aCredentialInput());
    expect(await main(['rotate'], { DATA_DIR: dataDir, DATABASE_URL: database.url }, captureIo())).toBe(0);
    const primary = `local:${(await LocalKeyring.open(dataDir, dev)).primaryVersion}`;
    await noticedBy(vault, primary);
    const auth = apiKeyAuth();
    const response = await admin.update(created.id, { auth });
    expect(response.body.errors).toBeUndefined();
    expect(await keyIdOf(created.id)).toBe(primary);
    expect((await openSecret(vault, created.organizationId, created.id))?.payload).toEqual(expectedSecretPayload(auth));
  });
});
