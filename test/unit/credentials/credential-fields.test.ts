// A credential's non-secret fields: the name (trimmed, 1..200), the base URL (absolute http(s),
// no credentials, no fragment) and the settings (a JSON object of at most 16 KiB, no key that
// names a secret). Rejections name the input path and never repeat a value.
import { resolveDefaultBaseUrl } from '../../../src/credentials/credential-base-url';
import {
  BASE_URL_MAX_LENGTH,
  checkBaseUrl,
  checkName,
  checkSettings,
  NAME_MAX_LENGTH,
  SETTINGS_MAX_BYTES,
} from '../../../src/fields/field-checks';
import { BadUserInputError } from '../../../src/errors/app-error';
import { thrownBy } from '../../support/failures';

describe('checkName', () => {
  test('trims surrounding whitespace', () => {
    expect(checkName('input.name', '  prod key \n')).toBe('prod key');
  });

  test(`${NAME_MAX_LENGTH} characters are accepted`, () => {
    expect(checkName('input.name', 'n'.repeat(200))).toHaveLength(200);
  });

  test('200 characters surrounded by spaces are accepted: the limit applies after trimming', () => {
    expect(checkName('input.name', `   ${'n'.repeat(200)}   `)).toHaveLength(200);
  });

  test('201 characters are rejected', () => {
    const error = thrownBy(() => checkName('input.name', 'n'.repeat(201)), BadUserInputError);
    expect(error.field).toBe('input.name');
    expect(error.message).toBe('name must be at most 200 characters.');
  });

  test('one character is accepted', () => {
    expect(checkName('input.name', 'x')).toBe('x');
  });

  test.each([
    ['empty', ''],
    ['blank', ' \t\n '],
  ])('an %s name is rejected', (_label, name) => {
    expect(thrownBy(() => checkName('input.name', name), BadUserInputError).message).toBe('name must not be blank.');
  });

  test('a control character inside the name is rejected', () => {
    expect(thrownBy(() => checkName('input.name', 'a\u0007b'), BadUserInputError).message).toBe(
      'name must not contain control characters or unpaired surrogates.',
    );
  });

  test('a line break inside the name is rejected', () => {
    expect(thrownBy(() => checkName('input.name', 'first\nsecond'), BadUserInputError).field).toBe('input.name');
  });

  test('a non-string is rejected as missing', () => {
    expect(thrownBy(() => checkName('input.name', undefined), BadUserInputError).message).toBe('name is required.');
  });

  test('the field reported is the one given', () => {
    expect(thrownBy(() => checkName('input.other', ''), BadUserInputError).field).toBe('input.other');
  });
});

describe('checkBaseUrl', () => {
  test.each(['https://api.example.com/v1', 'https://api.example.com:8443', 'https://example.com/v1?api-version=2024-02-01'])(
    '%s is accepted as given',
    (url) => {
      expect(checkBaseUrl('input.baseUrl', url)).toBe(url);
    },
  );

  test('http://localhost:8080 is accepted as given where private targets are allowed (BASE_URL_ALLOW_PRIVATE)', () => {
    expect(checkBaseUrl('input.baseUrl', 'http://localhost:8080', { allowPrivate: true })).toBe('http://localhost:8080');
  });

  test(`a URL of ${BASE_URL_MAX_LENGTH} characters is accepted`, () => {
    const url = `https://example.com/${'p'.repeat(2048 - 'https://example.com/'.length)}`;
    expect(url).toHaveLength(2048);
    expect(checkBaseUrl('input.baseUrl', url)).toBe(url);
  });

  test('a URL of 2049 characters is rejected', () => {
    const url = `https://example.com/${'p'.repeat(2049 - 'https://example.com/'.length)}`;
    expect(thrownBy(() => checkBaseUrl('input.baseUrl', url), BadUserInputError).message).toBe('baseUrl must be at most 2048 characters.');
  });

  test.each([
    ['a relative URL', '/v1/canary'],
    ['no scheme', 'api.canary.com'],
    ['ftp', 'ftp://canary.example.com'],
    ['file', 'file:///etc/canary'],
    ['javascript', 'javascript:canary()'],
  ])('%s is rejected as not an absolute http(s) URL, without echoing it', (_label, url) => {
    const error = thrownBy(() => checkBaseUrl('input.baseUrl', url), BadUserInputError);
    expect(error.field).toBe('input.baseUrl');
    expect(error.message).toBe('baseUrl must be an absolute http(s) URL.');
    expect(error.message).not.toContain('canary');
  });

  test('a password in the URL is rejected without repeating it', () => {
    const error = thrownBy(() => checkBaseUrl('input.baseUrl', 'https://user:canary-password@api.example.com'), BadUserInputError);
    expect(error.message).toBe('baseUrl must not contain a user name or password; put credentials in auth.');
    expect(error.message).not.toContain('canary-password');
  });

  test('a user name alone in the URL is rejected', () => {
    expect(thrownBy(() => checkBaseUrl('input.baseUrl', 'https://canary@api.example.com'), BadUserInputError).message).toMatch(
      /user name or password/,
    );
  });

  test('a fragment is rejected', () => {
    expect(thrownBy(() => checkBaseUrl('input.baseUrl', 'https://api.example.com/v1#canary'), BadUserInputError).message).toBe(
      'baseUrl must not contain a fragment.',
    );
  });
});

describe('checkSettings', () => {
  test('a JSON object is returned as given', () => {
    const settings = { region: 'eu-west-1', api_version: '2024-02-01', nested: { a: [1, 2] } };
    expect(checkSettings('input.settings', settings)).toBe(settings);
  });

  test.each([
    ['an array', []],
    ['null', null],
    ['a string', 'canary'],
    ['a number', 1],
  ])('%s is rejected as not a JSON object', (_label, value) => {
    const error = thrownBy(() => checkSettings('input.settings', value), BadUserInputError);
    expect(error.field).toBe('input.settings');
    expect(error.message).toBe('settings must be a JSON object.');
  });

  /** Settings whose JSON is exactly `bytes` long: {"k":"xxx..."} */
  function settingsOfBytes(bytes: number): Record<string, unknown> {
    const overhead = Buffer.byteLength(JSON.stringify({ k: '' }));
    const settings = { k: 'x'.repeat(bytes - overhead) };
    expect(Buffer.byteLength(JSON.stringify(settings))).toBe(bytes);
    return settings;
  }

  test(`${SETTINGS_MAX_BYTES} bytes of JSON are accepted`, () => {
    expect(() => checkSettings('input.settings', settingsOfBytes(16384))).not.toThrow();
  });

  test('16385 bytes of JSON are rejected', () => {
    expect(thrownBy(() => checkSettings('input.settings', settingsOfBytes(16385)), BadUserInputError).message).toBe(
      'settings must be at most 16384 bytes of JSON.',
    );
  });

  test('the size counts UTF-8 bytes, not characters', () => {
    const overhead = Buffer.byteLength(JSON.stringify({ k: '' }));
    // Each é is two bytes: half as many characters reach the same byte count.
    const settings = { k: 'é'.repeat(Math.ceil((16385 - overhead) / 2)) };
    expect(thrownBy(() => checkSettings('input.settings', settings), BadUserInputError).field).toBe('input.settings');
  });

  test.each([
    'apiKey',
    'api_key',
    'api-key',
    'APIKEY',
    'secret',
    'secretAccessKey',
    'secret_access_key',
    'password',
    'passwd',
    'privateKey',
    'private_key',
    'token',
    'accessToken',
    'refresh_token',
    'sessionToken',
    'externalId',
    'external-id',
    'clientSecret',
    'client_secret',
    'Authorization',
  ])('a secret-like key "%s" is refused on its own path, without its value', (key) => {
    const error = thrownBy(() => checkSettings('input.settings', { region: 'us-east-1', [key]: 'canary-secret-value' }), BadUserInputError);
    expect(error.field).toBe(`input.settings.${key}`);
    expect(error.message).toBe(`settings hold non-secret values only; put "${key}" in auth, where it is encrypted.`);
    expect(error.message).not.toContain('canary-secret-value');
  });

  test('a secret-like key nested in an object is refused on its full path', () => {
    const error = thrownBy(
      () => checkSettings('input.settings', { headers: { Authorization: 'Bearer canary-secret-value' } }),
      BadUserInputError,
    );
    expect(error.field).toBe('input.settings.headers.Authorization');
    expect(error.message).not.toContain('canary-secret-value');
  });

  test('a secret-like key inside an array of objects is refused with the index in its path', () => {
    const error = thrownBy(
      () => checkSettings('input.settings', { upstreams: [{ url: 'https://a.example' }, { api_key: 'canary-secret-value' }] }),
      BadUserInputError,
    );
    expect(error.field).toBe('input.settings.upstreams.1.api_key');
  });

  test.each(['region', 'location', 'api_version', 'project_id', 'model_api_family', 'token_limit', 'max_tokens', 'secret_version'])(
    'an ordinary key "%s" is accepted',
    (key) => {
      expect(() => checkSettings('input.settings', { [key]: 'value' })).not.toThrow();
    },
  );
});

describe('resolveDefaultBaseUrl', () => {
  const paths = { baseUrl: 'input.baseUrl', settings: 'input.settings' };

  test("returns the provider's default URL", () => {
    expect(resolveDefaultBaseUrl('OPENAI', {}, paths)).toBe('https://api.openai.com/v1');
  });

  test('a malformed region is BAD_USER_INPUT on settings.region', () => {
    const error = thrownBy(() => resolveDefaultBaseUrl('BEDROCK', { region: 'canary.evil.com' }, paths), BadUserInputError);
    expect(error.field).toBe('input.settings.region');
    expect(error.message).not.toContain('canary');
  });

  test.each(['AZURE_OPENAI', 'CUSTOM'] as const)('%s without baseUrl is BAD_USER_INPUT on baseUrl', (provider) => {
    const error = thrownBy(() => resolveDefaultBaseUrl(provider, {}, paths), BadUserInputError);
    expect(error.field).toBe('input.baseUrl');
    expect(error.message).toBe(`baseUrl is required for ${provider}: it has no public default endpoint.`);
  });
});
