// The in-memory cache of unwrapped data keys on its own, with a manual clock: keys by what is
// stored, copies handed out, age and use limits, oldest-first eviction beyond maxEntries, zeroing
// on every eviction (seen through the very buffer a load handed over), single flight, and failed
// loads never cached.
import { randomBytes } from 'node:crypto';
import { DATA_KEY_CACHE_DEFAULTS, DataKeyCache, type DataKeyCacheOptions, dataKeyCacheKey } from '../../../src/secrets/data-key-cache';

const MAX_AGE_MS = 1000;

/** A clock the test moves by hand. */
function manualClock(start = 10_000) {
  let time = start;
  return {
    now: () => time,
    advance(ms: number): void {
      time += ms;
    },
  };
}

/**
 * A loader that hands over a fresh random key per call: `loaded` holds the very buffers handed over
 * (the cache keeps them, so a test sees them zeroed), `values` a copy of each as it was.
 */
function keyLoader() {
  const loaded: Buffer[] = [];
  const values: Buffer[] = [];
  const load = jest.fn(async () => {
    const key = randomBytes(32);
    loaded.push(key);
    values.push(Buffer.from(key));
    return key;
  });
  return { load, loaded, values };
}

/** Lets queued promise callbacks run (a load starts on the tick after get()). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A loader whose answers the test releases by hand, to hold a load in flight. */
function deferredLoader() {
  const pending: { resolve(key: Buffer): void; reject(error: unknown): void }[] = [];
  const load = jest.fn(() => new Promise<Buffer>((resolve, reject) => pending.push({ resolve, reject })));
  return { load, pending };
}

const isZero = (buffer: Buffer) => buffer.every((byte) => byte === 0);

let clock: ReturnType<typeof manualClock>;
const caches: DataKeyCache[] = [];

function cacheWith(options: DataKeyCacheOptions = {}): DataKeyCache {
  const cache = new DataKeyCache({ maxAgeMs: MAX_AGE_MS, maxUses: 100, maxEntries: 10, now: clock.now, ...options });
  caches.push(cache);
  return cache;
}

beforeEach(() => {
  clock = manualClock();
});

afterEach(() => {
  for (const cache of caches.splice(0)) cache.clear();
  jest.useRealTimers();
});

describe('dataKeyCacheKey', () => {
  const wrapped = Buffer.from('wrapped-key-bytes');
  const aad = Buffer.from('["credential-vault/v1/credential-secret","org","cred",1,"API_KEY"]');
  const keyId = 'projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1';

  test('is the same for the same stored triple', () => {
    expect(dataKeyCacheKey(keyId, Buffer.from(wrapped), Buffer.from(aad))).toBe(dataKeyCacheKey(keyId, wrapped, aad));
  });

  test('differs when the key id, the wrapped key or the AAD differs', () => {
    const base = dataKeyCacheKey(keyId, wrapped, aad);
    const flipped = Buffer.from(wrapped);
    flipped[0] ^= 1;
    const keys = [
      base,
      dataKeyCacheKey(keyId.replace(/1$/, '2'), wrapped, aad),
      dataKeyCacheKey(keyId, flipped, aad),
      dataKeyCacheKey(keyId, wrapped, Buffer.from(aad.toString().replace('",1,"', '",2,"'))),
    ];
    expect(new Set(keys).size).toBe(4);
  });

  test('cannot be forged by moving a field boundary', () => {
    const keys = [
      dataKeyCacheKey('ab', Buffer.from('c'), Buffer.from('d')),
      dataKeyCacheKey('a', Buffer.from('bc'), Buffer.from('d')),
      dataKeyCacheKey('a', Buffer.from('b'), Buffer.from('cd')),
      dataKeyCacheKey('abcd', Buffer.alloc(0), Buffer.alloc(0)),
    ];
    expect(new Set(keys).size).toBe(4);
  });
});

describe('DataKeyCache limits and defaults', () => {
  test('defaults to 5 minutes, 10,000 uses and 1,000 entries', () => {
    const cache = new DataKeyCache();
    caches.push(cache);
    expect(DATA_KEY_CACHE_DEFAULTS).toEqual({ maxAgeMs: 300_000, maxUses: 10_000, maxEntries: 1_000 });
    expect({ maxAgeMs: cache.maxAgeMs, maxUses: cache.maxUses, maxEntries: cache.maxEntries }).toEqual(DATA_KEY_CACHE_DEFAULTS);
  });

  test.each<[string, DataKeyCacheOptions]>([
    ['maxAgeMs', { maxAgeMs: 0 }],
    ['maxAgeMs', { maxAgeMs: Number.POSITIVE_INFINITY }],
    ['maxAgeMs', { maxAgeMs: Number.NaN }],
    ['maxUses', { maxUses: 0 }],
    ['maxUses', { maxUses: 1.5 }],
    ['maxEntries', { maxEntries: -1 }],
    ['maxEntries', { maxEntries: 0 }],
  ])('refuses a %s that is not a positive limit (%o)', (name, options) => {
    expect(() => new DataKeyCache(options)).toThrow(new RegExp(`dataKeyCache\\.${name} must be a positive`));
  });
});

describe('DataKeyCache hits and copies', () => {
  test('loads once, then answers from memory', async () => {
    const cache = cacheWith();
    const { load, loaded } = keyLoader();
    for (let i = 0; i < 20; i += 1) expect(await cache.get('k', load)).toEqual(loaded[0]);
    expect(load).toHaveBeenCalledTimes(1);
    expect(cache.size).toBe(1);
  });

  test('hands out a fresh copy every time, never the cached buffer', async () => {
    const cache = cacheWith();
    const { load, loaded } = keyLoader();
    const first = await cache.get('k', load);
    const second = await cache.get('k', load);
    expect(first).not.toBe(loaded[0]);
    expect(second).not.toBe(first);
    expect(second.buffer === first.buffer && second.byteOffset === first.byteOffset).toBe(false);
  });

  test('a caller zeroing or changing its copy does not touch the cached key', async () => {
    const cache = cacheWith();
    const { load } = keyLoader();
    const first = await cache.get('k', load);
    const expected = Buffer.from(first);
    first.fill(0);
    const second = await cache.get('k', load);
    second[0] ^= 0xff;
    expect(await cache.get('k', load)).toEqual(expected);
    expect(load).toHaveBeenCalledTimes(1);
  });

  test('keeps different cache keys apart', async () => {
    const cache = cacheWith();
    const { load, loaded } = keyLoader();
    const a = await cache.get('a', load);
    const b = await cache.get('b', load);
    expect(a).toEqual(loaded[0]);
    expect(b).toEqual(loaded[1]);
    expect(a).not.toEqual(b);
    expect(await cache.get('a', load)).toEqual(loaded[0]);
    expect(load).toHaveBeenCalledTimes(2);
  });
});

describe('DataKeyCache age limit', () => {
  test('serves a key until maxAgeMs after its load, then loads again and zeroes the old one', async () => {
    const cache = cacheWith();
    const { load, loaded } = keyLoader();
    await cache.get('k', load);
    clock.advance(MAX_AGE_MS - 1);
    expect(await cache.get('k', load)).toEqual(loaded[0]);
    expect(load).toHaveBeenCalledTimes(1);
    clock.advance(1);
    expect(await cache.get('k', load)).toEqual(loaded[1]);
    expect(load).toHaveBeenCalledTimes(2);
    expect(isZero(loaded[0])).toBe(true);
    expect(isZero(loaded[1])).toBe(false);
  });

  test('measures age from the load, not from the last use', async () => {
    const cache = cacheWith();
    const { load } = keyLoader();
    await cache.get('k', load);
    for (let i = 0; i < 4; i += 1) {
      clock.advance(MAX_AGE_MS / 4);
      await cache.get('k', load);
    }
    expect(load).toHaveBeenCalledTimes(2);
  });

  test('zeroes expired keys on any access, not only when their own key is asked for', async () => {
    const cache = cacheWith();
    const { load, loaded } = keyLoader();
    await cache.get('old', load);
    clock.advance(MAX_AGE_MS / 2);
    await cache.get('young', load);
    clock.advance(MAX_AGE_MS / 2);
    await cache.get('young', load);
    expect(isZero(loaded[0])).toBe(true);
    expect(isZero(loaded[1])).toBe(false);
    expect(cache.size).toBe(1);
  });

  test('an idle timer zeroes expired keys without any further access', async () => {
    jest.useFakeTimers();
    const cache = cacheWith({ now: () => Date.now() });
    const { load, loaded } = keyLoader();
    await cache.get('k', load);
    jest.advanceTimersByTime(MAX_AGE_MS - 1);
    expect(isZero(loaded[0])).toBe(false);
    jest.advanceTimersByTime(1);
    expect(isZero(loaded[0])).toBe(true);
    expect(cache.size).toBe(0);
  });
});

describe('DataKeyCache use limit', () => {
  test('serves maxUses unwraps per load, the loading one included, and zeroes the key at the last', async () => {
    const cache = cacheWith({ maxUses: 3 });
    const { load, loaded, values } = keyLoader();
    for (let i = 0; i < 3; i += 1) expect(await cache.get('k', load)).toEqual(values[0]);
    expect(load).toHaveBeenCalledTimes(1);
    expect(isZero(loaded[0])).toBe(true); // at once, not at the next access
    expect(cache.size).toBe(0);
    expect(await cache.get('k', load)).toEqual(values[1]);
    expect(load).toHaveBeenCalledTimes(2);
  });

  test('with maxUses 1 every get loads and nothing is kept', async () => {
    const cache = cacheWith({ maxUses: 1 });
    const { load, loaded } = keyLoader();
    for (let i = 0; i < 3; i += 1) await cache.get('k', load);
    expect(load).toHaveBeenCalledTimes(3);
    expect(loaded.every(isZero)).toBe(true);
    expect(cache.size).toBe(0);
  });
});

describe('DataKeyCache entry limit (oldest-first eviction)', () => {
  test('evicts and zeroes the key loaded longest ago, even if it was used last', async () => {
    const cache = cacheWith({ maxEntries: 2 });
    const { load, loaded } = keyLoader();
    await cache.get('a', load);
    clock.advance(1);
    await cache.get('b', load);
    await cache.get('a', load); // a recent use does not save it: eviction is by load order
    await cache.get('c', load);
    expect(cache.size).toBe(2);
    expect(isZero(loaded[0])).toBe(true);
    expect(isZero(loaded[1]) || isZero(loaded[2])).toBe(false);
    await cache.get('b', load);
    await cache.get('c', load);
    expect(load).toHaveBeenCalledTimes(3);
    expect(await cache.get('a', load)).toEqual(loaded[3]);
    expect(load).toHaveBeenCalledTimes(4);
  });
});

describe('DataKeyCache clear()', () => {
  test('zeroes and forgets every key', async () => {
    const cache = cacheWith();
    const { load, loaded } = keyLoader();
    await cache.get('a', load);
    await cache.get('b', load);
    cache.clear();
    expect(cache.size).toBe(0);
    expect(loaded.every(isZero)).toBe(true);
    await cache.get('a', load);
    expect(load).toHaveBeenCalledTimes(3);
  });

  test('a load in flight during clear() still answers its callers but is not cached', async () => {
    const cache = cacheWith();
    const { load, pending } = deferredLoader();
    const waiting = cache.get('k', load);
    await settle();
    cache.clear();
    const key = randomBytes(32);
    const expected = Buffer.from(key);
    pending[0].resolve(key);
    expect(await waiting).toEqual(expected);
    expect(cache.size).toBe(0);
    expect(isZero(key)).toBe(true);
  });
});

describe('DataKeyCache single flight', () => {
  test('50 concurrent misses for one key make one load, and each caller gets a copy of its own', async () => {
    const cache = cacheWith();
    const { load, pending } = deferredLoader();
    const waiting = Array.from({ length: 50 }, () => cache.get('k', load));
    await settle();
    const key = randomBytes(32);
    const expected = Buffer.from(key);
    pending[0].resolve(key);
    const keys = await Promise.all(waiting);
    expect(load).toHaveBeenCalledTimes(1);
    for (const got of keys) expect(got).toEqual(expected);
    expect(new Set(keys).size).toBe(50);
    keys[0].fill(0);
    expect(keys[1]).toEqual(expected);
    expect(await cache.get('k', load)).toEqual(expected);
    expect(load).toHaveBeenCalledTimes(1);
  });

  test('concurrent misses for different keys load separately', async () => {
    const cache = cacheWith();
    const { load } = keyLoader();
    const [a, b] = await Promise.all([cache.get('a', load), cache.get('b', load)]);
    expect(load).toHaveBeenCalledTimes(2);
    expect(a).not.toEqual(b);
  });

  test('one load serves at most maxUses concurrent callers; the rest wait for a load of their own', async () => {
    const cache = cacheWith({ maxUses: 2 });
    const { load, loaded, values } = keyLoader();
    const keys = await Promise.all(Array.from({ length: 5 }, () => cache.get('k', load)));
    expect(load).toHaveBeenCalledTimes(3);
    expect(keys.map((key) => values.findIndex((candidate) => candidate.equals(key)))).toEqual([0, 0, 1, 1, 2]);
    // The first two loads served two callers each and were zeroed; the third served one and is cached.
    expect(isZero(loaded[0]) && isZero(loaded[1])).toBe(true);
    expect(await cache.get('k', load)).toEqual(values[2]); // its second and last use
    expect(load).toHaveBeenCalledTimes(3);
    expect(isZero(loaded[2])).toBe(true);
  });
});

describe('DataKeyCache failures are not cached', () => {
  test('a failed load rejects, and the next get loads again', async () => {
    const cache = cacheWith();
    const failure = new Error('key service refused');
    const key = randomBytes(32);
    const load = jest.fn<Promise<Buffer>, []>().mockRejectedValueOnce(failure).mockResolvedValueOnce(Buffer.from(key));
    await expect(cache.get('k', load)).rejects.toBe(failure);
    expect(cache.size).toBe(0);
    expect(await cache.get('k', load)).toEqual(key);
    expect(load).toHaveBeenCalledTimes(2);
  });

  test('every caller waiting on a failed load gets its error from one load', async () => {
    const cache = cacheWith();
    const { load, pending } = deferredLoader();
    const waiting = Array.from({ length: 10 }, () => cache.get('k', load));
    await settle();
    const failure = new Error('unavailable');
    pending[0].reject(failure);
    const outcomes = await Promise.allSettled(waiting);
    expect(outcomes.every((outcome) => outcome.status === 'rejected' && outcome.reason === failure)).toBe(true);
    expect(load).toHaveBeenCalledTimes(1);
    const next = cache.get('k', load);
    await settle();
    expect(load).toHaveBeenCalledTimes(2);
    pending[1].resolve(randomBytes(32));
    await expect(next).resolves.toHaveLength(32);
  });

  test('a load that throws at once rejects instead of throwing from get()', async () => {
    const cache = cacheWith();
    const failure = new Error('synchronous');
    const load = jest.fn((): Promise<Buffer> => {
      throw failure;
    });
    const result = cache.get('k', load);
    await expect(result).rejects.toBe(failure);
    expect(cache.size).toBe(0);
  });
});
