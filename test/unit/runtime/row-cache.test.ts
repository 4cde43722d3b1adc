// The runtime route's row cache, driven by an in-memory change feed (the ChangeFeed contract
// itself is tested against PostgreSQL and PGlite in test/integration/change-feed.test.ts).
import type { ChangedTable, ChangeFeed, ChangeListener } from '../../../src/db/change-feed';
import { RowCache } from '../../../src/runtime/row-cache';

class ManualFeed implements Pick<ChangeFeed, 'live' | 'subscribe'> {
  live = true;
  readonly listeners = new Set<ChangeListener>();
  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  changed(table: ChangedTable, id: string): void {
    for (const listener of this.listeners) listener.changed(table, id);
  }
  setLive(live: boolean): void {
    this.live = live;
    for (const listener of this.listeners) listener.reset();
  }
}

interface Row {
  name: string;
}

const ORG = 'org-a';
const OTHER_ORG = 'org-b';

/** A loader over a map of rows that counts its calls, like a repository would answer. */
function loaderOf(rows: Map<string, Row>) {
  const calls: string[] = [];
  return {
    calls,
    load: (id: string) => () => {
      calls.push(id);
      return Promise.resolve(rows.get(id) ?? null);
    },
  };
}

function setUp(options: { maxEntries?: number; maxAgeMs?: number; now?: () => number } = {}) {
  const feed = new ManualFeed();
  const rows = new Map<string, Row>([
    ['c1', { name: 'one' }],
    ['c2', { name: 'two' }],
    ['c3', { name: 'three' }],
  ]);
  const loader = loaderOf(rows);
  const cache = new RowCache<Row>('credentials', feed, {
    maxEntries: options.maxEntries ?? 100,
    maxAgeMs: options.maxAgeMs ?? 60_000,
    now: options.now,
  });
  const get = (id: string, org = ORG) => cache.get(org, id, loader.load(id));
  return { feed, rows, loader, cache, get };
}

test('a row read once is answered from memory while the feed is live', async () => {
  const { get, loader } = setUp();

  expect(await get('c1')).toEqual({ name: 'one' });
  expect(await get('c1')).toEqual({ name: 'one' });
  expect(await get('c1')).toEqual({ name: 'one' });

  expect(loader.calls).toEqual(['c1']);
});

test("another organization's id is no row, from memory as from the database", async () => {
  const { get, loader } = setUp();
  await get('c1');

  expect(await get('c1', OTHER_ORG)).toBeNull();
  expect(loader.calls).toEqual(['c1']);
});

test('a missing row is not kept: it is looked up again next time', async () => {
  const { get, loader, rows } = setUp();
  expect(await get('nope')).toBeNull();
  rows.set('nope', { name: 'created since' });

  expect(await get('nope')).toEqual({ name: 'created since' });
  expect(loader.calls).toEqual(['nope', 'nope']);
});

test('an announced change of the row drops it; a change of another table or row does not', async () => {
  const { get, loader, rows, feed } = setUp();
  await get('c1');
  await get('c2');
  rows.set('c1', { name: 'renamed' });

  feed.changed('providers', 'c1');
  feed.changed('credentials', 'c2');
  expect(await get('c1')).toEqual({ name: 'one' });

  feed.changed('credentials', 'c1');
  expect(await get('c1')).toEqual({ name: 'renamed' });
  expect(loader.calls).toEqual(['c1', 'c2', 'c1']);
});

test('a read in flight when its row changes is answered but not kept', async () => {
  const { cache, feed, rows } = setUp();
  let release: () => void = () => undefined;
  const slowLoad = () =>
    new Promise<Row | null>((resolve) => {
      const before = rows.get('c1') ?? null;
      release = () => resolve(before);
    });
  const inFlight = cache.get(ORG, 'c1', slowLoad);
  rows.set('c1', { name: 'rotated' });
  feed.changed('credentials', 'c1');
  release();

  expect(await inFlight).toEqual({ name: 'one' });
  const loads: string[] = [];
  expect(await cache.get(ORG, 'c1', () => (loads.push('c1'), Promise.resolve(rows.get('c1') ?? null)))).toEqual({ name: 'rotated' });
  expect(loads).toEqual(['c1']);
});

test('while the feed is down every get reads through and nothing is kept; rows held before are dropped', async () => {
  const { get, loader, feed, cache } = setUp();
  await get('c1');
  expect(cache.size).toBe(1);

  feed.setLive(false);
  expect(cache.size).toBe(0);
  await get('c1');
  await get('c1');
  expect(cache.size).toBe(0);

  feed.setLive(true);
  await get('c1');
  await get('c1');
  expect(loader.calls).toEqual(['c1', 'c1', 'c1', 'c1']);
});

test('a read that began while the feed was down is not kept when it comes back meanwhile', async () => {
  const { cache, feed } = setUp();
  feed.setLive(false);
  let release: () => void = () => undefined;
  const inFlight = cache.get(ORG, 'c1', () => new Promise<Row | null>((resolve) => (release = () => resolve({ name: 'one' }))));
  feed.setLive(true);
  release();
  await inFlight;

  expect(cache.size).toBe(0);
});

test('rows older than maxAge are read again even when no change was heard', async () => {
  let now = 1_000;
  const { get, loader } = setUp({ maxAgeMs: 500, now: () => now });
  await get('c1');
  now += 499;
  await get('c1');
  now += 1;
  await get('c1');

  expect(loader.calls).toEqual(['c1', 'c1']);
});

test('at most maxEntries rows are held; the least recently used goes first', async () => {
  const { get, loader, cache } = setUp({ maxEntries: 2 });
  await get('c1');
  await get('c2');
  await get('c1');
  await get('c3');

  expect(cache.size).toBe(2);
  await get('c1');
  await get('c3');
  await get('c2');
  expect(loader.calls).toEqual(['c1', 'c2', 'c3', 'c2']);
});

test('close stops listening and forgets every row', async () => {
  const { get, feed, cache } = setUp();
  await get('c1');

  cache.close();

  expect(cache.size).toBe(0);
  expect(feed.listeners.size).toBe(0);
});
