// AES-256-GCM authenticated encryption with additional data: the one cipher every secret and every
// locally wrapped data key goes through. Production parameters are fixed (32-byte key, 12-byte
// random nonce, 16-byte tag); anything else is refused rather than negotiated.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export const AEAD_ALGORITHM = 'AES-256-GCM';
export const AEAD_KEY_BYTES = 32;
export const AEAD_NONCE_BYTES = 12;
export const AEAD_TAG_BYTES = 16;

const NODE_CIPHER = 'aes-256-gcm';

/** Output of sealAead; `ciphertext` is the encrypted bytes followed by the 16-byte tag. */
export interface AeadSealed {
  nonce: Buffer;
  ciphertext: Buffer;
}

/**
 * Any failure to decrypt. The message is one of a few fixed phrases written here, never derived from
 * the inputs, so it cannot carry key or plaintext bytes into logs or client responses.
 */
export class DecryptionError extends Error {
  constructor(reason: string) {
    super(`Decryption failed: ${reason}`);
    this.name = 'DecryptionError';
  }
}

/** Encrypts under a fresh random nonce. Random 96-bit nonces are safe for far more messages than a data key ever sees. */
export function sealAead(key: Buffer, plaintext: Buffer, aad: Buffer): AeadSealed {
  if (key.length !== AEAD_KEY_BYTES) {
    throw new RangeError(`${AEAD_ALGORITHM} needs a ${AEAD_KEY_BYTES}-byte key, got ${key.length} bytes`);
  }
  const nonce = randomBytes(AEAD_NONCE_BYTES);
  const cipher = createCipheriv(NODE_CIPHER, key, nonce, { authTagLength: AEAD_TAG_BYTES });
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return { nonce, ciphertext };
}

/** Decrypts `ciphertext` = encrypted bytes || tag, as produced by sealAead. */
export function openAead(key: Buffer, nonce: Buffer, ciphertext: Buffer, aad: Buffer): Buffer {
  if (ciphertext.length < AEAD_TAG_BYTES) throw new DecryptionError('ciphertext is shorter than the authentication tag');
  const split = ciphertext.length - AEAD_TAG_BYTES;
  return openAeadDetached(key, nonce, ciphertext.subarray(0, split), ciphertext.subarray(split), aad);
}

/**
 * Decrypts with the tag passed separately (the shape test vectors come in). It accepts buffers of any
 * length but supports only the production parameters; every other key, nonce or tag size is rejected
 * with DecryptionError, so callers never get a weaker configuration by passing odd sizes.
 */
export function openAeadDetached(key: Buffer, nonce: Buffer, ciphertext: Buffer, tag: Buffer, aad: Buffer): Buffer {
  if (key.length !== AEAD_KEY_BYTES) throw new DecryptionError(`key must be ${AEAD_KEY_BYTES} bytes`);
  if (nonce.length !== AEAD_NONCE_BYTES) throw new DecryptionError(`nonce must be ${AEAD_NONCE_BYTES} bytes`);
  // Node would accept shorter GCM tags unless told otherwise; truncated tags weaken authentication.
  if (tag.length !== AEAD_TAG_BYTES) throw new DecryptionError(`authentication tag must be ${AEAD_TAG_BYTES} bytes`);

  const decipher = createDecipheriv(NODE_CIPHER, key, nonce, { authTagLength: AEAD_TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  // GCM releases plaintext before the tag is checked; it is only handed out after final() succeeds
  // and is wiped otherwise, so unauthenticated bytes never leave this function.
  const head = decipher.update(ciphertext);
  let tail: Buffer;
  try {
    tail = decipher.final();
  } catch {
    head.fill(0);
    // The cause is dropped on purpose: nothing from OpenSSL should end up next to secret material.
    throw new DecryptionError('authentication failed (wrong key, nonce, additional data, or tampered ciphertext)');
  }
  if (tail.length === 0) return head;
  const plaintext = Buffer.concat([head, tail]);
  head.fill(0);
  tail.fill(0);
  return plaintext;
}
