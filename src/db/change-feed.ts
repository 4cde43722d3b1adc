// Which credential and provider rows changed, as soon as any replica changes them. The database
// announces every update and delete of those tables on one channel (the change-notifications
// migration); each replica LISTENs on a connection of its own and hands the news to whoever keeps
// rows in memory. Writes made by this process are also announced at once, before the write's caller
// goes on, so a reader here never waits for the notification to come back.
//
// While the listening connection is down nothing can be known about other replicas' writes: the
// feed says so (`live` is false, and `onReset` fires), and every holder of rows must drop them and
// read through until the feed is live again (and drop them once more then: notifications sent
// meanwhile are lost).
import type { PGlite } from '@electric-sql/pglite';
import { Client } from 'pg';
import type { Logger } from '../logging/logger';

/** The tables whose rows are announced. */
export type ChangedTable = 'credentials' | 'providers';

export const CHANGE_CHANNEL = 'vault_changes';

export interface ChangeListener {
  /** A row changed or is gone. */
  changed(table: ChangedTable, id: string): void;
  /** Anything may have changed: the feed went down or came back. */
  reset(): void;
}

export interface ChangeFeed {
  /** True while every write by any replica is being heard. */
  readonly live: boolean;
  subscribe(listener: ChangeListener): () => void;
  /** Announces a write this process made (after it committed) to this process's listeners. */
  announce(table: ChangedTable, id: string): void;
  close(): Promise<void>;
}

/** Parses a notification payload, `<table>:<id>`; null for anything else. */
export function parseChange(payload: string | undefined): { table: ChangedTable; id: string } | null {
  if (!payload) return null;
  const separator = payload.indexOf(':');
  const table = payload.slice(0, separator);
  const id = payload.slice(separator + 1);
  if ((table !== 'credentials' && table !== 'providers') || id === '') return null;
  return { table, id };
}

abstract class ListeningFeed implements ChangeFeed {
  private readonly listeners = new Set<ChangeListener>();
  protected isLive = false;

  get live(): boolean {
    return this.isLive;
  }

  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  announce(table: ChangedTable, id: string): void {
    for (const listener of this.listeners) listener.changed(table, id);
  }

  protected heard(payload: string | undefined): void {
    const change = parseChange(payload);
    if (change) this.announce(change.table, change.id);
  }

  protected setLive(live: boolean): void {
    this.isLive = live;
    for (const listener of this.listeners) listener.reset();
  }

  abstract close(): Promise<void>;
}

/** Embedded PostgreSQL: one process, one connection; LISTEN on it never drops. */
export class PgliteChangeFeed extends ListeningFeed {
  private unlisten: (() => Promise<void>) | null = null;

  static async open(pglite: PGlite): Promise<PgliteChangeFeed> {
    const feed = new PgliteChangeFeed();
    feed.unlisten = await pglite.listen(CHANGE_CHANNEL, (payload) => feed.heard(payload));
    feed.setLive(true);
    return feed;
  }

  async close(): Promise<void> {
    this.setLive(false);
    const unlisten = this.unlisten;
    this.unlisten = null;
    await unlisten?.();
  }
}

export interface PostgresChangeFeedOptions {
  connectionString: string;
  logger: Logger;
  /** How long opening the listening connection may take (unset: no limit). */
  connectTimeoutMs?: number;
  /** First delay before reconnecting after the connection drops; doubles up to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
}

/** PostgreSQL: a dedicated connection that LISTENs, reconnected with backoff when it drops. */
export class PostgresChangeFeed extends ListeningFeed {
  private client: Client | null = null;
  private closed = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryMs: number;

  private constructor(private readonly options: PostgresChangeFeedOptions) {
    super();
    this.retryMs = options.retryMs ?? 250;
  }

  /** Opens the feed; when the first connection fails the feed starts down and keeps trying. */
  static async open(options: PostgresChangeFeedOptions): Promise<PostgresChangeFeed> {
    const feed = new PostgresChangeFeed(options);
    await feed.connect();
    return feed;
  }

  private async connect(): Promise<void> {
    const client = new Client({ connectionString: this.options.connectionString, connectionTimeoutMillis: this.options.connectTimeoutMs });
    client.on('notification', (message) => {
      if (message.channel === CHANGE_CHANNEL) this.heard(message.payload);
    });
    client.on('error', () => this.dropped(client));
    client.on('end', () => this.dropped(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGE_CHANNEL}`);
    } catch (error) {
      this.options.logger.warn(
        { event: 'change_feed_down', error: error instanceof Error ? error.message : 'unknown' },
        'cannot listen for changes; rows are read from the database until it can',
      );
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      this.scheduleRetry();
      return;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.retryMs = this.options.retryMs ?? 250;
    this.setLive(true);
  }

  private dropped(client: Client): void {
    if (this.client !== client) return;
    this.client = null;
    this.setLive(false);
    client.removeAllListeners('end');
    client.end().catch(() => undefined);
    if (this.closed) return;
    this.options.logger.warn({ event: 'change_feed_down' }, 'the change feed connection dropped; reconnecting');
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.closed || this.retryTimer) return;
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, this.options.maxRetryMs ?? 10_000);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, delay);
    this.retryTimer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const client = this.client;
    this.client = null;
    if (this.isLive) this.setLive(false);
    if (client) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
    }
  }
}

/** A feed that hears nothing and is never live: whoever keeps rows reads through instead. */
export const NO_CHANGE_FEED: ChangeFeed = {
  live: false,
  subscribe: () => () => undefined,
  announce: () => undefined,
  close: () => Promise.resolve(),
};
