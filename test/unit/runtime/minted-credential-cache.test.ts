// The cache of minted upstream credentials: kept until shortly before they expire, one mint per
// key at a time, failures never kept, a rotation (a new secret version) a miss.
import { type Minted, MintedCredentialCache, mintedKey } from '../../../src/runtime/minted-credential-cache';

const MINUTE = 60_000;

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

function minter(time: { now: () => number }, lifetimeMs = 60 * MINUTE) {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    mint: (): Promise<Minted<string>> => {
      calls += 1;
      return Promise.resolve({ value: `token-${calls}`, expiresAt: new Date(time.now() + lifetimeMs) });
    },
  };
}

test('a second get within the lifetime is served from the cache', async () => {
  const time = clock();
  const cache = new MintedCredentialCache<string>({ now: time.now });
  const source = minter(time);
  await cache.get('c:1', source.mint);
  time.advance(30 * MINUTE);
  expect((await cache.get('c:1', source.mint)).value).toBe('token-1');
  expect(source.calls).toBe(1);
});

test('within the refresh margin of its expiry a credential is minted anew', async () => {
  const time = clock();
  const cache = new MintedCredentialCache<string>({ now: time.now, refreshBeforeMs: 5 * MINUTE });
  const source = minter(time);
  await cache.get('c:1', source.mint);
  time.advance(55 * MINUTE + 1);
  expect((await cache.get('c:1', source.mint)).value).toBe('token-2');
  expect(source.calls).toBe(2);
});

test('concurrent misses for one key make one mint', async () => {
  const time = clock();
  const cache = new MintedCredentialCache<string>({ now: time.now });
  let release: () => void = () => undefined;
  let calls = 0;
  const slow = (): Promise<Minted<string>> => {
    calls += 1;
    return new Promise((resolve) => {
      release = () => resolve({ value: 'shared', expiresAt: new Date(time.now() + 60 * MINUTE) });
    });
  };
  const pending = Array.from({ length: 50 }, () => cache.get('c:1', slow));
  release();
  const values = (await Promise.all(pending)).map((minted) => minted.value);
  expect(calls).toBe(1);
  expect(new Set(values)).toEqual(new Set(['shared']));
});

test('a failed mint is not kept: the next get mints again', async () => {
  const time = clock();
  const cache = new MintedCredentialCache<string>({ now: time.now });
  await expect(cache.get('c:1', () => Promise.reject(new Error('STS down')))).rejects.toThrow('STS down');
  const source = minter(time);
  expect((await cache.get('c:1', source.mint)).value).toBe('token-1');
});

test('another secret version is another key: a rotation is a miss', async () => {
  const time = clock();
  const cache = new MintedCredentialCache<string>({ now: time.now });
  const source = minter(time);
  await cache.get(mintedKey('c', 1), source.mint);
  await cache.get(mintedKey('c', 2), source.mint);
  expect(source.calls).toBe(2);
});

test('a credential already inside the refresh margin is handed out once, never kept', async () => {
  const time = clock();
  const cache = new MintedCredentialCache<string>({ now: time.now, refreshBeforeMs: 5 * MINUTE });
  const source = minter(time, 2 * MINUTE);
  await cache.get('c:1', source.mint);
  await cache.get('c:1', source.mint);
  expect(source.calls).toBe(2);
  expect(cache.size).toBe(0);
});

test('past maxEntries the oldest entry goes first', async () => {
  const time = clock();
  const cache = new MintedCredentialCache<string>({ now: time.now, maxEntries: 2 });
  const source = minter(time);
  await cache.get('a:1', source.mint);
  await cache.get('b:1', source.mint);
  await cache.get('c:1', source.mint);
  expect(cache.size).toBe(2);
  await cache.get('b:1', source.mint);
  expect(source.calls).toBe(3);
  await cache.get('a:1', source.mint);
  expect(source.calls).toBe(4);
});

test('forget drops every version of a credential', async () => {
  const time = clock();
  const cache = new MintedCredentialCache<string>({ now: time.now });
  const source = minter(time);
  await cache.get(mintedKey('c', 1), source.mint);
  await cache.get(mintedKey('c', 2), source.mint);
  await cache.get(mintedKey('d', 1), source.mint);
  cache.forget('c');
  expect(cache.size).toBe(1);
});
