// Rows the runtime route reads on every resolve, kept in memory so that a warm resolve makes no
// database round trip. Sealed columns may be held (ciphertext and wrapped data key: what the
// database holds too); plaintext never is. A row is dropped when the change feed announces a write
// of it, by this replica or any other, and everything is dropped and read through while the feed
// is down, since other replicas' writes cannot be heard then.
//
// A read that was in flight when its row changed must not put the old row back: each invalidation
// moves an epoch, and a row read under an older epoch is handed to its caller but not kept.
import type { ChangedTable, ChangeFeed } from '../db/change-feed';
import { recordCacheLookup } from '../metrics/metrics';

export interface RowCacheOptions {
  /** Rows kept at most; the least recently used goes first. */
  maxEntries: number;
  /** A row is read again after this long even when no change was heard (a bound on any missed notification). */
  maxAgeMs: number;
  now?: () => number;
}

export const ROW_CACHE_DEFAULTS: RowCacheOptions = { maxEntries: 10_000, maxAgeMs: 60_000 };

interface Entry<Row> {
  organizationId: string;
  row: Row;
  storedAt: number;
}

export class RowCache<Row> {
  private readonly entries = new Map<string, Entry<Row>>();
  private epoch = 0;
  private readonly now: () => number;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly table: ChangedTable,
    private readonly feed: Pick<ChangeFeed, 'live' | 'subscribe'>,
    private readonly options: RowCacheOptions = ROW_CACHE_DEFAULTS,
  ) {
    this.now = options.now ?? Date.now;
    this.unsubscribe = feed.subscribe({
      changed: (changedTable, id) => {
        if (changedTable !== this.table) return;
        this.epoch += 1;
        this.entries.delete(id);
      },
      reset: () => this.clear(),
    });
  }

  /** Rows held now (for tests and diagnostics). */
  get size(): number {
    return this.entries.size;
  }

  /**
   * The organization's row `id`: from memory when held, fresh and the feed is live; otherwise
   * from `load` (null: no such row in that organization, which is not kept).
   */
  async get(organizationId: string, id: string, load: () => Promise<Row | null>): Promise<Row | null> {
    const live = this.feed.live;
    const entry = live ? this.entries.get(id) : undefined;
    const hit = entry !== undefined && this.now() - entry.storedAt < this.options.maxAgeMs;
    recordCacheLookup('runtime_row', hit);
    if (hit) {
      // Another organization's id is "no such row", exactly as the database would answer.
      if (entry.organizationId !== organizationId) return null;
      this.entries.delete(id);
      this.entries.set(id, entry);
      return entry.row;
    }
    const epoch = this.epoch;
    const row = await load();
    if (row !== null && live && this.feed.live && epoch === this.epoch) this.keep(organizationId, id, row);
    return row;
  }

  /** Forgets every row. */
  clear(): void {
    this.epoch += 1;
    this.entries.clear();
  }

  close(): void {
    this.unsubscribe();
    this.clear();
  }

  private keep(organizationId: string, id: string, row: Row): void {
    this.entries.delete(id);
    this.entries.set(id, { organizationId, row, storedAt: this.now() });
    while (this.entries.size > this.options.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }
}
