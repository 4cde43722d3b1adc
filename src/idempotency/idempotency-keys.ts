// Runs a create once per Idempotency-Key, across every replica, with PostgreSQL as the only
// referee: the first request claims the key with a pending row (INSERT ... ON CONFLICT DO NOTHING),
// runs the create and records the id it made; a failed create deletes the row, so the key is not
// poisoned. A request that finds the key completed answers that result as it is now (re-read by
// id), after checking that it asks for the same thing (the fingerprint); one that finds it pending
// waits, polling the row, until it completes or is freed. A pending row whose attempt stopped
// renewing its heartbeat (its process died) is taken over after the lease. No lock is held in
// memory or across statements, so it works the same on the embedded database.
import { setTimeout as sleep } from 'node:timers/promises';
import { type Principal, requireWriter } from '../auth/principal';
import { ConflictError, IdempotencyKeyReusedError, IdempotentResultDeletedError, NotFoundError } from '../errors/app-error';
import type { Logger } from '../logging/logger';
import { checkIdempotencyKey, IDEMPOTENCY_KEY_HEADER, type IdempotencyKeyScope, requestFingerprint } from './idempotency-key';
import type { IdempotencyKeyRecord, IdempotencyKeyRepository, IdempotentRequest } from './idempotency-key.repository';

export interface IdempotencyTiming {
  /** How long a key answers with its first result; older keys count as new and are deleted. */
  windowMs: number;
  /** How often a running create renews its claim. */
  heartbeatMs: number;
  /** A pending key whose claim was not renewed for this long is abandoned, and the next request takes it over. */
  leaseMs: number;
  /** How long a request waits for another one holding its key before it gives up with CONFLICT. */
  waitMs: number;
}

export const IDEMPOTENCY_TIMING: IdempotencyTiming = {
  windowMs: 24 * 60 * 60 * 1000,
  heartbeatMs: 5_000,
  leaseMs: 30_000,
  waitMs: 60_000,
};

/** The first pause of a request waiting for its key, doubled up to the longest. */
const FIRST_PAUSE_MS = 10;
const LONGEST_PAUSE_MS = 200;
/** Expired rows deleted (of any organization) each time a key is claimed. */
const PRUNE_BATCH = 100;

/** One create, as the key runs it. */
export interface IdempotentCall<Result extends { id: string }> {
  /** createCredential or createProvider. */
  operation: string;
  /** What the result is, for messages: "credential". */
  noun: string;
  /** The request as the service receives it; only its fingerprint is stored. */
  request: unknown;
  run(): Promise<Result>;
  /** The result as it is now; NotFoundError when it was deleted since. */
  reread(id: string): Promise<Result>;
}

export interface IdempotencyKeysDependencies {
  repository: Pick<
    IdempotencyKeyRepository,
    'claim' | 'find' | 'takeOver' | 'heartbeat' | 'complete' | 'release' | 'removeExpired' | 'pruneExpired'
  >;
  logger: Logger;
  /** Defaults: IDEMPOTENCY_TIMING (tests shorten them). */
  timing?: Partial<IdempotencyTiming>;
}

export class IdempotencyKeys {
  private readonly repository: IdempotencyKeysDependencies['repository'];
  private readonly logger: Logger;
  private readonly timing: IdempotencyTiming;

  constructor(dependencies: IdempotencyKeysDependencies) {
    this.repository = dependencies.repository;
    this.logger = dependencies.logger;
    this.timing = { ...IDEMPOTENCY_TIMING, ...dependencies.timing };
  }

  /** Runs `call` once for `key` in the caller's organization; without a key, simply runs it. */
  async once<Result extends { id: string }>(principal: Principal, key: string | undefined, call: IdempotentCall<Result>): Promise<Result> {
    if (key === undefined) return call.run();
    // A replay answers what a write made: only writers may ask for it.
    requireWriter(principal);
    const scope: IdempotencyKeyScope = { organizationId: principal.orgId, key: checkIdempotencyKey(key) };
    const request: IdempotentRequest = { operation: call.operation, fingerprint: requestFingerprint(scope, call.operation, call.request) };
    const giveUpAt = Date.now() + this.timing.waitMs;
    for (let pause = FIRST_PAUSE_MS; ; pause = Math.min(pause * 2, LONGEST_PAUSE_MS)) {
      const claimed = await this.repository.claim(scope, request);
      if (claimed !== null) return this.runClaimed(scope, claimed, call);
      const found = await this.repository.find(scope, this.timing);
      // Gone since the insert (a failed attempt freed it): claim it again.
      if (found === null) continue;
      if (found.expired) {
        await this.repository.removeExpired(scope, found.claim, this.timing.windowMs);
        continue;
      }
      if (found.abandoned) {
        const taken = await this.repository.takeOver(scope, found.claim, request, this.timing.leaseMs);
        if (taken !== null) {
          this.logger.warn(
            { event: 'idempotency_key_taken_over', operation: call.operation, orgId: scope.organizationId },
            'abandoned idempotency key taken over',
          );
          return this.runClaimed(scope, taken, call);
        }
        continue;
      }
      this.refuseAnotherRequest(found, request);
      if (found.resultId !== null) return this.replay(scope, found.resultId, call);
      if (Date.now() >= giveUpAt) {
        throw new ConflictError(`A request with this ${IDEMPOTENCY_KEY_HEADER} is still in progress; retry it later.`, {
          field: IDEMPOTENCY_KEY_HEADER,
        });
      }
      await sleep(pause);
    }
  }

  private refuseAnotherRequest(found: IdempotencyKeyRecord, request: IdempotentRequest): void {
    const hours = Math.round(this.timing.windowMs / 3_600_000);
    if (found.operation !== request.operation) {
      throw new IdempotencyKeyReusedError(
        IDEMPOTENCY_KEY_HEADER,
        `This ${IDEMPOTENCY_KEY_HEADER} was used for ${found.operation} within the last ${hours} hours; send a new key for a new request.`,
      );
    }
    if (found.fingerprint !== request.fingerprint) {
      throw new IdempotencyKeyReusedError(
        IDEMPOTENCY_KEY_HEADER,
        `This ${IDEMPOTENCY_KEY_HEADER} was used with a different request within the last ${hours} hours; send a new key for a new request.`,
      );
    }
  }

  private async runClaimed<Result extends { id: string }>(
    scope: IdempotencyKeyScope,
    claim: string,
    call: IdempotentCall<Result>,
  ): Promise<Result> {
    // Expired keys are deleted while the create runs (on a connection of their own), not before it.
    const pruned = this.pruneExpired();
    const stopHeartbeat = this.keepClaimed(scope, claim);
    let result: Result;
    try {
      result = await call.run();
    } catch (error) {
      stopHeartbeat();
      await pruned;
      // Free the key for a retry; should that delete fail too, the claim lapses after the lease.
      await this.repository
        .release(scope, claim)
        .catch((releaseError: unknown) => this.warn('idempotency_key_release_failed', releaseError));
      throw error;
    }
    stopHeartbeat();
    await pruned;
    try {
      if (!(await this.repository.complete(scope, claim, result.id))) {
        this.logger.warn(
          { event: 'idempotency_key_lost', operation: call.operation, orgId: scope.organizationId },
          'idempotency key was taken over while its create ran',
        );
      }
    } catch (error) {
      // The create is done: answering it keeps the client from retrying into a second one.
      this.warn('idempotency_key_complete_failed', error);
    }
    return result;
  }

  private async replay<Result extends { id: string }>(
    scope: IdempotencyKeyScope,
    resultId: string,
    call: IdempotentCall<Result>,
  ): Promise<Result> {
    try {
      const result = await call.reread(resultId);
      this.logger.info(
        { event: 'idempotent_replay', operation: call.operation, orgId: scope.organizationId, resultId },
        'idempotent replay',
      );
      return result;
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      throw new IdempotentResultDeletedError(
        `The ${call.noun} ${resultId} that this ${IDEMPOTENCY_KEY_HEADER} created has been deleted since; send a new key to create another.`,
      );
    }
  }

  /** Renews the claim every heartbeat until stopped. */
  private keepClaimed(scope: IdempotencyKeyScope, claim: string): () => void {
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const schedule = () => {
      timer = setTimeout(() => {
        void this.repository
          .heartbeat(scope, claim)
          .catch((error: unknown) => this.warn('idempotency_key_heartbeat_failed', error))
          .finally(() => {
            if (!stopped) schedule();
          });
      }, this.timing.heartbeatMs);
      timer.unref();
    };
    schedule();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }

  /** Opportunistic clean-up of expired keys; a failure here never fails the create. */
  private async pruneExpired(): Promise<void> {
    try {
      await this.repository.pruneExpired(this.timing.windowMs, PRUNE_BATCH);
    } catch (error) {
      this.warn('idempotency_key_prune_failed', error);
    }
  }

  private warn(event: string, error: unknown): void {
    // The error's kind only: a driver's message may quote what it was sent.
    this.logger.warn({ event, error: error instanceof Error ? error.name : typeof error }, event.replace(/_/g, ' '));
  }
}
