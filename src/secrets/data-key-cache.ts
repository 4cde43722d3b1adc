// An in-memory cache of unwrapped data keys, so that opening the same secret again and again does
// not cost a key-service call each time. It is keyed by what is stored (the wrapping key id, the
// wrapped key bytes and the AAD; see dataKeyCacheKey), never by credential id, so a rotation or a
// re-wrap, which stores new bytes, misses at once. Every limit evicts, and eviction zeroes the key:
//
// - age: a data key is kept at most maxAgeMs after the unwrap that loaded it (an idle timer
//   sweeps expired keys too, so they do not linger in memory without traffic);
// - uses: one loaded data key serves at most maxUses unwraps, the one that loaded it included;
// - entries: at most maxEntries keys are kept; a load beyond that evicts the key loaded longest
//   ago (oldest-first, not least-recently-used: every key expires by age anyway, and the oldest is
//   the closest to expiring).
//
// Concurrent misses for one key make one load (single flight); its waiters share it, at most
// maxUses of them: the rest wait for a load of their own. A failed load is never cached: each of
// its waiters gets the error, and the next call loads again. Callers always get a fresh copy,
// which they may zero; the cached buffer itself never leaves this module.
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { recordCacheLookup } from '../metrics/metrics';

export interface DataKeyCacheOptions {
  /** How long a data key is kept after the unwrap that loaded it, in milliseconds (default 5 minutes). */
  maxAgeMs?: number;
  /** How many unwraps one loaded data key serves, the one that loaded it included (default 10,000). */
  maxUses?: number;
  /** How many data keys are kept at most; beyond that the one loaded longest ago is evicted (default 1,000). */
  maxEntries?: number;
  /** The clock, in milliseconds. Monotonic by default (performance.now); tests inject their own. */
  now?: () => number;
}

export const DATA_KEY_CACHE_DEFAULTS = { maxAgeMs: 5 * 60_000, maxUses: 10_000, maxEntries: 1_000 } as const;

/** setTimeout's longest delay; a longer one fires at once. */
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;
const KEY_CONTEXT = Buffer.from('credential-vault/v1/data-key-cache', 'utf8');

/**
 * The cache key of a stored data key: SHA-256 over the key id, the wrapped key and the AAD, each
 * preceded by its length, so that no two different triples share a key (no field boundary can be
 * moved) and the map holds 44 characters per entry however large the AAD.
 */
export function dataKeyCacheKey(keyId: string, wrappedKey: Uint8Array, aad: Uint8Array): string {
  const hash = createHash('sha256').update(KEY_CONTEXT);
  for (const part of [Buffer.from(keyId, 'utf8'), wrappedKey, aad]) {
    const length = Buffer.alloc(6);
    length.writeUIntBE(part.length, 0, 6);
    hash.update(length).update(part);
  }
  return hash.digest('base64');
}

interface Entry {
  /** The cached data key: handed out only as copies, zeroed on eviction. */
  key: Buffer;
  loadedAt: number;
  uses: number;
}

interface Waiter {
  resolve(key: Buffer): void;
  reject(error: unknown): void;
}

interface Flight {
  waiters: Waiter[];
}

function checkLimit(name: string, value: number, integer: boolean): number {
  if (!(Number.isFinite(value) && value > 0 && (!integer || Number.isSafeInteger(value)))) {
    throw new RangeError(`dataKeyCache.${name} must be a positive ${integer ? 'integer' : 'number'}, got ${String(value)}`);
  }
  return value;
}

export class DataKeyCache {
  readonly maxAgeMs: number;
  readonly maxUses: number;
  readonly maxEntries: number;
  private readonly now: () => number;
  /** In load order, oldest first (a Map iterates in insertion order). */
  private readonly entries = new Map<string, Entry>();
  private readonly flights = new Map<string, Flight>();
  /** Bumped by clear(): a load that started before does not go into the cache. */
  private generation = 0;
  private sweepTimer?: NodeJS.Timeout;

  constructor(options: DataKeyCacheOptions = {}) {
    this.maxAgeMs = checkLimit('maxAgeMs', options.maxAgeMs ?? DATA_KEY_CACHE_DEFAULTS.maxAgeMs, false);
    this.maxUses = checkLimit('maxUses', options.maxUses ?? DATA_KEY_CACHE_DEFAULTS.maxUses, true);
    this.maxEntries = checkLimit('maxEntries', options.maxEntries ?? DATA_KEY_CACHE_DEFAULTS.maxEntries, true);
    this.now = options.now ?? (() => performance.now());
  }

  /** How many data keys are held now. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * A copy of the data key cached under `cacheKey`, or of what `load` returns for it. `load` must
   * return a buffer of its own: the cache keeps it and zeroes it on eviction.
   */
  get(cacheKey: string, load: () => Promise<Buffer>): Promise<Buffer> {
    this.sweep();
    const entry = this.entries.get(cacheKey);
    const hit = entry !== undefined && !this.expired(entry);
    recordCacheLookup('kms_data_key', hit);
    if (hit) return Promise.resolve(this.use(cacheKey, entry));
    if (entry) this.evict(cacheKey, entry); // expired out of load order (a clock that went back)
    return new Promise<Buffer>((resolve, reject) => this.join(cacheKey, load, { resolve, reject }));
  }

  /** Evicts, zeroing them, the data keys whose age is up. Called on every get and by an idle timer. */
  sweep(): void {
    for (const [cacheKey, entry] of this.entries) {
      if (!this.expired(entry)) break; // load order: the rest are younger
      this.evict(cacheKey, entry);
    }
  }

  /** Zeroes and forgets every data key; loads in flight still answer their callers but are not cached. */
  clear(): void {
    this.generation += 1;
    for (const entry of this.entries.values()) entry.key.fill(0);
    this.entries.clear();
    this.flights.clear();
    clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
  }

  private expired(entry: Entry): boolean {
    return this.now() - entry.loadedAt >= this.maxAgeMs;
  }

  private use(cacheKey: string, entry: Entry): Buffer {
    entry.uses += 1;
    const copy = Buffer.from(entry.key);
    if (entry.uses >= this.maxUses) this.evict(cacheKey, entry);
    return copy;
  }

  private evict(cacheKey: string, entry: Entry): void {
    if (this.entries.get(cacheKey) === entry) this.entries.delete(cacheKey);
    entry.key.fill(0);
  }

  private join(cacheKey: string, load: () => Promise<Buffer>, ...waiters: Waiter[]): void {
    const flight = this.flights.get(cacheKey);
    if (flight) {
      flight.waiters.push(...waiters);
      return;
    }
    const started: Flight = { waiters };
    this.flights.set(cacheKey, started);
    const generation = this.generation;
    // Called on the next tick, so a load that throws at once rejects like one that fails later.
    void Promise.resolve()
      .then(load)
      .then(
        (key) => this.land(cacheKey, started, generation, load, key),
        (error: unknown) => {
          if (this.flights.get(cacheKey) === started) this.flights.delete(cacheKey);
          for (const waiter of started.waiters) waiter.reject(error);
        },
      );
  }

  private land(cacheKey: string, flight: Flight, generation: number, load: () => Promise<Buffer>, key: Buffer): void {
    if (this.flights.get(cacheKey) === flight) this.flights.delete(cacheKey);
    // Copies are made here, synchronously: nothing can evict and zero `key` before every served waiter has its own.
    const served = flight.waiters.slice(0, this.maxUses);
    const waiting = flight.waiters.slice(this.maxUses);
    for (const waiter of served) waiter.resolve(Buffer.from(key));
    if (waiting.length > 0) {
      // More callers than one data key may serve: the rest get a load of their own.
      key.fill(0);
      this.join(cacheKey, load, ...waiting);
      return;
    }
    if (generation !== this.generation || served.length >= this.maxUses) {
      key.fill(0);
      return;
    }
    const previous = this.entries.get(cacheKey);
    if (previous) this.evict(cacheKey, previous);
    for (const [oldestKey, oldest] of this.entries) {
      if (this.entries.size < this.maxEntries) break;
      this.evict(oldestKey, oldest);
    }
    this.entries.set(cacheKey, { key, loadedAt: this.now(), uses: served.length });
    this.scheduleSweep();
  }

  /** One timer, for the oldest key's expiry; unref'd, so it never keeps the process alive. */
  private scheduleSweep(): void {
    if (this.sweepTimer) return;
    const oldest = this.entries.values().next();
    if (oldest.done) return;
    const delay = Math.min(Math.max(oldest.value.loadedAt + this.maxAgeMs - this.now(), 0), MAX_TIMER_DELAY_MS);
    this.sweepTimer = setTimeout(() => {
      this.sweepTimer = undefined;
      this.sweep();
      this.scheduleSweep();
    }, delay);
    this.sweepTimer.unref();
  }
}
