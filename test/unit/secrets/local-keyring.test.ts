// Development key ring: file creation and permissions, persistence, rotation, retirement, key ids,
// and creation races between instances and between processes.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DecryptionError } from '../../../src/secrets/aead';
import { LOCAL_KEYRING_FILE, LocalKeyring, UnknownKeyIdError } from '../../../src/secrets/local-keyring';
import { rejectionOf } from '../../support/failures';
import { eventually, sleep } from '../../support/sleep';
import { TempDirs } from '../../support/temp-dirs';

const dev = { production: false };
const aad = Buffer.from('credential-vault/test-binding');
const tempDirs = new TempDirs('local-keyring-');
const tempDir = () => tempDirs.make();

function mode(file: string): number {
  return fs.statSync(file).mode & 0o777;
}

afterEach(() => {
  tempDirs.removeAll();
});

describe('LocalKeyring', () => {
  test('creates the data directory with mode 0700 and keyring.json with mode 0600 on first use', async () => {
    const dataDir = path.join(tempDir(), 'nested', 'data');
    const ring = await LocalKeyring.open(dataDir, dev);
    expect(ring.filePath).toBe(path.join(dataDir, LOCAL_KEYRING_FILE));
    expect(mode(dataDir)).toBe(0o700);
    expect(mode(ring.filePath)).toBe(0o600);
    expect(ring.name).toBe('local-keyring');
    expect(ring.primaryVersion).toBe(1);
  });

  test('writes versioned base64 keys and the primary version to the file', async () => {
    const ring = await LocalKeyring.open(tempDir(), dev);
    const file = JSON.parse(fs.readFileSync(ring.filePath, 'utf8')) as {
      primary: number;
      keys: { version: number; key: string; createdAt: string }[];
    };
    expect(file.primary).toBe(1);
    expect(file.keys).toHaveLength(1);
    expect(file.keys[0].version).toBe(1);
    expect(Buffer.from(file.keys[0].key, 'base64')).toHaveLength(32);
    expect(Number.isNaN(Date.parse(file.keys[0].createdAt))).toBe(false);
  });

  test('leaves no temporary files behind after creating the ring', async () => {
    const dataDir = tempDir();
    await LocalKeyring.open(dataDir, dev);
    expect(fs.readdirSync(dataDir)).toEqual([LOCAL_KEYRING_FILE]);
  });

  test('unwraps in a reopened instance what an earlier instance wrapped', async () => {
    const dataDir = tempDir();
    const dataKey = randomBytes(32);
    const wrapped = await (await LocalKeyring.open(dataDir, dev)).wrap(dataKey, aad);
    const reopened = await LocalKeyring.open(dataDir, dev);
    expect(wrapped.keyId).toBe('local:1');
    expect(await reopened.unwrap(wrapped, aad)).toEqual(dataKey);
  });

  test('returns nonce || ciphertext || tag as the wrapped key', async () => {
    const ring = await LocalKeyring.open(tempDir(), dev);
    const wrapped = await ring.wrap(randomBytes(32), aad);
    expect(wrapped.wrappedKey).toHaveLength(12 + 32 + 16);
  });

  test('fails to unwrap with different additional data', async () => {
    const ring = await LocalKeyring.open(tempDir(), dev);
    const wrapped = await ring.wrap(randomBytes(32), aad);
    await expect(ring.unwrap(wrapped, Buffer.from('credential-vault/other'))).rejects.toThrow(DecryptionError);
  });

  test('fails to unwrap a wrapped key with a flipped bit', async () => {
    const ring = await LocalKeyring.open(tempDir(), dev);
    const wrapped = await ring.wrap(randomBytes(32), aad);
    const tampered = Buffer.from(wrapped.wrappedKey);
    tampered[20] ^= 0x01;
    await expect(ring.unwrap({ keyId: wrapped.keyId, wrappedKey: tampered }, aad)).rejects.toThrow(DecryptionError);
  });

  test('fails to unwrap a wrapped key too short to hold a nonce and a tag', async () => {
    const ring = await LocalKeyring.open(tempDir(), dev);
    await expect(ring.unwrap({ keyId: 'local:1', wrappedKey: Buffer.alloc(27) }, aad)).rejects.toThrow(DecryptionError);
  });

  test('refuses to open in production and points at KMS_KEY_NAME', async () => {
    const dataDir = path.join(tempDir(), 'data');
    await expect(LocalKeyring.open(dataDir, { production: true })).rejects.toThrow(/development only.*KMS_KEY_NAME/);
    expect(fs.existsSync(dataDir)).toBe(false);
  });

  test.each([
    ['644', 0o644],
    ['640', 0o640],
    ['604', 0o604],
    ['660', 0o660],
  ])('refuses to load a key ring file with mode %s', async (_label, fileMode) => {
    const dataDir = tempDir();
    const ring = await LocalKeyring.open(dataDir, dev);
    fs.chmodSync(ring.filePath, fileMode);
    await expect(LocalKeyring.open(dataDir, dev)).rejects.toThrow(/accessible by group or others.*chmod 600/);
  });

  test('refuses a malformed key ring file without quoting its contents', async () => {
    const dataDir = tempDir();
    const ring = await LocalKeyring.open(dataDir, dev);
    const text = fs.readFileSync(ring.filePath, 'utf8');
    const key = /"key": "([^"]+)"/.exec(text)?.[1] ?? '';
    expect(key).not.toBe('');
    fs.writeFileSync(ring.filePath, text.replace('"primary"', '"primary" oops'));
    const failure = LocalKeyring.open(dataDir, dev);
    await expect(failure).rejects.toThrow(/is malformed: not valid JSON/);
    const error = await rejectionOf(failure);
    expect(String(error instanceof Error ? error.message : error)).not.toContain(key.slice(0, 12));
  });

  test('refuses a key ring file whose primary names no key version', async () => {
    const dataDir = tempDir();
    const ring = await LocalKeyring.open(dataDir, dev);
    const file = JSON.parse(fs.readFileSync(ring.filePath, 'utf8')) as { primary: number };
    fs.writeFileSync(ring.filePath, JSON.stringify({ ...file, primary: 7 }));
    await expect(LocalKeyring.open(dataDir, dev)).rejects.toThrow(/"primary" must name one of the key versions/);
  });

  test('adds a new primary version on rotate and wraps new keys with it', async () => {
    const ring = await LocalKeyring.open(tempDir(), dev);
    expect(ring.rotate()).toBe(2);
    expect(ring.primaryVersion).toBe(2);
    expect(ring.versions().map(({ version, primary }) => ({ version, primary }))).toEqual([
      { version: 1, primary: false },
      { version: 2, primary: true },
    ]);
    expect((await ring.wrap(randomBytes(32), aad)).keyId).toBe('local:2');
  });

  test('still unwraps keys wrapped by older versions after rotation', async () => {
    const dataDir = tempDir();
    const ring = await LocalKeyring.open(dataDir, dev);
    const dataKey = randomBytes(32);
    const old = await ring.wrap(dataKey, aad);
    ring.rotate();
    expect(await ring.unwrap(old, aad)).toEqual(dataKey);
    expect(await (await LocalKeyring.open(dataDir, dev)).unwrap(old, aad)).toEqual(dataKey);
  });

  test('rewrites the file with mode 0600 and no leftover temporary file on rotate', async () => {
    const dataDir = tempDir();
    const ring = await LocalKeyring.open(dataDir, dev);
    const inodeBefore = fs.statSync(ring.filePath).ino;
    ring.rotate();
    expect(mode(ring.filePath)).toBe(0o600);
    // A new inode shows the file was replaced by rename, not rewritten in place.
    expect(fs.statSync(ring.filePath).ino).not.toBe(inodeBefore);
    expect(fs.readdirSync(dataDir)).toEqual([LOCAL_KEYRING_FILE]);
  });

  test('unwraps keys wrapped under a version another instance added after this one loaded', async () => {
    const dataDir = tempDir();
    const server = await LocalKeyring.open(dataDir, dev);
    const admin = await LocalKeyring.open(dataDir, dev);
    admin.rotate();
    const dataKey = randomBytes(32);
    const wrapped = await admin.wrap(dataKey, aad);
    expect(wrapped.keyId).toBe('local:2');
    expect(await server.unwrap(wrapped, aad)).toEqual(dataKey);
  });

  test('notices a rotation by another instance through its directory watcher, long before the recheck interval', async () => {
    const dataDir = tempDir();
    const server = await LocalKeyring.open(dataDir, { ...dev, recheckIntervalMs: 3_600_000 });
    try {
      expect((await server.wrap(randomBytes(32), aad)).keyId).toBe('local:1');
      (await LocalKeyring.open(dataDir, { ...dev, watch: false })).rotate();
      await eventually(
        async () => (await server.wrap(randomBytes(32), aad)).keyId === 'local:2',
        'the watcher to report the rotation',
        2_000,
      );
    } finally {
      await server.close();
    }
  });

  test('without a watcher, notices a rotation by another instance once the recheck interval has passed, not before', async () => {
    const dataDir = tempDir();
    const server = await LocalKeyring.open(dataDir, { ...dev, watch: false, recheckIntervalMs: 200 });
    expect(await server.primaryKeyId()).toBe('local:1');
    (await LocalKeyring.open(dataDir, { ...dev, watch: false })).rotate();
    // Inside the interval the ring does not look at the file, so the older primary still wraps.
    expect((await server.wrap(randomBytes(32), aad)).keyId).toBe('local:1');
    await sleep(250);
    expect((await server.wrap(randomBytes(32), aad)).keyId).toBe('local:2');
  });

  test('makes no file-system call for writes inside the recheck interval', async () => {
    const server = await LocalKeyring.open(tempDir(), { ...dev, recheckIntervalMs: 3_600_000 });
    const stat = jest.spyOn(fs.promises, 'stat');
    const statSync = jest.spyOn(fs, 'statSync');
    const openSync = jest.spyOn(fs, 'openSync');
    try {
      // The first write looks at the file (the ring starts out stale); the next 1,000 look at nothing.
      await server.wrap(randomBytes(32), aad);
      expect(stat).toHaveBeenCalledTimes(1);
      for (const spy of [stat, statSync, openSync]) spy.mockClear();
      for (let i = 0; i < 1_000; i += 1) await server.wrap(randomBytes(32), aad);
      expect(stat).not.toHaveBeenCalled();
      expect(statSync).not.toHaveBeenCalled();
      expect(openSync).not.toHaveBeenCalled();
    } finally {
      stat.mockRestore();
      statSync.mockRestore();
      openSync.mockRestore();
      await server.close();
    }
  });

  test('keeps a rotation made by another instance when rotating again', async () => {
    const dataDir = tempDir();
    const first = await LocalKeyring.open(dataDir, dev);
    const second = await LocalKeyring.open(dataDir, dev);
    expect(first.rotate()).toBe(2);
    expect(second.rotate()).toBe(3);
    expect((await LocalKeyring.open(dataDir, dev)).versions().map((info) => info.version)).toEqual([1, 2, 3]);
  });

  test('refuses to rotate while another process holds the lock file', async () => {
    const ring = await LocalKeyring.open(tempDir(), dev);
    fs.writeFileSync(`${ring.filePath}.lock`, '12345');
    expect(() => ring.rotate()).toThrow(/lock file .* exists/);
    expect(ring.primaryVersion).toBe(1);
  });

  test('refuses to retire the primary version', async () => {
    const ring = await LocalKeyring.open(tempDir(), dev);
    ring.rotate();
    expect(() => ring.retire(2)).toThrow(/Cannot retire key version 2: it is the primary version/);
    expect(ring.versions().map((info) => info.version)).toEqual([1, 2]);
  });

  test('refuses to retire a version that is not in the ring', async () => {
    const ring = await LocalKeyring.open(tempDir(), dev);
    ring.rotate();
    expect(() => ring.retire(5)).toThrow(/Cannot retire key version 5: it is not in the key ring/);
  });

  test('fails with an error naming the key id when unwrapping under a retired version', async () => {
    const dataDir = tempDir();
    const ring = await LocalKeyring.open(dataDir, dev);
    const old = await ring.wrap(randomBytes(32), aad);
    ring.rotate();
    ring.retire(1);
    expect(ring.versions().map((info) => info.version)).toEqual([2]);
    await expect(ring.unwrap(old, aad)).rejects.toThrow(UnknownKeyIdError);
    await expect(ring.unwrap(old, aad)).rejects.toThrow(/Unknown key id "local:1": version 1 is not in the key ring/);
    await expect((await LocalKeyring.open(dataDir, dev)).unwrap(old, aad)).rejects.toThrow(UnknownKeyIdError);
  });

  test.each(['local:99', 'local:0', 'local:abc', 'local:', 'projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1', ''])(
    'rejects key id %j with an error naming it',
    async (keyId) => {
      const ring = await LocalKeyring.open(tempDir(), dev);
      const { wrappedKey } = await ring.wrap(randomBytes(32), aad);
      const failure = ring.unwrap({ keyId, wrappedKey }, aad);
      await expect(failure).rejects.toThrow(UnknownKeyIdError);
      await expect(failure).rejects.toThrow(`Unknown key id ${JSON.stringify(keyId)}`);
    },
  );

  test('resolves checkReady once loaded', async () => {
    const ring = await LocalKeyring.open(tempDir(), dev);
    await expect(ring.checkReady()).resolves.toBeUndefined();
  });

  test('ends with one ring when several instances open a fresh directory concurrently', async () => {
    const dataDir = path.join(tempDir(), 'data');
    const rings = await Promise.all([1, 2, 3, 4].map(() => LocalKeyring.open(dataDir, dev)));
    const dataKey = randomBytes(32);
    for (const writer of rings) {
      const wrapped = await writer.wrap(dataKey, aad);
      for (const reader of rings) expect(await reader.unwrap(wrapped, aad)).toEqual(dataKey);
    }
    expect(fs.readdirSync(dataDir)).toEqual([LOCAL_KEYRING_FILE]);
  });

  test('ends with one ring when several processes open a fresh directory at the same moment', async () => {
    const dataDir = path.join(tempDir(), 'data');
    const dataKey = randomBytes(32);
    // Each child transpiles the TypeScript source itself, waits for a shared start time so the
    // creations really overlap, then wraps the same data key and prints the result.
    const child = `
      const fs = require('fs');
      const ts = require(process.env.TS_PATH);
      require.extensions['.ts'] = (module, filename) => {
        const source = fs.readFileSync(filename, 'utf8');
        const options = { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true };
        module._compile(ts.transpileModule(source, { compilerOptions: options, fileName: filename }).outputText, filename);
      };
      const { LocalKeyring } = require(process.env.KEYRING_MODULE);
      (async () => {
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(process.env.START_AT) - Date.now())));
        const ring = await LocalKeyring.open(process.env.DATA_DIR, { production: false });
        const wrapped = await ring.wrap(Buffer.from(process.env.DATA_KEY, 'hex'), Buffer.from(process.env.AAD, 'hex'));
        process.stdout.write(JSON.stringify({ keyId: wrapped.keyId, wrappedKey: wrapped.wrappedKey.toString('base64') }));
      })().catch((error) => { console.error(error); process.exit(1); });
    `;
    const env = {
      ...process.env,
      TS_PATH: require.resolve('typescript'),
      KEYRING_MODULE: path.resolve(__dirname, '../../../src/secrets/local-keyring.ts'),
      DATA_DIR: dataDir,
      DATA_KEY: dataKey.toString('hex'),
      AAD: aad.toString('hex'),
      START_AT: String(Date.now() + 2000),
    };
    const run = (): Promise<string> =>
      new Promise((resolve, reject) => {
        execFile(process.execPath, ['-e', child], { env, timeout: 20000 }, (error, stdout, stderr) => {
          if (error) reject(new Error(`child failed: ${stderr || error.message}`));
          else resolve(stdout);
        });
      });
    const outputs = await Promise.all([run(), run(), run(), run()]);

    const ring = await LocalKeyring.open(dataDir, dev);
    expect(ring.versions()).toHaveLength(1);
    for (const output of outputs) {
      const parsed = JSON.parse(output) as { keyId: string; wrappedKey: string };
      expect(await ring.unwrap({ keyId: parsed.keyId, wrappedKey: Buffer.from(parsed.wrappedKey, 'base64') }, aad)).toEqual(dataKey);
    }
    expect(fs.readdirSync(dataDir)).toEqual([LOCAL_KEYRING_FILE]);
  }, 30000);
});
