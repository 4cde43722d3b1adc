// Re-wraps every stored data key under the key service's current primary key, so that an old
// key version can be retired. Batched and resumable: what still needs work is read from the
// rows themselves, so running it again continues where an interrupted run stopped, and rows
// already current are left alone. Safe beside live traffic: each row is updated optimistically.
import type { SecretStore } from './secret-store';

export interface RewrapProgress {
  processed: number;
  rewrapped: number;
  failed: number;
}

export interface RewrapFailure {
  credentialId: string;
  keyId: string;
  reason: string;
}

export interface RewrapReport {
  primaryKeyId: string;
  rewrapped: number;
  /** Under the primary key before the run began. */
  alreadyCurrent: number;
  /** Rotated or deleted while the run looked at them: their new data key is current anyway. */
  changedConcurrently: number;
  failed: RewrapFailure[];
  /** Data keys still under another key id after the run, by key id: those versions cannot be retired. */
  remaining: Record<string, number>;
}

export async function rewrapAll(
  store: SecretStore,
  options: { batchSize?: number; onProgress?: (progress: RewrapProgress) => void } = {},
): Promise<RewrapReport> {
  const batchSize = options.batchSize ?? 100;
  const primaryKeyId = await store.primaryKeyId();
  const alreadyCurrent = (await store.wrappedKeyCounts()).get(primaryKeyId) ?? 0;
  const report: RewrapReport = { primaryKeyId, rewrapped: 0, alreadyCurrent, changedConcurrently: 0, failed: [], remaining: {} };

  let afterId: string | null = null;
  let processed = 0;
  for (;;) {
    const batch = await store.staleWrappedKeys(primaryKeyId, afterId, batchSize);
    if (batch.length === 0) break;
    for (const stale of batch) {
      const { credentialId, keyId } = stale;
      try {
        const outcome = await store.rewrap(stale);
        if (outcome === 'rewrapped') report.rewrapped += 1;
        else report.changedConcurrently += 1;
      } catch (error) {
        // Messages from the key services name key ids and files, never key material.
        report.failed.push({ credentialId, keyId, reason: error instanceof Error ? error.message : 'unknown error' });
      }
      processed += 1;
    }
    afterId = batch[batch.length - 1].credentialId;
    options.onProgress?.({ processed, rewrapped: report.rewrapped, failed: report.failed.length });
  }

  for (const [keyId, count] of await store.wrappedKeyCounts()) {
    if (keyId !== primaryKeyId) report.remaining[keyId] = count;
  }
  return report;
}
