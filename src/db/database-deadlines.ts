// How long the vault waits on PostgreSQL. A server that stops answering (a frozen process, a
// black-holed network) sends no error and closes nothing, so every wait has a deadline of its own:
// - opening a connection, or waiting for a pooled one to come free: connectTimeoutMs;
// - a statement, on the server (statement_timeout): statementTimeoutMs;
// - a transaction its client left idle, which would otherwise keep its locks, on the server
//   (idle_in_transaction_session_timeout): idleInTransactionTimeoutMs;
// - a statement, on the client (pg's query_timeout), for when the server cannot even say that it
//   gave up: queryTimeoutMs, a little longer than the server's own limit so that a live server
//   always answers first.
// Prisma's interactive transactions keep their own bounds on top (maxWait to start, timeout in all).
import { Pool, type PoolClient, type PoolConfig } from 'pg';
import { watchPool } from '../metrics/metrics';

export interface DatabaseDeadlines {
  connectTimeoutMs: number;
  statementTimeoutMs: number;
  idleInTransactionTimeoutMs: number;
  queryTimeoutMs: number;
}

/** The longest deadline Node's timers and PostgreSQL's settings both take (2^31 - 1 ms, about 24 days). */
export const MAX_DEADLINE_MS = 2_147_483_647;

/** How far the client-side bound goes past the server's statement_timeout when it is not set. */
export const QUERY_TIMEOUT_MARGIN_MS = 1000;

export const DATABASE_DEADLINE_DEFAULTS: DatabaseDeadlines = {
  connectTimeoutMs: 5000,
  statementTimeoutMs: 10_000,
  idleInTransactionTimeoutMs: 10_000,
  queryTimeoutMs: 10_000 + QUERY_TIMEOUT_MARGIN_MS,
};

/** The pg settings that put the deadlines on every connection of a pool. */
function deadlineSettings(deadlines: DatabaseDeadlines): PoolConfig {
  return {
    connectionTimeoutMillis: deadlines.connectTimeoutMs,
    statement_timeout: deadlines.statementTimeoutMs,
    idle_in_transaction_session_timeout: deadlines.idleInTransactionTimeoutMs,
    query_timeout: deadlines.queryTimeoutMs,
  };
}

/**
 * A pool whose connections carry the deadlines. When a statement passes query_timeout, pg gives
 * up on it but leaves it outstanding on its connection (node-postgres#3399): later statements
 * queue behind it, and the server may still run it, inside a transaction nobody will roll back.
 * pg-pool closes such a connection when the failed statement was a lone one, but a transaction's
 * connection comes back without an error and would be handed to the next caller; it is closed
 * here instead, so no caller ever gets a connection that is still waiting on an earlier statement.
 */
export function openDeadlinePool(config: PoolConfig, deadlines: DatabaseDeadlines): Pool {
  const pool = new Pool({ ...config, ...deadlineSettings(deadlines) });
  pool.on('release', (error: Error | undefined, client: PoolClient) => {
    if (!error && stillWaiting(client)) void client.end();
  });
  // Its connections and waiting requests are read on every scrape of /metrics.
  watchPool(pool);
  return pool;
}

/**
 * pg keeps `readyForQuery` false from sending a statement until the server says it is done; an
 * idle connection has it true. It is not part of pg's typings, hence the cast; were it ever gone,
 * the check would close nothing rather than everything.
 */
function stillWaiting(client: PoolClient): boolean {
  return (client as PoolClient & { readyForQuery?: boolean }).readyForQuery === false;
}
