// AES-256-GCM wrapper: round trip, rejection of every kind of tampering, and nonce uniqueness.
import { randomBytes } from 'node:crypto';
import {
  AEAD_ALGORITHM,
  AEAD_NONCE_BYTES,
  AEAD_TAG_BYTES,
  DecryptionError,
  openAead,
  openAeadDetached,
  sealAead,
} from '../../../src/secrets/aead';
import { flipBit } from '../../support/factories';

const key = randomBytes(32);
const aad = Buffer.from('credential-vault/test');
const message = Buffer.from('sk-test!');

describe('aead', () => {
  test('names the algorithm AES-256-GCM', () => {
    expect(AEAD_ALGORITHM).toBe('AES-256-GCM');
  });

  test('round-trips plaintext with a 12-byte nonce and a 16-byte tag appended', () => {
    const { nonce, ciphertext } = sealAead(key, message, aad);
    expect(nonce).toHaveLength(AEAD_NONCE_BYTES);
    expect(ciphertext).toHaveLength(message.length + AEAD_TAG_BYTES);
    expect(openAead(key, nonce, ciphertext, aad)).toEqual(message);
  });

  test('round-trips an empty plaintext', () => {
    const { nonce, ciphertext } = sealAead(key, Buffer.alloc(0), aad);
    expect(openAead(key, nonce, ciphertext, aad)).toEqual(Buffer.alloc(0));
  });

  test('fails to open with different additional data', () => {
    const { nonce, ciphertext } = sealAead(key, message, aad);
    expect(() => openAead(key, nonce, ciphertext, Buffer.from('credential-vault/other'))).toThrow(DecryptionError);
  });

  test('fails to open with a different key', () => {
    const { nonce, ciphertext } = sealAead(key, message, aad);
    expect(() => openAead(randomBytes(32), nonce, ciphertext, aad)).toThrow(DecryptionError);
  });

  test('fails on every single-bit flip of the nonce', () => {
    const { nonce, ciphertext } = sealAead(key, message, aad);
    let rejected = 0;
    for (let bit = 0; bit < nonce.length * 8; bit += 1) {
      expect(() => openAead(key, flipBit(nonce, bit), ciphertext, aad)).toThrow(DecryptionError);
      rejected += 1;
    }
    expect(rejected).toBe(AEAD_NONCE_BYTES * 8);
  });

  test('fails on every single-bit flip of the encrypted bytes and the tag', () => {
    const { nonce, ciphertext } = sealAead(key, message, aad);
    let rejected = 0;
    for (let bit = 0; bit < ciphertext.length * 8; bit += 1) {
      expect(() => openAead(key, nonce, flipBit(ciphertext, bit), aad)).toThrow(DecryptionError);
      rejected += 1;
    }
    expect(rejected).toBe((message.length + AEAD_TAG_BYTES) * 8);
  });

  test('fails on every truncation of the ciphertext', () => {
    const { nonce, ciphertext } = sealAead(key, message, aad);
    for (let length = 0; length < ciphertext.length; length += 1) {
      expect(() => openAead(key, nonce, ciphertext.subarray(0, length), aad)).toThrow(DecryptionError);
    }
  });

  test('fails on every truncation of the nonce', () => {
    const { nonce, ciphertext } = sealAead(key, message, aad);
    for (let length = 0; length < nonce.length; length += 1) {
      expect(() => openAead(key, nonce.subarray(0, length), ciphertext, aad)).toThrow(DecryptionError);
    }
  });

  test('rejects a key that is not 32 bytes when opening', () => {
    const { nonce, ciphertext } = sealAead(key, message, aad);
    expect(() => openAead(key.subarray(0, 16), nonce, ciphertext, aad)).toThrow(DecryptionError);
  });

  test('refuses to seal with a key that is not 32 bytes', () => {
    expect(() => sealAead(randomBytes(16), message, aad)).toThrow(RangeError);
  });

  test('rejects a detached tag shorter than 16 bytes even when it is a valid truncated GCM tag', () => {
    const { nonce, ciphertext } = sealAead(key, message, aad);
    const body = ciphertext.subarray(0, message.length);
    const shortTag = ciphertext.subarray(message.length, message.length + 12);
    expect(() => openAeadDetached(key, nonce, body, shortTag, aad)).toThrow(DecryptionError);
  });

  test('keeps key and plaintext bytes out of the error message', () => {
    const secret = Buffer.from('super-secret-api-key-value');
    const { nonce, ciphertext } = sealAead(key, secret, aad);
    let message = '';
    try {
      openAead(key, nonce, flipBit(ciphertext, 0), aad);
    } catch (error) {
      message = String(error instanceof Error ? `${error.message} ${String(error.stack)}` : error);
    }
    expect(message).toMatch(/Decryption failed/);
    for (const encoding of ['hex', 'base64', 'utf8'] as const) {
      expect(message).not.toContain(key.toString(encoding));
      expect(message).not.toContain(secret.toString(encoding));
    }
  });

  test('draws 100,000 distinct nonces in 100,000 seals', () => {
    const small = Buffer.from('x');
    const nonces = new Set<string>();
    for (let i = 0; i < 100_000; i += 1) nonces.add(sealAead(key, small, aad).nonce.toString('hex'));
    expect(nonces.size).toBe(100_000);
  });
});
