// Envelope encryption of a credential's secret payload: each seal encrypts the JSON payload under a
// fresh data key and has the key service wrap that data key. Both layers are bound to the
// credential (organization, id, secret version, auth type), so a sealed secret copied onto another
// row or version does not open.
import { randomBytes } from 'node:crypto';
import { AEAD_ALGORITHM, AEAD_KEY_BYTES, DecryptionError, openAead, sealAead } from './aead';
import type { KeyService, WrappedDataKey } from './key-service';

/** Identifies the row a secret belongs to; every field goes into the additional authenticated data. */
export interface SecretBinding {
  organizationId: string;
  credentialId: string;
  secretVersion: number;
  authType: string;
}

export interface SealedSecret {
  /** The payload cipher; only AEAD_ALGORITHM exists so far. */
  algorithm: string;
  /** Encrypted payload JSON followed by the 16-byte tag. */
  ciphertext: Buffer;
  nonce: Buffer;
  /** The data key as wrapped by the key service. */
  wrappedKey: Buffer;
  /** The key service's id of the wrapping key. */
  keyId: string;
}

/** Purpose and format version in front of the fields, so this AAD can never equal one made for something else. */
export const SECRET_AAD_CONTEXT = 'credential-vault/v1/credential-secret';

/**
 * The canonical AAD for a binding: JSON of a fixed-order array. JSON string escaping makes the
 * encoding unambiguous (no separator a field value could forge), and JSON.stringify escapes lone
 * surrogates, so distinct strings always encode to distinct bytes.
 */
export function additionalData(binding: SecretBinding): Buffer {
  const { organizationId, credentialId, secretVersion, authType } = binding;
  for (const [field, value] of Object.entries({ organizationId, credentialId, authType })) {
    if (typeof value !== 'string' || value === '') throw new TypeError(`SecretBinding.${field} must be a non-empty string`);
  }
  // NaN and Infinity would serialise as null and collide; fractions invite rounding surprises.
  if (!Number.isSafeInteger(secretVersion) || secretVersion < 0) {
    throw new TypeError('SecretBinding.secretVersion must be a non-negative integer');
  }
  return Buffer.from(JSON.stringify([SECRET_AAD_CONTEXT, organizationId, credentialId, secretVersion, authType]), 'utf8');
}

export class EnvelopeCipher {
  constructor(private readonly keyService: KeyService) {}

  async seal(payload: object, binding: SecretBinding): Promise<SealedSecret> {
    if (!isPlainObject(payload)) throw new TypeError('The secret payload must be a JSON object');
    const aad = additionalData(binding);
    const plaintext = Buffer.from(JSON.stringify(payload), 'utf8');
    const dataKey = randomBytes(AEAD_KEY_BYTES);
    try {
      const { nonce, ciphertext } = sealAead(dataKey, plaintext, aad);
      // Errors from the key service (an outage, say) propagate as they are; callers map them.
      const wrapped = await this.keyService.wrap(dataKey, aad);
      return { algorithm: AEAD_ALGORITHM, ciphertext, nonce, wrappedKey: wrapped.wrappedKey, keyId: wrapped.keyId };
    } finally {
      dataKey.fill(0);
      plaintext.fill(0);
    }
  }

  async open(sealed: SealedSecret, binding: SecretBinding): Promise<Record<string, unknown>> {
    if (sealed.algorithm !== AEAD_ALGORITHM) {
      throw new DecryptionError(`unsupported algorithm ${JSON.stringify(String(sealed.algorithm).slice(0, 40))}`);
    }
    const aad = additionalData(binding);
    // Not wrapped in try/catch: key service errors (outage, unknown key) must keep their identity.
    const dataKey = await this.keyService.unwrap({ keyId: sealed.keyId, wrappedKey: sealed.wrappedKey }, aad);
    let plaintext: Buffer;
    try {
      plaintext = openAead(dataKey, sealed.nonce, sealed.ciphertext, aad);
    } finally {
      dataKey.fill(0);
    }
    try {
      return parsePayload(plaintext);
    } finally {
      plaintext.fill(0);
    }
  }

  /**
   * Wraps a stored data key again under the key service's primary key, bound to the same row.
   * The secret's own ciphertext and nonce are untouched; the plaintext data key is wiped.
   */
  async rewrapDataKey(wrapped: WrappedDataKey, binding: SecretBinding): Promise<WrappedDataKey> {
    const aad = additionalData(binding);
    const dataKey = await this.keyService.unwrap(wrapped, aad);
    try {
      return await this.keyService.wrap(dataKey, aad);
    } finally {
      dataKey.fill(0);
    }
  }

  /** The key id a data key wrapped now would carry. */
  primaryKeyId(): Promise<string> {
    return this.keyService.primaryKeyId();
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parsePayload(plaintext: Buffer): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(plaintext.toString('utf8'));
  } catch {
    // JSON.parse quotes the input around the error position; that would be the secret itself.
    throw new DecryptionError('payload is not valid JSON');
  }
  if (!isPlainObject(value)) throw new DecryptionError('payload is not a JSON object');
  return value;
}
