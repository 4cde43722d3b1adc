// The one road for secrets. Plaintext is sealed here before it reaches the database, and the
// sealed columns are read back here and nowhere else (every other read omits them).
import { AuditLog } from '../audit/audit-log';
import type { AuthType } from '../catalog/model-provider-catalog';
import type { Database } from '../db/database';
import type { EnvelopeCipher, SealedSecret, SecretBinding } from './envelope';
import { SEALED_SECRET_COLUMNS, sealedSecretOf } from './sealed-columns';
import { isSealedAuthType, type SealedAuthType, type SecretPayload, type TypedSecret, typedSecret } from './secret-payload';
import { DecryptionError } from './aead';

/** An opened secret: the payload its auth type seals, or none for an auth type that stores no key material (GOOGLE_ADC). */
export type OpenedSecret = (TypedSecret | { authType: Exclude<AuthType, SealedAuthType>; payload: null }) & { secretVersion: number };

/** A credential's secret as the database holds it: sealed (null when it stores no key material). */
export interface StoredSecret {
  authType: AuthType;
  secretVersion: number;
  sealed: SealedSecret | null;
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
    private readonly audit: AuditLog = new AuditLog(prisma),
  ) {}

  seal(payload: SecretPayload, binding: SecretBinding): Promise<SealedSecret> {
    return this.cipher.seal(payload, binding);
  }

  /** Opens the secret of an organization's credential; null when there is no such credential. */
  async open(organizationId: string, credentialId: string): Promise<OpenedSecret | null> {
    const stored = await this.read(organizationId, credentialId);
    return stored ? this.openStored(organizationId, credentialId, stored) : null;
  }

  /** The sealed secret of an organization's credential as stored, still sealed; null when there is no such credential. */
  async read(organizationId: string, credentialId: string): Promise<StoredSecret | null> {
    const row = await this.prisma.credential.findFirst({
      where: { id: credentialId, organizationId },
      select: { authType: true, secretVersion: true, ...SEALED_SECRET_COLUMNS },
    });
    if (!row) return null;
    const { authType, secretVersion } = row;
    return { authType, secretVersion, sealed: sealedSecretOf(row) };
  }

  /** Opens a secret read earlier (`read`), for the credential it was read for. */
  async openStored(organizationId: string, credentialId: string, stored: StoredSecret): Promise<OpenedSecret> {
    const { authType, secretVersion, sealed } = stored;
    if (!isSealedAuthType(authType)) return { authType, secretVersion, payload: null };
    if (!sealed) throw new DecryptionError(`the ${authType} credential has no sealed secret`);
    const payload = await this.cipher.open(sealed, { organizationId, credentialId, secretVersion, authType });
    return { ...typedSecret(authType, payload), secretVersion };
  }

  /** The key id a data key wrapped now would carry: stored data keys under any other need re-wrapping. */
  primaryKeyId(): Promise<string> {
    return this.cipher.primaryKeyId();
  }

  /** Up to `limit` credentials, by id after `afterId`, whose data key is not under `currentKeyId`. */
  async staleWrappedKeys(currentKeyId: string, afterId: string | null, limit: number): Promise<StaleWrappedKey[]> {
    const rows = await this.prisma.credential.findMany({
      where: { secretKeyId: { not: currentKeyId }, ...(afterId ? { id: { gt: afterId } } : {}) },
      select: { id: true, secretKeyId: true },
      orderBy: { id: 'asc' },
      take: limit,
    });
    return rows.flatMap((row) => (row.secretKeyId === null ? [] : [{ credentialId: row.id, keyId: row.secretKeyId }]));
  }

  /** How many stored data keys each key id wraps. */
  async wrappedKeyCounts(): Promise<Map<string, number>> {
    const groups = await this.prisma.credential.groupBy({
      by: ['secretKeyId'],
      where: { secretKeyId: { not: null } },
      _count: { _all: true },
    });
    return new Map(groups.flatMap((group) => (group.secretKeyId === null ? [] : [[group.secretKeyId, group._count._all] as const])));
  }

  /**
   * Re-wraps one credential's data key under the key service's current primary key. The secret,
   * its nonce, ciphertext and version stay as they are. The update is optimistic: a rotation
   * that lands in between wins, and this one reports it.
   */
  async rewrap(stale: StaleWrappedKey, actor = 'system:secrets-rewrap'): Promise<RewrapOutcome> {
    const { credentialId } = stale;
    // Only while the row is still under the key it was listed with: a rotation since then has
    // already put it under the primary key.
    const row = await this.prisma.credential.findFirst({
      where: { id: credentialId, secretKeyId: stale.keyId },
      select: { organizationId: true, authType: true, secretVersion: true, secretWrappedKey: true, secretKeyId: true },
    });
    if (!row?.secretWrappedKey || !row.secretKeyId) return 'changed-concurrently';
    const wrapped = await this.cipher.rewrapDataKey(
      { keyId: row.secretKeyId, wrappedKey: Buffer.from(row.secretWrappedKey) },
      { organizationId: row.organizationId, credentialId, secretVersion: row.secretVersion, authType: row.authType },
    );
    const fromKeyId = row.secretKeyId;
    return this.prisma.$transaction(async (tx) => {
      const { count } = await tx.credential.updateMany({
        where: { id: credentialId, secretVersion: row.secretVersion, secretKeyId: fromKeyId },
        data: { secretWrappedKey: new Uint8Array(wrapped.wrappedKey), secretKeyId: wrapped.keyId },
      });
      if (count !== 1) return 'changed-concurrently';
      await this.audit.append(tx, {
        organizationId: row.organizationId,
        actor,
        action: 'credential.rewrapped',
        targetType: 'credential',
        targetId: credentialId,
        details: { fromKeyId, toKeyId: wrapped.keyId },
        secretVersion: row.secretVersion,
      });
      return 'rewrapped';
    });
  }
}
