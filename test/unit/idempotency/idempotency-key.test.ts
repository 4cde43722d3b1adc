// The Idempotency-Key header's rules (1 to 255 printable ASCII characters) and the request
// fingerprint: the same request gives the same hash however its object was built, any other
// request, operation, key or organization another one, and the hash never holds the request.
import { BadUserInputError } from '../../../src/errors/app-error';
import { checkIdempotencyKey, requestFingerprint } from '../../../src/idempotency/idempotency-key';

const scope = { organizationId: '7f1c5f4e-2f55-4a53-9a57-2f0f5a1f0c11', key: 'retry-1' };
const request = { name: 'prod', modelProvider: 'OPENAI', auth: { apiKey: { apiKey: 'sk-secret-0123456789' } }, settings: { region: 'eu' } };

describe('checkIdempotencyKey', () => {
  test.each([
    ['one character', 'a'],
    ['255 characters', 'k'.repeat(255)],
    ['every printable ASCII character', Array.from({ length: 95 }, (_, index) => String.fromCharCode(32 + index)).join('')],
  ])('accepts %s', (_case, key) => {
    expect(checkIdempotencyKey(key)).toBe(key);
  });

  test.each([
    ['an empty key', ''],
    ['256 characters', 'k'.repeat(256)],
    ['a tab', 'a\tb'],
    ['a line feed', 'a\nb'],
    ['DEL', 'a\u007fb'],
    ['a Latin-1 letter', 'clé'],
    ['an emoji', 'key-🔑'],
  ])('refuses %s with BAD_USER_INPUT naming the header', (_case, key) => {
    let refused: unknown;
    try {
      checkIdempotencyKey(key);
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(BadUserInputError);
    expect((refused as BadUserInputError).field).toBe('Idempotency-Key');
  });
});

describe('requestFingerprint', () => {
  test('is the same for the same request built in another member order, with undefined members', () => {
    const reordered = {
      settings: { region: 'eu' },
      baseUrl: undefined,
      auth: { apiKey: { apiKey: 'sk-secret-0123456789' } },
      modelProvider: 'OPENAI',
      name: 'prod',
    };

    expect(requestFingerprint(scope, 'createCredential', reordered)).toBe(requestFingerprint(scope, 'createCredential', request));
  });

  test('differs for another value, another operation, another key and another organization', () => {
    const base = requestFingerprint(scope, 'createCredential', request);
    const others = [
      requestFingerprint(scope, 'createCredential', { ...request, auth: { apiKey: { apiKey: 'sk-secret-0123456780' } } }),
      requestFingerprint(scope, 'createCredential', { ...request, baseUrl: null }),
      requestFingerprint(scope, 'createProvider', request),
      requestFingerprint({ ...scope, key: 'retry-2' }, 'createCredential', request),
      requestFingerprint({ ...scope, organizationId: '0b7a7d6c-6d7e-4c38-8c43-0d3f6d1a2b33' }, 'createCredential', request),
    ];

    expect(new Set([base, ...others]).size).toBe(others.length + 1);
  });

  test('is a SHA-256 in hex, holding nothing of the request', () => {
    const fingerprint = requestFingerprint(scope, 'createCredential', request);

    expect(fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(fingerprint).not.toContain(Buffer.from('sk-secret').toString('hex'));
  });
});
