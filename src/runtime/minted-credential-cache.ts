// Short-lived upstream credentials (STS session credentials, Google access tokens) minted for
// the gateway, kept until shortly before they expire. Keyed by credential and secret version, so
// a rotation is seen at once (the new version misses). Concurrent misses for one key share one
// mint: under a burst, the vendor's token endpoint or STS is asked once, not once per request.
import { recordCacheLookup } from '../metrics/metrics';

export interface Minted<Value> {
  value: Value;
  expiresAt: Date;
}

export interface MintedCredentialCacheOptions {
  /** A minted credential is not handed out when it expires sooner than this. */
  refreshBeforeMs?: number;
  /** How many credentials are kept at most; the oldest entry goes first. */
  maxEntries?: number;
  now?: () => number;
}

const DEFAULT_REFRESH_BEFORE_MS = 5 * 60_000;
const DEFAULT_MAX_ENTRIES = 10_000;

export class MintedCredentialCache<Value> {
  private readonly entries = new Map<string, Minted<Value>>();
  private readonly inFlight = new Map<string, Promise<Minted<Value>>>();
  private readonly refreshBeforeMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: MintedCredentialCacheOptions = {}) {
    this.refreshBeforeMs = options.refreshBeforeMs ?? DEFAULT_REFRESH_BEFORE_MS;
    this.maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.now = options.now ?? Date.now;
  }

  /** The cached credential for `key`, or the one `mint` makes (one mint per key at a time). */
  async get(key: string, mint: () => Promise<Minted<Value>>): Promise<Minted<Value>> {
    const cached = this.entries.get(key);
    const hit = cached !== undefined && cached.expiresAt.getTime() - this.refreshBeforeMs > this.now();
    recordCacheLookup('minted_credential', hit);
    if (hit) return cached;
    if (cached) this.entries.delete(key);
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const minting = mint()
      .then((minted) => {
        this.remember(key, minted);
        return minted;
      })
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, minting);
    return minting;
  }

  /** Forgets every credential minted for a credential id (any version), e.g. when it is deleted. */
  forget(credentialId: string): void {
    for (const key of this.entries.keys()) if (key.startsWith(`${credentialId}:`)) this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  private remember(key: string, minted: Minted<Value>): void {
    // A credential that is already too close to its expiry is handed out once, never kept.
    if (minted.expiresAt.getTime() - this.refreshBeforeMs <= this.now()) return;
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, minted);
  }
}

/** The cache key of a credential's secret version. */
export function mintedKey(credentialId: string, secretVersion: number): string {
  return `${credentialId}:${secretVersion}`;
}
