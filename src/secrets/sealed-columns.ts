// The one map between a SealedSecret and the credentials table's secret_* columns. The database
// client omits these columns from every ordinary read (src/db/database.ts), so no resolver or
// repository can select them by accident; the secret store asks for them by name from here.
import type { SealedSecret } from './envelope';

/** The sealed columns, as a Prisma `omit` or `select` map. */
export const SEALED_SECRET_COLUMNS = {
  secretAlgorithm: true,
  secretCiphertext: true,
  secretNonce: true,
  secretWrappedKey: true,
  secretKeyId: true,
} as const;

/** The sealed columns as a row holds them; all null when the credential stores no key material. */
export interface SealedColumns {
  secretAlgorithm: string | null;
  secretCiphertext: Uint8Array<ArrayBuffer> | null;
  secretNonce: Uint8Array<ArrayBuffer> | null;
  secretWrappedKey: Uint8Array<ArrayBuffer> | null;
  secretKeyId: string | null;
}

/** What to write for a sealed secret (null: the credential stores no key material). */
export function sealedColumns(sealed: SealedSecret | null): SealedColumns {
  return {
    secretAlgorithm: sealed?.algorithm ?? null,
    secretCiphertext: sealed ? new Uint8Array(sealed.ciphertext) : null,
    secretNonce: sealed ? new Uint8Array(sealed.nonce) : null,
    secretWrappedKey: sealed ? new Uint8Array(sealed.wrappedKey) : null,
    secretKeyId: sealed?.keyId ?? null,
  };
}

/** The sealed secret a row holds; null when any column is empty (no key material). */
export function sealedSecretOf(row: SealedColumns): SealedSecret | null {
  const { secretAlgorithm, secretCiphertext, secretNonce, secretWrappedKey, secretKeyId } = row;
  if (!secretAlgorithm || !secretCiphertext || !secretNonce || !secretWrappedKey || !secretKeyId) return null;
  return {
    algorithm: secretAlgorithm,
    ciphertext: Buffer.from(secretCiphertext),
    nonce: Buffer.from(secretNonce),
    wrappedKey: Buffer.from(secretWrappedKey),
    keyId: secretKeyId,
  };
}
