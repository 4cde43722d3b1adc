// Which settings keys and query parameter names say that their value is a secret: every spelling
// of the secret words (case, separators, camel case, compatibility forms, invisible characters,
// accents, look-alike letters, digits for letters), wherever they stand in the name, and none of
// the names the catalog and the contract give to ordinary settings.
import { MODEL_PROVIDER_CATALOG, MODEL_PROVIDERS } from '../../../src/catalog/model-provider-catalog';
import { looksLikeSecretKey } from '../../../src/fields/secret-like-key';

/** Every settings key the catalog itself uses: the settings a default base URL is built from, and the headers it adds beside a key. */
const CATALOG_SETTINGS_KEYS = [
  ...new Set(
    MODEL_PROVIDERS.flatMap((modelProvider) => {
      const entry = MODEL_PROVIDER_CATALOG[modelProvider];
      return [...(entry.urlParameter ? [entry.urlParameter.setting] : []), ...Object.keys(entry.apiKeyHeader?.extra ?? {})];
    }),
  ),
];

/** The headers the catalog sends an API key in: a settings key of that name would hold the key. */
const CATALOG_KEY_HEADERS = [
  ...new Set(MODEL_PROVIDERS.map((modelProvider) => MODEL_PROVIDER_CATALOG[modelProvider].apiKeyHeader?.name ?? 'authorization')),
];

describe('names of secrets are recognised', () => {
  test.each([
    // the words themselves, in every case and separator style
    'api_key',
    'apiKey',
    'api-key',
    'APIKEY',
    'ApiKey',
    'api.key',
    'api key',
    'x-api-key',
    'X-Api-Key',
    'X_API_KEY',
    'XApiKey',
    'x-goog-api-key',
    'Ocp-Apim-Subscription-Key',
    'secret',
    'secretKey',
    'secret_key',
    'client_secret',
    'clientSecret',
    'aws_secret_access_key',
    'AWS_SECRET_ACCESS_KEY',
    'secretAccessKey',
    'access_key',
    'password',
    'Password',
    'db_password',
    'passwd',
    'passphrase',
    'private_key',
    'privateKey',
    'private_key_pem',
    'privateKeyPem',
    'credential',
    'credentials',
    'google_credentials',
    'connection_string',
    'connectionString',
    'ConnectionString',
    'cookie',
    'Cookie',
    'Set-Cookie',
    'authorization',
    'Authorization',
    'Proxy-Authorization',
    'bearer',
    'bearer_token',
    'token',
    'access_token',
    'accessToken',
    'refresh_token',
    'session_token',
    'sessionToken',
    'x-amz-security-token',
    'X-Amz-Security-Token',
    'sas_token',
    'sasToken',
    'oauth_token',
    'id_token',
    'hf_token',
    'github_token',
    'x-auth-token',
    'api_token',
    'external_id',
    'externalId',
    'storage_account_key',
    'signing_key',
    'encryption_key',
    'master_key',
    'openai_key',
    'key',
    'KEY',
    'sig',
    'signature',
    'pwd',
    'jwt',
    'passwords',
    'cookies',
  ])('%s', (name) => {
    expect(looksLikeSecretKey(name)).toBe(true);
  });
});

describe('however it is spelled', () => {
  test.each([
    ['a zero-width space inside', 'api\u200bkey'],
    ['a zero-width joiner inside', 'pass\u200dword'],
    ['a soft hyphen inside', 'se\u00adcret'],
    ['a word joiner inside', 'to\u2060ken'],
    ['a byte-order mark in front', '\ufeffapi_key'],
    ['a tag character inside', 'api\u{e0041}key'],
    ['a Cyrillic a', '\u0430pi_key'],
    ['a Cyrillic e and o', 's\u0435cr\u0435t_t\u043eken'],
    ['Cyrillic p, a, s', '\u0440\u0430\u0455\u0455word'],
    ['a Greek omicron', 't\u03bfken'],
    ['a Greek iota and kappa', 'ap\u03b9_\u03baey'],
    ['an Armenian o', 'c\u0585\u0585kie'],
    ['a dotless i', 'ap\u0131_key'],
    ['small capitals', '\u1d00\u1d18\u026a\u1d0b\u1d07\u028f'],
    ['full-width letters', '\uff41\uff50\uff49\uff3f\uff4b\uff45\uff59'],
    ['mathematical bold letters', '\u{1d41a}\u{1d429}\u{1d422}\u{1d40a}\u{1d41e}\u{1d432}'],
    ['circled letters', '\u24df\u24d0\u24e2\u24e2\u24e6\u24de\u24e1\u24d3'],
    ['an accent', 'pass\u0077\u00f3rd'],
    ['a combining accent', 'se\u0301cret'],
    ['a zero for an o', 'passw0rd'],
    ['a one for an i', 'ap1_key'],
    ['a three for an e', 's3cret'],
    ['a nested-looking key', 'headers.X-Api-Key'],
    ['a prefix and a suffix', 'my_upstream_api_key_value'],
  ])('with %s', (_label, name) => {
    expect(looksLikeSecretKey(name)).toBe(true);
  });
});

describe('ordinary settings are not taken for secrets', () => {
  test.each(CATALOG_SETTINGS_KEYS)('the catalog setting %s', (name) => {
    expect(looksLikeSecretKey(name)).toBe(false);
  });

  test('the catalog settings were found (so the test above checks something)', () => {
    expect(CATALOG_SETTINGS_KEYS).toEqual(expect.arrayContaining(['region', 'location', 'anthropic-version']));
  });

  test.each([
    // the settings the contract names, and their other spellings
    'region',
    'location',
    'project_id',
    'projectId',
    'quota_project_id',
    'api_version',
    'apiVersion',
    'api-version',
    'ApiVersion',
    'model_api_family',
    'iam_role_arn',
    'anthropic_version',
    'anthropicVersion',
    'anthropic-beta',
    'deployment',
    'deployment_name',
    'deploymentId',
    'azure_deployment',
    'organization',
    'OpenAI-Organization',
    'OpenAI-Project',
    'project',
    'model',
    'base_model',
    'timeout_ms',
    'weight',
    'team',
    'notes',
    'endpoint',
    'api_base',
    'api_type',
    'publisher',
    'inference_profile_arn',
    'guardrail_id',
    'guardrail_version',
    // words that contain or resemble a secret word without naming a secret
    'max_tokens',
    'maxTokens',
    'max_output_tokens',
    'token_limit',
    'tokenizer',
    'count_tokens',
    'secret_version',
    'secretVersion',
    'secret_rotated_at',
    'secretPath',
    'api_key_header',
    'apiKeyHeader',
    'api_key_name',
    'api_key_id',
    'key_last4',
    'cache_key',
    'partition_key',
    'idempotency_key',
    'monkey',
    'hotkey',
    'author',
    'oauth_passthrough',
    'passthrough',
    'keep_alive',
    'signature_version',
    'cookie_name',
    'user',
    'temperature',
    'top_p',
    'stop_sequences',
    'reasoning_effort',
    'thinking_budget',
    'v1',
    '',
  ])('%s', (name) => {
    expect(looksLikeSecretKey(name)).toBe(false);
  });
});

test.each(CATALOG_KEY_HEADERS)('the header %s, which the catalog sends an API key in, is a secret as a settings key', (header) => {
  expect(looksLikeSecretKey(header)).toBe(true);
});
