// The signing keys of the JWKS endpoint (JWT_JWKS_URI), kept in memory by key id. Any caller can
// send a token naming a made-up kid, so what such a token may cost is bounded here: the key set is
// fetched at most once per cooldown whatever kids are asked for, a kid the last fetch did not
// contain is not looked up again for a while, and known keys are answered from memory throughout,
// without waiting for a fetch, and kept when a fetch fails. A key the identity provider adds
// (rotation) is found by the first fetch after it appears, at most one cooldown after it is asked for.
import { createPublicKey, type KeyObject } from 'node:crypto';

/** A key as the JWKS client hands it over: jwks-rsa's SigningKey has this shape. */
export interface FetchedSigningKey {
  kid?: string;
  alg?: string;
  getPublicKey(): string;
}

export interface JwksKeyCacheOptions {
  /** Fetches and parses the whole key set; rejects when the endpoint cannot be read. */
  fetchKeys: () => Promise<FetchedSigningKey[]>;
  /** Milliseconds since the epoch. */
  now?: () => number;
}

export type JwksKeyLookup =
  | { status: 'found'; key: KeyObject; alg?: string }
  /** The current key set has no key with this kid. */
  | { status: 'unknown' }
  /** No key set could be fetched, so the kid could not be looked up. */
  | { status: 'unavailable'; cause: unknown };

interface CachedKey {
  key: KeyObject;
  alg?: string;
}

/** How long a fetched key set is used before it is fetched again (in the background: the old set serves meanwhile). */
const JWKS_MAX_AGE_MS = 10 * 60 * 1000;
/** The least time between two fetches of the key set, whatever the tokens asked for. */
const JWKS_REFRESH_COOLDOWN_MS = 30 * 1000;
/** After a failed fetch, the least time before the next attempt. */
const FAILED_FETCH_BACKOFF_MS = 5 * 1000;
/** How long a kid the key set did not contain is answered "unknown" without a fetch. */
const JWKS_UNKNOWN_KID_TTL_MS = 5 * 60 * 1000;
/** Bounds the memory made-up kids can take; the oldest are forgotten first. */
const MAX_REMEMBERED_UNKNOWN_KIDS = 1000;

export class JwksKeyCache {
  private keys = new Map<string, CachedKey>();
  /** When the last successful fetch started; undefined until one succeeded. */
  private fetchedAt: number | undefined;
  private failedAt: number | undefined;
  private lastFailure: unknown;
  private inFlight: Promise<void> | undefined;
  /** kid → until when it is answered "unknown" without a fetch. */
  private readonly unknownKids = new Map<string, number>();
  private readonly fetchKeys: () => Promise<FetchedSigningKey[]>;
  private readonly now: () => number;

  constructor(options: JwksKeyCacheOptions) {
    this.fetchKeys = options.fetchKeys;
    this.now = options.now ?? Date.now;
  }

  async lookup(kid: string): Promise<JwksKeyLookup> {
    const now = this.now();
    const known = this.keys.get(kid);
    if (known) {
      if (this.fetchedAt !== undefined && now - this.fetchedAt >= JWKS_MAX_AGE_MS && this.mayFetch(now)) {
        // Never rejects (refresh records failures), and the caller does not wait for it.
        void this.refresh(now);
      }
      return { status: 'found', ...known };
    }
    const unknownUntil = this.unknownKids.get(kid);
    if (unknownUntil !== undefined && unknownUntil > now) return { status: 'unknown' };
    if (this.inFlight) {
      // A fetch is already under way (for another kid, or a background one): its answer serves this kid too.
      await this.inFlight;
      return this.afterFetch(kid, false);
    }
    if (!this.mayFetch(now)) return this.withoutFetch();
    await this.refresh(now);
    return this.afterFetch(kid, true);
  }

  private mayFetch(now: number): boolean {
    if (this.fetchedAt !== undefined && now - this.fetchedAt < JWKS_REFRESH_COOLDOWN_MS) return false;
    if (this.failedAt !== undefined && now - this.failedAt < FAILED_FETCH_BACKOFF_MS) return false;
    return true;
  }

  /** The answer for a kid that is not known when no fetch may run now. */
  private withoutFetch(): JwksKeyLookup {
    if (this.fetchedAt === undefined) return { status: 'unavailable', cause: this.lastFailure };
    return { status: 'unknown' };
  }

  private afterFetch(kid: string, fetchedForThisKid: boolean): JwksKeyLookup {
    const known = this.keys.get(kid);
    if (known) return { status: 'found', ...known };
    const lastFetchFailed = this.failedAt !== undefined && (this.fetchedAt === undefined || this.failedAt >= this.fetchedAt);
    if (lastFetchFailed) return { status: 'unavailable', cause: this.lastFailure };
    if (fetchedForThisKid) this.rememberUnknown(kid);
    return { status: 'unknown' };
  }

  private rememberUnknown(kid: string): void {
    const now = this.now();
    for (const [remembered, until] of this.unknownKids) {
      if (until <= now) this.unknownKids.delete(remembered);
    }
    while (this.unknownKids.size >= MAX_REMEMBERED_UNKNOWN_KIDS) {
      const oldest = this.unknownKids.keys().next().value;
      if (oldest === undefined) break;
      this.unknownKids.delete(oldest);
    }
    this.unknownKids.set(kid, now + JWKS_UNKNOWN_KID_TTL_MS);
  }

  /** One fetch at a time; concurrent callers share it. */
  private refresh(startedAt: number): Promise<void> {
    this.inFlight ??= this.fetchAndStore(startedAt).finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /** Resolves in every case: a failure is recorded for the callers, not thrown. */
  private async fetchAndStore(startedAt: number): Promise<void> {
    let fetched: FetchedSigningKey[];
    try {
      fetched = await this.fetchKeys();
    } catch (error) {
      this.failedAt = startedAt;
      this.lastFailure = error;
      return;
    }
    const keys = new Map<string, CachedKey>();
    for (const signingKey of fetched) {
      // The verifier selects keys by kid only, so a key without one can never be used.
      if (typeof signingKey.kid !== 'string' || signingKey.kid === '') continue;
      try {
        keys.set(signingKey.kid, { key: createPublicKey(signingKey.getPublicKey()), alg: signingKey.alg });
      } catch {
        // A key this runtime cannot load is skipped, as the JWKS client skips keys it cannot parse.
      }
    }
    // Replaced as a whole: a key the provider withdrew stops being accepted.
    this.keys = keys;
    this.fetchedAt = startedAt;
  }
}
