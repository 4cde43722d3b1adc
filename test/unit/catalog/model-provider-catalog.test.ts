// The provider catalog against the contract's table (shared/docs/api-contract.md, "Which auth
// types each provider takes"): slugs, allowed auth types and their default, default base URLs.
import {
  acceptsAuthType,
  apiKeyHeaders,
  AUTH_TYPES,
  type AuthType,
  modelProviderEntry,
  defaultAuthType,
  defaultBaseUrl,
  MODEL_PROVIDERS,
  type ModelProvider,
  MODEL_PROVIDER_CATALOG,
  modelProviderFromSlug,
  slugOf,
} from '../../../src/catalog/model-provider-catalog';

/** The contract's table, written out: allowed auth types (first = default) and default base URL. */
const CONTRACT: Record<ModelProvider, { authTypes: AuthType[]; baseUrl: string | null }> = {
  OPENAI: { authTypes: ['API_KEY'], baseUrl: 'https://api.openai.com/v1' },
  ANTHROPIC: { authTypes: ['API_KEY'], baseUrl: 'https://api.anthropic.com' },
  AZURE_OPENAI: { authTypes: ['API_KEY'], baseUrl: null },
  GOOGLE_AI: { authTypes: ['API_KEY'], baseUrl: 'https://generativelanguage.googleapis.com' },
  BEDROCK: { authTypes: ['AWS_ROLE', 'AWS_KEYS', 'BEDROCK_API_KEY'], baseUrl: 'https://bedrock-runtime.us-east-1.amazonaws.com' },
  VERTEX: {
    authTypes: ['GOOGLE_ADC', 'GOOGLE_SERVICE_ACCOUNT', 'GOOGLE_IMPERSONATION'],
    baseUrl: 'https://us-central1-aiplatform.googleapis.com',
  },
  GROQ: { authTypes: ['API_KEY'], baseUrl: 'https://api.groq.com/openai/v1' },
  TOGETHER: { authTypes: ['API_KEY'], baseUrl: 'https://api.together.xyz/v1' },
  MISTRAL: { authTypes: ['API_KEY'], baseUrl: 'https://api.mistral.ai/v1' },
  COHERE: { authTypes: ['API_KEY'], baseUrl: 'https://api.cohere.com' },
  XAI: { authTypes: ['API_KEY'], baseUrl: 'https://api.x.ai/v1' },
  FIREWORKS: { authTypes: ['API_KEY'], baseUrl: 'https://api.fireworks.ai/inference/v1' },
  PERPLEXITY: { authTypes: ['API_KEY'], baseUrl: 'https://api.perplexity.ai' },
  OPENROUTER: { authTypes: ['API_KEY'], baseUrl: 'https://openrouter.ai/api/v1' },
  DEEPSEEK: { authTypes: ['API_KEY'], baseUrl: 'https://api.deepseek.com' },
  CUSTOM: { authTypes: ['API_KEY'], baseUrl: null },
};

const providers = [...MODEL_PROVIDERS];

describe('the provider list', () => {
  test("is exactly the contract's ModelProvider enum, in its order", () => {
    expect(providers).toEqual([
      'OPENAI',
      'ANTHROPIC',
      'AZURE_OPENAI',
      'GOOGLE_AI',
      'BEDROCK',
      'VERTEX',
      'GROQ',
      'TOGETHER',
      'MISTRAL',
      'COHERE',
      'XAI',
      'FIREWORKS',
      'PERPLEXITY',
      'OPENROUTER',
      'DEEPSEEK',
      'CUSTOM',
    ]);
  });

  test("the auth types are exactly the contract's AuthType enum, in its order", () => {
    expect([...AUTH_TYPES]).toEqual([
      'API_KEY',
      'AWS_ROLE',
      'AWS_KEYS',
      'BEDROCK_API_KEY',
      'GOOGLE_ADC',
      'GOOGLE_SERVICE_ACCOUNT',
      'GOOGLE_IMPERSONATION',
      'OAUTH_PASSTHROUGH',
    ]);
  });

  test('every provider has a catalog entry, and the catalog has no other', () => {
    expect(Object.keys(MODEL_PROVIDER_CATALOG).sort()).toEqual([...providers].sort());
  });
});

describe('slugs', () => {
  test.each(providers)('%s has the lower-case slug of its name', (provider) => {
    expect(slugOf(provider)).toBe(provider.toLowerCase());
  });

  test('are unique', () => {
    const slugs = providers.map(slugOf);
    expect(new Set(slugs).size).toBe(slugs.length);
  });

  test.each(providers)('%s round-trips through its slug', (provider) => {
    expect(modelProviderFromSlug(slugOf(provider))).toBe(provider);
  });

  test('an unknown slug is an error, as is an enum name given instead of a slug', () => {
    expect(() => modelProviderFromSlug('nope')).toThrow('unknown model provider slug "nope"');
    expect(() => modelProviderFromSlug('OPENAI')).toThrow();
  });
});

describe('allowed auth types', () => {
  test.each(providers)("%s takes exactly the contract's auth types, in order", (provider) => {
    expect([...modelProviderEntry(provider).authTypes]).toEqual(CONTRACT[provider].authTypes);
  });

  test.each(providers)('%s defaults to the first of them', (provider) => {
    expect(defaultAuthType(provider)).toBe(CONTRACT[provider].authTypes[0]);
  });

  test.each(providers)('acceptsAuthType agrees with the contract for %s on every auth type', (provider) => {
    const accepted = AUTH_TYPES.filter((authType) => acceptsAuthType(provider, authType));
    expect(accepted).toEqual([...CONTRACT[provider].authTypes].sort((a, b) => AUTH_TYPES.indexOf(a) - AUTH_TYPES.indexOf(b)));
  });

  test('OAUTH_PASSTHROUGH is accepted by no provider', () => {
    expect(providers.filter((provider) => acceptsAuthType(provider, 'OAUTH_PASSTHROUGH'))).toEqual([]);
  });
});

describe('default base URLs', () => {
  test.each(providers)("%s without settings: the contract's default", (provider) => {
    expect(defaultBaseUrl(provider, {})).toEqual({ url: CONTRACT[provider].baseUrl });
  });

  test('AZURE_OPENAI and CUSTOM have none, whatever the settings', () => {
    expect(defaultBaseUrl('AZURE_OPENAI', { region: 'eu-west-1', location: 'europe-west4' })).toEqual({ url: null });
    expect(defaultBaseUrl('CUSTOM', { region: 'eu-west-1' })).toEqual({ url: null });
  });

  test('BEDROCK substitutes settings.region', () => {
    expect(defaultBaseUrl('BEDROCK', { region: 'eu-central-1' })).toEqual({ url: 'https://bedrock-runtime.eu-central-1.amazonaws.com' });
  });

  test('BEDROCK accepts multi-part regions such as us-gov-west-1 and ap-southeast-2', () => {
    expect(defaultBaseUrl('BEDROCK', { region: 'us-gov-west-1' })).toEqual({ url: 'https://bedrock-runtime.us-gov-west-1.amazonaws.com' });
    expect(defaultBaseUrl('BEDROCK', { region: 'ap-southeast-2' })).toEqual({
      url: 'https://bedrock-runtime.ap-southeast-2.amazonaws.com',
    });
  });

  test('VERTEX substitutes settings.location', () => {
    expect(defaultBaseUrl('VERTEX', { location: 'europe-west4' })).toEqual({ url: 'https://europe-west4-aiplatform.googleapis.com' });
  });

  test('a provider without a URL parameter ignores region and location settings', () => {
    expect(defaultBaseUrl('OPENAI', { region: 'not a region', location: 'x' })).toEqual({ url: 'https://api.openai.com/v1' });
  });

  test.each([
    ['a host-injecting region', 'evil.com/x'],
    ['an upper-case region', 'US-EAST-1'],
    ['a region without its number', 'us-east'],
    ['a region with a trailing dot', 'us-east-1.'],
    ['an empty region', ''],
  ])('BEDROCK: %s is a problem naming settings.region, without the value', (_label, region) => {
    const result = defaultBaseUrl('BEDROCK', { region });
    expect(result).toEqual({ problem: { setting: 'region', message: 'settings.region must be an AWS region such as us-east-1' } });
  });

  test('BEDROCK: a region that is not a string is a problem', () => {
    expect(defaultBaseUrl('BEDROCK', { region: 1 })).toEqual({ problem: expect.objectContaining({ setting: 'region' }) });
  });

  test.each([
    ['a host-injecting location', 'evil.com#'],
    ['a location with a path', 'us-central1/x'],
    ['an upper-case location', 'US-CENTRAL1'],
    ['a location without its number', 'us-central'],
  ])('VERTEX: %s is a problem naming settings.location', (_label, location) => {
    expect(defaultBaseUrl('VERTEX', { location })).toEqual({
      problem: { setting: 'location', message: 'settings.location must be a Google Cloud location such as us-central1' },
    });
  });
});

describe('the headers an API key travels in', () => {
  test.each<[ModelProvider, Record<string, string>]>([
    ['OPENAI', { authorization: 'Bearer sk-test-key' }],
    ['ANTHROPIC', { 'x-api-key': 'sk-test-key', 'anthropic-version': '2023-06-01' }],
    ['AZURE_OPENAI', { 'api-key': 'sk-test-key' }],
    ['GOOGLE_AI', { 'x-goog-api-key': 'sk-test-key' }],
    ['BEDROCK', { authorization: 'Bearer sk-test-key' }],
    ['MISTRAL', { authorization: 'Bearer sk-test-key' }],
    ['CUSTOM', { authorization: 'Bearer sk-test-key' }],
  ])('%s', (modelProvider, headers) => {
    expect(apiKeyHeaders(modelProvider, 'sk-test-key')).toEqual(headers);
  });
});
