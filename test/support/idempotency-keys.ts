// Idempotency-Key helpers shared by the GraphQL, REST and leak-scan tests: a fresh key, the header
// that carries it, and the stored rows of the idempotency_keys table, read and aged with SQL.
import { randomUUID } from 'node:crypto';
import { IDEMPOTENCY_KEY_HEADER } from '../../src/idempotency/idempotency-key';
import type { TestDatabase } from './test-database';

/** A key no other test uses. */
export function anIdempotencyKey(): string {
  return `retry-${randomUUID()}`;
}

/** The request headers that send `key`. */
export function withIdempotencyKey(key: string): Record<string, string> {
  return { [IDEMPOTENCY_KEY_HEADER]: key };
}

export interface StoredIdempotencyKey {
  operation: string;
  request_fingerprint: string;
  result_id: string | null;
}

/** The stored row of `key` in `organizationId`, or undefined. */
export async function storedIdempotencyKey(
  database: TestDatabase,
  organizationId: string,
  key: string,
): Promise<StoredIdempotencyKey | undefined> {
  const [row] = await database.query<StoredIdempotencyKey>(
    'SELECT operation, request_fingerprint, result_id::text AS result_id FROM idempotency_keys WHERE organization_id = $1 AND key = $2',
    [organizationId, key],
  );
  return row;
}

/** Moves the claim of `key` `hours` into the past, as if it had been sent then. */
export async function ageIdempotencyKey(database: TestDatabase, organizationId: string, key: string, hours: number): Promise<void> {
  const rows = await database.query(
    `UPDATE idempotency_keys SET created_at = created_at - make_interval(hours => $3), heartbeat_at = heartbeat_at - make_interval(hours => $3)
      WHERE organization_id = $1 AND key = $2 RETURNING key`,
    [organizationId, key, hours],
  );
  if (rows.length !== 1) throw new Error(`no idempotency key ${key} to age`);
}
