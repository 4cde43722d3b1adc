// SQL for idempotency keys (the idempotency_keys table). A create sent with a key claims
// (organization, key) with a pending row, renews its heartbeat while it runs, and records the id
// it created; a failed one deletes its row. Each statement stands alone (no transaction is held
// while a create runs), and every time is PostgreSQL's own clock, so replicas agree.
import { randomUUID } from 'node:crypto';
import type { Database } from '../db/database';
import type { IdempotencyKeyScope } from './idempotency-key';

/** What a key was first sent with. */
export interface IdempotentRequest {
  /** createCredential or createProvider. */
  operation: string;
  fingerprint: string;
}

/** A key's row as a request that could not claim the key finds it. */
export interface IdempotencyKeyRecord extends IdempotentRequest {
  /** The attempt holding the key. */
  claim: string;
  /** The id of what the create made; null while it runs. */
  resultId: string | null;
  /** Claimed longer ago than the window: as good as absent. */
  expired: boolean;
  /** Pending, with no heartbeat for the lease: the attempt holding it is gone. */
  abandoned: boolean;
}

/** How long a key answers with its result, and how long a pending key lives without a heartbeat. */
export interface IdempotencyKeyLifetimes {
  windowMs: number;
  leaseMs: number;
}

interface RecordRow {
  operation: string;
  fingerprint: string;
  claim: string;
  result_id: string | null;
  expired: boolean;
  abandoned: boolean;
}

export class IdempotencyKeyRepository {
  constructor(private readonly prisma: Database) {}

  /** Inserts a pending row for the key unless it has one: the new claim, or null when the key is taken. */
  async claim(scope: IdempotencyKeyScope, request: IdempotentRequest): Promise<string | null> {
    const claim = randomUUID();
    const inserted = await this.prisma.$executeRaw`
      INSERT INTO idempotency_keys (organization_id, "key", operation, request_fingerprint, claim)
      VALUES (${scope.organizationId}::uuid, ${scope.key}, ${request.operation}, ${request.fingerprint}, ${claim}::uuid)
      ON CONFLICT (organization_id, "key") DO NOTHING`;
    return inserted === 1 ? claim : null;
  }

  async find(scope: IdempotencyKeyScope, lifetimes: IdempotencyKeyLifetimes): Promise<IdempotencyKeyRecord | null> {
    const rows = await this.prisma.$queryRaw<RecordRow[]>`
      SELECT operation, request_fingerprint AS fingerprint, claim::text AS claim, result_id::text AS result_id,
             created_at < now() - make_interval(secs => ${seconds(lifetimes.windowMs)}::double precision) AS expired,
             (result_id IS NULL AND heartbeat_at < now() - make_interval(secs => ${seconds(lifetimes.leaseMs)}::double precision)) AS abandoned
        FROM idempotency_keys
       WHERE organization_id = ${scope.organizationId}::uuid AND "key" = ${scope.key}`;
    const row = rows.at(0);
    if (!row) return null;
    return {
      operation: row.operation,
      fingerprint: row.fingerprint,
      claim: row.claim,
      resultId: row.result_id,
      expired: row.expired,
      abandoned: row.abandoned,
    };
  }

  /**
   * Claims a key whose attempt is gone (pending, no heartbeat for the lease) for a new request:
   * the new claim, or null when another request took it over first or the attempt came back.
   */
  async takeOver(scope: IdempotencyKeyScope, abandoned: string, request: IdempotentRequest, leaseMs: number): Promise<string | null> {
    const claim = randomUUID();
    const updated = await this.prisma.$executeRaw`
      UPDATE idempotency_keys
         SET claim = ${claim}::uuid, operation = ${request.operation}, request_fingerprint = ${request.fingerprint},
             created_at = now(), heartbeat_at = now()
       WHERE organization_id = ${scope.organizationId}::uuid AND "key" = ${scope.key} AND claim = ${abandoned}::uuid
         AND result_id IS NULL AND heartbeat_at < now() - make_interval(secs => ${seconds(leaseMs)}::double precision)`;
    return updated === 1 ? claim : null;
  }

  /** Says that the attempt holding `claim` is still running. */
  async heartbeat(scope: IdempotencyKeyScope, claim: string): Promise<void> {
    await this.prisma.$executeRaw`
      UPDATE idempotency_keys SET heartbeat_at = now()
       WHERE organization_id = ${scope.organizationId}::uuid AND "key" = ${scope.key} AND claim = ${claim}::uuid AND result_id IS NULL`;
  }

  /** Records what the attempt holding `claim` created; false when it no longer holds the key. */
  async complete(scope: IdempotencyKeyScope, claim: string, resultId: string): Promise<boolean> {
    const updated = await this.prisma.$executeRaw`
      UPDATE idempotency_keys SET result_id = ${resultId}::uuid, completed_at = now()
       WHERE organization_id = ${scope.organizationId}::uuid AND "key" = ${scope.key} AND claim = ${claim}::uuid AND result_id IS NULL`;
    return updated === 1;
  }

  /** Frees the key of an attempt that failed, so that a retry runs again. */
  async release(scope: IdempotencyKeyScope, claim: string): Promise<void> {
    await this.prisma.$executeRaw`
      DELETE FROM idempotency_keys
       WHERE organization_id = ${scope.organizationId}::uuid AND "key" = ${scope.key} AND claim = ${claim}::uuid AND result_id IS NULL`;
  }

  /** Deletes the key's row if it is still the one found expired. */
  async removeExpired(scope: IdempotencyKeyScope, claim: string, windowMs: number): Promise<void> {
    await this.prisma.$executeRaw`
      DELETE FROM idempotency_keys
       WHERE organization_id = ${scope.organizationId}::uuid AND "key" = ${scope.key} AND claim = ${claim}::uuid
         AND created_at < now() - make_interval(secs => ${seconds(windowMs)}::double precision)`;
  }

  /** Deletes up to `limit` expired rows of any organization, oldest first; rows being written are skipped. */
  async pruneExpired(windowMs: number, limit: number): Promise<number> {
    return this.prisma.$executeRaw`
      DELETE FROM idempotency_keys
       WHERE (organization_id, "key") IN (
         SELECT organization_id, "key" FROM idempotency_keys
          WHERE created_at < now() - make_interval(secs => ${seconds(windowMs)}::double precision)
          ORDER BY created_at
          LIMIT ${limit}::int
            FOR UPDATE SKIP LOCKED)`;
  }
}

/** make_interval's seconds, as a double precision parameter. */
function seconds(ms: number): number {
  return ms / 1000;
}
