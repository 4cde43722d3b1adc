// Development key service: versioned AES-256 wrapping keys kept in <dataDir>/keyring.json. It stands
// in for Cloud KMS on a laptop or in CI and refuses to run in production, where the keys would sit
// on the same disk as the data they protect.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { errnoCode, openIfExistsSync, PRIVATE_FILE_MODE, publishExclusiveSync, replaceFileSync } from '../files/atomic-file';
import { AEAD_KEY_BYTES, AEAD_NONCE_BYTES, AEAD_TAG_BYTES, DecryptionError, openAead, sealAead } from './aead';
import type { KeyService, WrappedDataKey } from './key-service';

export const LOCAL_KEYRING_FILE = 'keyring.json';
export const LOCAL_KEY_ID_PREFIX = 'local:';

export interface LocalKeyringOptions {
  production: boolean;
  /**
   * Longest time a rotation made by another process (`npm run keys:rotate`) can go unnoticed when
   * the directory watcher misses it: at most one stat() of the file per this many ms. Default 1 s.
   */
  recheckIntervalMs?: number;
  /** Watch the directory for changes to the file (default true); without it, only the interval notices. */
  watch?: boolean;
}

const DEFAULT_RECHECK_INTERVAL_MS = 1_000;

/** What versions() reports: everything about a key version except the key. */
export interface KeyVersionInfo {
  version: number;
  createdAt: string;
  primary: boolean;
}

/** The key id names no version in the ring, or is not a local key id at all. Never carries key bytes. */
export class UnknownKeyIdError extends Error {
  constructor(
    readonly keyId: string,
    detail: string,
  ) {
    super(`Unknown key id ${quote(keyId)}: ${detail}`);
    this.name = 'UnknownKeyIdError';
  }
}

interface RingKey {
  version: number;
  key: Buffer;
  createdAt: string;
}

interface Ring {
  primary: number;
  keys: Map<number, RingKey>;
}

/** On-disk shape of keyring.json. */
interface RingFile {
  primary: number;
  keys: { version: number; key: string; createdAt: string }[];
}

const DIR_MODE = 0o700;

export class LocalKeyring implements KeyService {
  readonly name = 'local-keyring';
  private loadedMtimeMs = -1;
  private loadedSize = -1;
  /** Set when the watcher saw the file change, and at first: the next write looks at the file. */
  private stale = true;
  private checkedAt = 0;
  private readonly recheckIntervalMs: number;
  private watcher: fs.FSWatcher | undefined;

  private constructor(
    /** Absolute path of keyring.json. */
    readonly filePath: string,
    private ring: Ring,
    options: LocalKeyringOptions,
  ) {
    this.recheckIntervalMs = options.recheckIntervalMs ?? DEFAULT_RECHECK_INTERVAL_MS;
    if (options.watch !== false) this.watcher = watchRingFile(filePath, () => (this.stale = true));
  }

  /**
   * Loads the key ring under dataDir, creating it (with one key) on first use. Two processes opening a
   * fresh directory at once end up with the same ring: the file is published with link(2), which
   * fails when the name exists, so the first creator wins and the others read what it wrote.
   */
  static async open(dataDir: string, options: LocalKeyringOptions): Promise<LocalKeyring> {
    if (options.production) {
      throw new Error('The local key ring is for development only; set KMS_KEY_NAME to use Cloud KMS in production');
    }
    const dir = path.resolve(dataDir);
    await fs.promises.mkdir(dir, { recursive: true, mode: DIR_MODE });
    const filePath = path.join(dir, LOCAL_KEYRING_FILE);

    const existing = readRing(filePath);
    if (existing) return new LocalKeyring(filePath, existing, options);

    const fresh: Ring = { primary: 1, keys: new Map([[1, newKey(1)]]) };
    if (publishExclusiveSync(filePath, serialize(fresh))) return new LocalKeyring(filePath, fresh, options);

    // Another process created the ring between our read and our link: use theirs.
    zeroRing(fresh);
    const winner = readRing(filePath);
    if (!winner) throw new Error(`Key ring ${filePath} vanished while it was being created`);
    return new LocalKeyring(filePath, winner, options);
  }

  get primaryVersion(): number {
    return this.ring.primary;
  }

  versions(): KeyVersionInfo[] {
    return [...this.ring.keys.values()]
      .sort((a, b) => a.version - b.version)
      .map(({ version, createdAt }) => ({ version, createdAt, primary: version === this.ring.primary }));
  }

  /** Adds a new key version and makes it primary; older versions keep unwrapping. Returns the new version. */
  rotate(): number {
    return this.withFileLock(() => {
      // Start from the file, not memory, so a rotation done by another process is not overwritten.
      const current = this.reload();
      const version = Math.max(...current.keys.keys()) + 1;
      const keys = new Map(current.keys);
      keys.set(version, newKey(version));
      this.replace({ primary: version, keys });
      return version;
    });
  }

  /** Removes a non-primary key version. Data keys it wrapped can no longer be unwrapped. */
  retire(version: number): void {
    this.withFileLock(() => {
      const current = this.reload();
      if (version === current.primary) {
        throw new Error(`Cannot retire key version ${version}: it is the primary version; rotate first`);
      }
      const retired = current.keys.get(version);
      if (!retired) throw new Error(`Cannot retire key version ${String(version)}: it is not in the key ring ${this.filePath}`);
      const keys = new Map(current.keys);
      keys.delete(version);
      // replace() wipes the retired key's buffer, since the new ring no longer holds it.
      this.replace({ primary: current.primary, keys });
    });
  }

  async wrap(dataKey: Buffer, aad: Buffer): Promise<WrappedDataKey> {
    await this.followRotation();
    const primary = this.ring.keys.get(this.ring.primary);
    if (!primary) throw new Error(`Key ring ${this.filePath} has no primary key`);
    const { nonce, ciphertext } = sealAead(primary.key, dataKey, aad);
    return { keyId: `${LOCAL_KEY_ID_PREFIX}${primary.version}`, wrappedKey: Buffer.concat([nonce, ciphertext]) };
  }

  async unwrap(wrapped: WrappedDataKey, aad: Buffer): Promise<Buffer> {
    const version = parseKeyId(wrapped.keyId);
    let entry = this.ring.keys.get(version);
    if (!entry) {
      // Another process (the rotation CLI) may have added the version since this one loaded the ring.
      const reloaded = readRing(this.filePath);
      if (reloaded) this.swap(reloaded);
      entry = this.ring.keys.get(version);
    }
    if (!entry) {
      throw new UnknownKeyIdError(
        wrapped.keyId,
        `version ${version} is not in the key ring ${this.filePath} (retired, or written with another key ring)`,
      );
    }
    const bytes = wrapped.wrappedKey;
    if (bytes.length < AEAD_NONCE_BYTES + AEAD_TAG_BYTES) throw new DecryptionError('wrapped key is too short');
    return openAead(entry.key, bytes.subarray(0, AEAD_NONCE_BYTES), bytes.subarray(AEAD_NONCE_BYTES), aad);
  }

  async checkReady(): Promise<void> {
    if (!this.ring.keys.has(this.ring.primary)) throw new Error(`Key ring ${this.filePath} has no primary key`);
  }

  async primaryKeyId(): Promise<string> {
    await this.followRotation();
    return `${LOCAL_KEY_ID_PREFIX}${this.ring.primary}`;
  }

  /** Stops watching the file. The ring keeps working, noticing other processes' rotations by the interval alone. */
  async close(): Promise<void> {
    this.watcher?.close();
    this.watcher = undefined;
  }

  /**
   * `npm run keys:rotate` runs in another process: a changed file means a new primary, which
   * every later wrap must use. The directory watcher marks the ring stale as soon as the file is
   * replaced; in case it misses that (some file systems never report), the file is stat()ed at
   * most once per recheck interval. A write between the two costs no file-system call.
   */
  private async followRotation(): Promise<void> {
    const now = performance.now();
    if (!this.stale && now - this.checkedAt < this.recheckIntervalMs) return;
    this.stale = false;
    this.checkedAt = now;
    const { mtimeMs, size } = await fs.promises.stat(this.filePath);
    if (mtimeMs === this.loadedMtimeMs && size === this.loadedSize) return;
    this.reload();
    this.loadedMtimeMs = mtimeMs;
    this.loadedSize = size;
  }

  private reload(): Ring {
    const ring = readRing(this.filePath);
    if (!ring) throw new Error(`Key ring ${this.filePath} is missing`);
    this.swap(ring);
    return ring;
  }

  /** Writes the ring atomically (temp file + rename) and only then adopts it in memory. */
  private replace(next: Ring): void {
    replaceFileSync(this.filePath, serialize(next));
    this.swap(next);
  }

  /** Installs a new in-memory ring and wipes key buffers the new one does not share. */
  private swap(next: Ring): void {
    const previous = this.ring;
    this.ring = next;
    const kept = new Set([...next.keys.values()].map((entry) => entry.key));
    for (const entry of previous.keys.values()) if (!kept.has(entry.key)) entry.key.fill(0);
  }

  /** Serialises rotate/retire across processes; a lost update here would delete a key for good. */
  private withFileLock<T>(action: () => T): T {
    const lockPath = `${this.filePath}.lock`;
    let fd: number;
    try {
      fd = fs.openSync(lockPath, 'wx', PRIVATE_FILE_MODE);
    } catch (error) {
      if (errnoCode(error) === 'EEXIST') {
        throw new Error(`Another process is changing the key ring (lock file ${lockPath} exists); if none is, delete the lock file`, {
          cause: error,
        });
      }
      throw error;
    }
    try {
      fs.writeSync(fd, String(process.pid));
      return action();
    } finally {
      fs.closeSync(fd);
      fs.rmSync(lockPath, { force: true });
    }
  }
}

/**
 * Calls onChange whenever keyring.json in its directory is written or replaced (rotations rename a
 * new file over it). The watcher never keeps the process alive; where the platform cannot watch,
 * there is none and the recheck interval alone notices.
 */
function watchRingFile(filePath: string, onChange: () => void): fs.FSWatcher | undefined {
  const name = path.basename(filePath);
  try {
    const watcher = fs.watch(path.dirname(filePath), { persistent: false }, (_event, changed) => {
      if (changed === null || changed === name) onChange();
    });
    // A failed watcher (the directory removed, inotify limits) stops reporting; the interval takes over.
    watcher.on('error', () => {
      onChange();
      watcher.close();
    });
    return watcher;
  } catch {
    return undefined;
  }
}

function newKey(version: number): RingKey {
  return { version, key: randomBytes(AEAD_KEY_BYTES), createdAt: new Date().toISOString() };
}

function zeroRing(ring: Ring): void {
  for (const entry of ring.keys.values()) entry.key.fill(0);
}

function quote(value: string): string {
  // Key ids come from stored rows; keep a corrupt one from flooding the log line.
  return JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}...` : value);
}

function parseKeyId(keyId: string): number {
  const match = /^local:([1-9][0-9]{0,8})$/.exec(keyId);
  if (!match) throw new UnknownKeyIdError(keyId, `the local key ring only knows ids of the form ${LOCAL_KEY_ID_PREFIX}<version>`);
  return Number(match[1]);
}

function serialize(ring: Ring): string {
  const file: RingFile = {
    primary: ring.primary,
    keys: [...ring.keys.values()]
      .sort((a, b) => a.version - b.version)
      .map(({ version, key, createdAt }) => ({ version, key: key.toString('base64'), createdAt })),
  };
  return `${JSON.stringify(file, null, 2)}\n`;
}

/** Validates keyring.json. Messages name the file and the problem, never a key value. */
function parseRing(text: string, filePath: string): Ring {
  const fail = (problem: string): never => {
    throw new Error(`Key ring ${filePath} is malformed: ${problem}`);
  };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    // JSON.parse quotes the text around the error, which here would be key material.
    return fail('not valid JSON');
  }
  if (!isObject(data)) return fail('expected a JSON object');
  const { primary, keys } = data;
  if (!Array.isArray(keys) || keys.length === 0) return fail('"keys" must be a non-empty array');
  const ring: Ring = { primary: 0, keys: new Map() };
  for (const [index, item] of keys.entries()) {
    if (!isObject(item)) return fail(`keys[${index}] must be an object`);
    const { version, key, createdAt } = item;
    if (!isVersion(version)) return fail(`keys[${index}].version must be a positive integer`);
    if (ring.keys.has(version)) return fail(`version ${version} appears twice`);
    if (typeof createdAt !== 'string') return fail(`keys[${index}].createdAt must be a string`);
    const bytes = typeof key === 'string' ? Buffer.from(key, 'base64') : undefined;
    // Buffer.from(…, 'base64') skips junk silently; the round trip catches a damaged value.
    if (!bytes || bytes.length !== AEAD_KEY_BYTES || bytes.toString('base64') !== key) {
      return fail(`keys[${index}].key must be ${AEAD_KEY_BYTES} bytes in base64`);
    }
    ring.keys.set(version, { version, key: bytes, createdAt });
  }
  if (!isVersion(primary) || !ring.keys.has(primary)) return fail('"primary" must name one of the key versions');
  ring.primary = primary;
  return ring;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isVersion(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

function checkFile(stat: fs.Stats, filePath: string): void {
  if (!stat.isFile()) throw new Error(`Key ring ${filePath} is not a regular file`);
  if ((stat.mode & 0o077) !== 0) {
    const mode = (stat.mode & 0o777).toString(8).padStart(3, '0');
    throw new Error(`Refusing to load key ring ${filePath}: it is accessible by group or others (mode ${mode}); run chmod 600 ${filePath}`);
  }
}

/** Reads and validates the ring; undefined when the file does not exist. */
function readRing(filePath: string): Ring | undefined {
  const fd = openIfExistsSync(filePath);
  if (fd === undefined) return undefined;
  try {
    checkFile(fs.fstatSync(fd), filePath);
    return parseRing(fs.readFileSync(fd, 'utf8'), filePath);
  } finally {
    fs.closeSync(fd);
  }
}
