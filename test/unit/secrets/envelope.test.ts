// Envelope encryption: round trip, binding to the credential row, tamper resistance, fresh data
// keys, and errors from the key service passing through untouched.
import { AEAD_ALGORITHM, DecryptionError } from '../../../src/secrets/aead';
import { additionalData, EnvelopeCipher, type SealedSecret, type SecretBinding } from '../../../src/secrets/envelope';
import type { KeyService, WrappedDataKey } from '../../../src/secrets/key-service';
import { LocalKeyring } from '../../../src/secrets/local-keyring';
import { flipBit } from '../../support/factories';
import { rejectionOf } from '../../support/failures';
import { TempDirs } from '../../support/temp-dirs';

const binding: SecretBinding = {
  organizationId: 'org-7f3a',
  credentialId: 'cred-91c2',
  secretVersion: 3,
  authType: 'API_KEY',
};
const payload = { apiKey: 'sk-live-5e1b9d0c7a4f42e8', header: 'x-api-key' };

/** Records what the cipher hands to the key service; wraps by a reversible XOR so it stays out of the way. */
class RecordingKeyService implements KeyService {
  readonly name = 'recording';
  readonly wrapped: { dataKey: Buffer; copy: Buffer; aad: Buffer }[] = [];
  wrapError?: Error;
  unwrapError?: Error;

  wrap(dataKey: Buffer, aad: Buffer): Promise<WrappedDataKey> {
    if (this.wrapError) return Promise.reject(this.wrapError);
    this.wrapped.push({ dataKey, copy: Buffer.from(dataKey), aad: Buffer.from(aad) });
    return Promise.resolve({ keyId: 'recording:1', wrappedKey: Buffer.from(dataKey.map((byte) => byte ^ 0x5a)) });
  }

  unwrap(wrapped: WrappedDataKey): Promise<Buffer> {
    if (this.unwrapError) return Promise.reject(this.unwrapError);
    return Promise.resolve(Buffer.from(wrapped.wrappedKey.map((byte) => byte ^ 0x5a)));
  }

  checkReady(): Promise<void> {
    return Promise.resolve();
  }

  primaryKeyId(): Promise<string> {
    return Promise.resolve('recording:1');
  }
}

class KmsUnavailable extends Error {}

const tempDirs = new TempDirs('envelope-');
let cipher: EnvelopeCipher;

beforeEach(async () => {
  cipher = new EnvelopeCipher(await LocalKeyring.open(tempDirs.make(), { production: false }));
});

afterEach(() => {
  tempDirs.removeAll();
});

describe('additionalData', () => {
  test('encodes the binding as a prefixed fixed-order JSON array', () => {
    expect(additionalData(binding).toString('utf8')).toBe('["credential-vault/v1/credential-secret","org-7f3a","cred-91c2",3,"API_KEY"]');
  });

  test('keeps field boundaries unambiguous when values contain separators and quotes', () => {
    const a = additionalData({ ...binding, organizationId: 'a","b', credentialId: 'c' });
    const b = additionalData({ ...binding, organizationId: 'a', credentialId: 'b","c' });
    expect(a.equals(b)).toBe(false);
  });

  test.each([Number.NaN, 1.5, -1, Number.POSITIVE_INFINITY])('rejects secretVersion %p', (secretVersion) => {
    expect(() => additionalData({ ...binding, secretVersion })).toThrow(TypeError);
  });
});

describe('EnvelopeCipher', () => {
  test('round-trips a JSON payload', async () => {
    const sealed = await cipher.seal(payload, binding);
    expect(sealed.algorithm).toBe(AEAD_ALGORITHM);
    expect(sealed.keyId).toBe('local:1');
    expect(await cipher.open(sealed, binding)).toEqual(payload);
  });

  test.each<[string, Partial<SecretBinding>]>([
    ['organizationId', { organizationId: 'org-other' }],
    ['credentialId', { credentialId: 'cred-other' }],
    ['secretVersion', { secretVersion: 4 }],
    ['authType', { authType: 'OAUTH_CLIENT' }],
  ])('fails to open when %s differs from the binding it was sealed with', async (_field, change) => {
    const sealed = await cipher.seal(payload, binding);
    await expect(cipher.open(sealed, { ...binding, ...change })).rejects.toThrow(DecryptionError);
  });

  test('fails to open after any single-bit flip of the wrapped key', async () => {
    const sealed = await cipher.seal(payload, binding);
    for (let bit = 0; bit < sealed.wrappedKey.length * 8; bit += 1) {
      await expect(cipher.open({ ...sealed, wrappedKey: flipBit(sealed.wrappedKey, bit) }, binding)).rejects.toThrow(DecryptionError);
    }
  });

  test('fails to open after a bit flip in the ciphertext or the nonce', async () => {
    const sealed = await cipher.seal(payload, binding);
    await expect(cipher.open({ ...sealed, ciphertext: flipBit(sealed.ciphertext, 9) }, binding)).rejects.toThrow(DecryptionError);
    await expect(cipher.open({ ...sealed, nonce: flipBit(sealed.nonce, 9) }, binding)).rejects.toThrow(DecryptionError);
  });

  test('fails to open when the wrapped keys of two sealed secrets are swapped', async () => {
    const first = await cipher.seal(payload, binding);
    const second = await cipher.seal({ apiKey: 'sk-live-other' }, binding);
    await expect(cipher.open({ ...first, wrappedKey: second.wrappedKey }, binding)).rejects.toThrow(DecryptionError);
    await expect(cipher.open({ ...second, wrappedKey: first.wrappedKey }, binding)).rejects.toThrow(DecryptionError);
  });

  test('fails to open a sealed secret with an unknown algorithm', async () => {
    const sealed = await cipher.seal(payload, binding);
    await expect(cipher.open({ ...sealed, algorithm: 'AES-128-CBC' }, binding)).rejects.toThrow(DecryptionError);
  });

  test('produces different wrapped keys and ciphertexts when sealing the same payload twice', async () => {
    const first = await cipher.seal(payload, binding);
    const second = await cipher.seal(payload, binding);
    expect(first.wrappedKey.equals(second.wrappedKey)).toBe(false);
    expect(first.ciphertext.equals(second.ciphertext)).toBe(false);
  });

  test('hands the key service a fresh random 32-byte data key on every seal', async () => {
    const keys = new RecordingKeyService();
    const recording = new EnvelopeCipher(keys);
    for (let i = 0; i < 20; i += 1) await recording.seal(payload, binding);
    const distinct = new Set(keys.wrapped.map(({ copy }) => copy.toString('hex')));
    expect(distinct.size).toBe(20);
    for (const { copy } of keys.wrapped) expect(copy).toHaveLength(32);
  });

  test('binds the wrapped data key to the same additional data as the payload', async () => {
    const keys = new RecordingKeyService();
    await new EnvelopeCipher(keys).seal(payload, binding);
    expect(keys.wrapped[0].aad).toEqual(additionalData(binding));
  });

  test('zeroes the data key once sealing is done', async () => {
    const keys = new RecordingKeyService();
    await new EnvelopeCipher(keys).seal(payload, binding);
    const { dataKey, copy } = keys.wrapped[0];
    expect(copy.equals(Buffer.alloc(32))).toBe(false);
    expect(dataKey.equals(Buffer.alloc(32))).toBe(true);
  });

  test('leaves no plaintext payload bytes in any field of the sealed secret', async () => {
    const sealed = await cipher.seal(payload, binding);
    const serialized = Buffer.from(JSON.stringify(payload));
    const needles = [serialized, Buffer.from(payload.apiKey), Buffer.from(payload.apiKey.slice(0, 8))];
    const fields = Object.entries(sealed).map(([name, value]: [string, SealedSecret[keyof SealedSecret]]) => ({
      name,
      bytes: Buffer.isBuffer(value) ? value : Buffer.from(String(value)),
    }));
    expect(fields.map(({ name }) => name).sort()).toEqual(['algorithm', 'ciphertext', 'keyId', 'nonce', 'wrappedKey']);
    for (const { name, bytes } of fields) {
      for (const needle of needles) expect({ name, found: bytes.includes(needle) }).toEqual({ name, found: false });
    }
  });

  test('passes a key service failure during seal through unchanged', async () => {
    const keys = new RecordingKeyService();
    const outage = new KmsUnavailable('KMS is unreachable');
    keys.wrapError = outage;
    await expect(new EnvelopeCipher(keys).seal(payload, binding)).rejects.toBe(outage);
  });

  test('passes a key service failure during open through unchanged', async () => {
    const keys = new RecordingKeyService();
    const recording = new EnvelopeCipher(keys);
    const sealed = await recording.seal(payload, binding);
    const outage = new KmsUnavailable('KMS is unreachable');
    keys.unwrapError = outage;
    await expect(recording.open(sealed, binding)).rejects.toBe(outage);
  });

  test('keeps payload bytes out of the error when opening fails', async () => {
    const keys = new RecordingKeyService();
    const recording = new EnvelopeCipher(keys);
    const sealed = await recording.seal(payload, binding);
    const failure = recording.open(sealed, { ...binding, secretVersion: 9 });
    await expect(failure).rejects.toThrow(DecryptionError);
    const error = await rejectionOf(failure);
    const text = error instanceof Error ? `${error.message}\n${String(error.stack)}` : String(error);
    expect(text).not.toContain(payload.apiKey);
    expect(text).not.toContain(keys.wrapped[0].copy.toString('hex'));
  });

  test('rejects a payload that is not a JSON object', async () => {
    await expect(cipher.seal([], binding)).rejects.toThrow(TypeError);
  });
});
