// The one road for secrets. Plaintext is sealed here before it reaches the database, and the
// sealed columns are read back here and nowhere else (every other read omits them).
import type { AuthType } from '../catalog/provider-catalog';
import type { Database } from '../db/database';
import { additionalData, type EnvelopeCipher, type SealedSecret, type SecretBinding } from './envelope';
import type { KeyService } from './key-service';

export interface OpenedSecret {
  authType: AuthType;
  secretVersion: number;
  /** The sealed auth member, e.g. `{ apiKey }` or `{ iamRoleArn, externalId }`; null for GOOGLE_ADC. */
  payload: Record<string, unknown> | null;
}

/** A stored data key that is not wrapped by the current primary key. */
export interface StaleWrappedKey {
  credentialId: string;
  keyId: string;
}

export type RewrapOutcome = 'rewrapped' | 'changed-concurrently';

export class SecretStore {
  constructor(
    private readonly prisma: Database,
    private readonly cipher: EnvelopeCipher,
  ) {}

  seal(payload: Record<string, unknown>, binding: SecretBinding): Promise<SealedSecret> {
    return this.cipher.seal(payload, binding);
  }

  /** Opens the secret of an organization's credential; null when there is no such credential. */
  async open(organizationId: string, credentialId: string): Promise<OpenedSecret | null> {
    const row = await this.prisma.credential.findFirst({
      where: { id: credentialId, organizationId },
      select: {
        authType: true,
        secretVersion: true,
        secretAlgorithm: true,
        secretCiphertext: true,
        secretNonce: true,
        secretWrappedKey: true,
        secretKeyId: true,
      },
    });
    if (!row) return null;
    const { secretAlgorithm, secretCiphertext, secretNonce, secretWrappedKey, secretKeyId } = row;
    if (!secretAlgorithm || !secretCiphertext || !secretNonce || !secretWrappedKey || !secretKeyId) {
      return { authType: row.authType, secretVersion: row.secretVersion, payload: null };
    }
    const payload = await this.cipher.open(
      {
        algorithm: secretAlgorithm,
        ciphertext: Buffer.from(secretCiphertext),
        nonce: Buffer.from(secretNonce),
        wrappedKey: Buffer.from(secretWrappedKey),
        keyId: secretKeyId,
      },
      { organizationId, credentialId, secretVersion: row.secretVersion, authType: row.authType },
    );
    return { authType: row.authType, secretVersion: row.secretVersion, payload };
  }

  /** Up to `limit` credentials, by id after `afterId`, whose data key is not under `currentKeyId`. */
  async staleWrappedKeys(currentKeyId: string, afterId: string | null, limit: number): Promise<StaleWrappedKey[]> {
    const rows = await this.prisma.credential.findMany({
      where: { secretKeyId: { not: currentKeyId }, ...(afterId ? { id: { gt: afterId } } : {}) },
      select: { id: true, secretKeyId: true },
      orderBy: { id: 'asc' },
      take: limit,
    });
    return rows.map((row) => ({ credentialId: row.id, keyId: row.secretKeyId as string }));
  }

  /** How many stored data keys each key id wraps. */
  async wrappedKeyCounts(): Promise<Map<string, number>> {
    const groups = await this.prisma.credential.groupBy({
      by: ['secretKeyId'],
      where: { secretKeyId: { not: null } },
      _count: { _all: true },
    });
    return new Map(groups.map((group) => [group.secretKeyId as string, group._count._all]));
  }

  /**
   * Re-wraps one credential's data key under the key service's current primary key. The secret,
   * its nonce, ciphertext and version stay as they are. The update is optimistic: a rotation
   * that lands in between wins, and this one reports it.
   */
  async rewrap(stale: StaleWrappedKey, keyService: KeyService): Promise<RewrapOutcome> {
    const { credentialId } = stale;
    // Only while the row is still under the key it was listed with: a rotation since then has
    // already put it under the primary key.
    const row = await this.prisma.credential.findFirst({
      where: { id: credentialId, secretKeyId: stale.keyId },
      select: { organizationId: true, authType: true, secretVersion: true, secretWrappedKey: true, secretKeyId: true },
    });
    if (!row || !row.secretWrappedKey || !row.secretKeyId) return 'changed-concurrently';
    const aad = additionalData({
      organizationId: row.organizationId,
      credentialId,
      secretVersion: row.secretVersion,
      authType: row.authType,
    });
    const dataKey = await keyService.unwrap({ keyId: row.secretKeyId, wrappedKey: Buffer.from(row.secretWrappedKey) }, aad);
    try {
      const wrapped = await keyService.wrap(dataKey, aad);
      const { count } = await this.prisma.credential.updateMany({
        where: { id: credentialId, secretVersion: row.secretVersion, secretKeyId: row.secretKeyId },
        data: { secretWrappedKey: new Uint8Array(wrapped.wrappedKey), secretKeyId: wrapped.keyId },
      });
      return count === 1 ? 'rewrapped' : 'changed-concurrently';
    } finally {
      dataKey.fill(0);
    }
  }
}
