// The provider catalog: which auth types each model provider takes, its default, and its default
// base URL. One table, used for defaults, validation and documentation alike.

export const MODEL_PROVIDERS = [
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
] as const;
export type ModelProvider = (typeof MODEL_PROVIDERS)[number];

export const AUTH_TYPES = [
  'API_KEY',
  'AWS_ROLE',
  'AWS_KEYS',
  'BEDROCK_API_KEY',
  'GOOGLE_ADC',
  'GOOGLE_SERVICE_ACCOUNT',
  'GOOGLE_IMPERSONATION',
  'OAUTH_PASSTHROUGH',
] as const;
export type AuthType = (typeof AUTH_TYPES)[number];

/** Settings a default base URL is built from, with the value used when the setting is absent. */
export interface UrlParameter {
  setting: string;
  fallback: string;
  pattern: RegExp;
  description: string;
}

export interface ProviderEntry {
  /** Stored in the database: `openai`, `azure_openai`, ... */
  slug: string;
  displayName: string;
  /** Allowed auth types; the first is the default when `auth` is omitted. */
  authTypes: readonly [AuthType, ...AuthType[]];
  /** Default base URL; `{parameter}` is replaced from settings. Undefined: baseUrl is required. */
  defaultBaseUrl?: string;
  urlParameter?: UrlParameter;
  /** Speaks the OpenAI chat-completions API, so a CUSTOM credential may back its routes. */
  openAiCompatible?: boolean;
  /** Routes may pass the caller's own OAuth token through instead of using a credential. */
  oauthPassthrough?: boolean;
}

export const AWS_REGION: UrlParameter = {
  setting: 'region',
  fallback: 'us-east-1',
  pattern: /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/,
  description: 'an AWS region such as us-east-1',
};

export const VERTEX_LOCATION: UrlParameter = {
  setting: 'location',
  fallback: 'us-central1',
  pattern: /^[a-z]+-[a-z]+\d{1,2}$/,
  description: 'a Google Cloud location such as us-central1',
};

const apiKeyProvider = (slug: string, displayName: string, defaultBaseUrl?: string, openAiCompatible = false): ProviderEntry => ({
  slug,
  displayName,
  authTypes: ['API_KEY'],
  defaultBaseUrl,
  openAiCompatible,
});

export const PROVIDER_CATALOG: Readonly<Record<ModelProvider, ProviderEntry>> = {
  OPENAI: apiKeyProvider('openai', 'OpenAI', 'https://api.openai.com/v1', true),
  ANTHROPIC: { ...apiKeyProvider('anthropic', 'Anthropic', 'https://api.anthropic.com'), oauthPassthrough: true },
  AZURE_OPENAI: apiKeyProvider('azure_openai', 'Azure OpenAI'),
  GOOGLE_AI: apiKeyProvider('google_ai', 'Google AI Studio', 'https://generativelanguage.googleapis.com'),
  BEDROCK: {
    slug: 'bedrock',
    displayName: 'Amazon Bedrock',
    authTypes: ['AWS_ROLE', 'AWS_KEYS', 'BEDROCK_API_KEY'],
    defaultBaseUrl: 'https://bedrock-runtime.{region}.amazonaws.com',
    urlParameter: AWS_REGION,
  },
  VERTEX: {
    slug: 'vertex',
    displayName: 'Google Vertex AI',
    authTypes: ['GOOGLE_ADC', 'GOOGLE_SERVICE_ACCOUNT', 'GOOGLE_IMPERSONATION'],
    defaultBaseUrl: 'https://{location}-aiplatform.googleapis.com',
    urlParameter: VERTEX_LOCATION,
  },
  GROQ: apiKeyProvider('groq', 'Groq', 'https://api.groq.com/openai/v1', true),
  TOGETHER: apiKeyProvider('together', 'Together AI', 'https://api.together.xyz/v1', true),
  MISTRAL: apiKeyProvider('mistral', 'Mistral AI', 'https://api.mistral.ai/v1', true),
  COHERE: apiKeyProvider('cohere', 'Cohere', 'https://api.cohere.com'),
  XAI: apiKeyProvider('xai', 'xAI', 'https://api.x.ai/v1', true),
  FIREWORKS: apiKeyProvider('fireworks', 'Fireworks AI', 'https://api.fireworks.ai/inference/v1', true),
  PERPLEXITY: apiKeyProvider('perplexity', 'Perplexity', 'https://api.perplexity.ai', true),
  OPENROUTER: apiKeyProvider('openrouter', 'OpenRouter', 'https://openrouter.ai/api/v1', true),
  DEEPSEEK: apiKeyProvider('deepseek', 'DeepSeek', 'https://api.deepseek.com', true),
  CUSTOM: apiKeyProvider('custom', 'Custom (OpenAI-compatible)', undefined, true),
};

export function catalogEntry(provider: ModelProvider): ProviderEntry {
  return PROVIDER_CATALOG[provider];
}

export function defaultAuthType(provider: ModelProvider): AuthType {
  return PROVIDER_CATALOG[provider].authTypes[0];
}

export function acceptsAuthType(provider: ModelProvider, authType: AuthType): boolean {
  return PROVIDER_CATALOG[provider].authTypes.includes(authType);
}

const BY_SLUG = new Map(MODEL_PROVIDERS.map((provider) => [PROVIDER_CATALOG[provider].slug, provider]));

export function providerFromSlug(slug: string): ModelProvider {
  const provider = BY_SLUG.get(slug);
  if (!provider) throw new Error(`unknown model provider slug "${slug}"`);
  return provider;
}

export function slugOf(provider: ModelProvider): string {
  return PROVIDER_CATALOG[provider].slug;
}

export type UrlParameterProblem = { setting: string; message: string };

/**
 * The provider's default base URL for these settings: `null` when the provider has none
 * (AZURE_OPENAI, CUSTOM), a problem when the setting it is built from is malformed.
 */
export function defaultBaseUrl(
  provider: ModelProvider,
  settings: Record<string, unknown>,
): { url: string | null } | { problem: UrlParameterProblem } {
  const entry = PROVIDER_CATALOG[provider];
  if (!entry.defaultBaseUrl) return { url: null };
  const parameter = entry.urlParameter;
  if (!parameter) return { url: entry.defaultBaseUrl };
  const value = settings[parameter.setting] ?? parameter.fallback;
  if (typeof value !== 'string' || !parameter.pattern.test(value)) {
    return { problem: { setting: parameter.setting, message: `settings.${parameter.setting} must be ${parameter.description}` } };
  }
  return { url: entry.defaultBaseUrl.replace(`{${parameter.setting}}`, value) };
}

/**
 * Whether a credential of `credentialProvider` may back a route of `routeProvider`: the same
 * provider, or a CUSTOM (OpenAI-compatible) credential behind any OpenAI-compatible route.
 */
export function credentialCanBack(credentialProvider: ModelProvider, routeProvider: ModelProvider): boolean {
  if (credentialProvider === routeProvider) return true;
  return credentialProvider === 'CUSTOM' && PROVIDER_CATALOG[routeProvider].openAiCompatible === true;
}

/** Only Anthropic routes can pass the caller's own OAuth token through. */
export function acceptsOauthPassthrough(provider: ModelProvider): boolean {
  return PROVIDER_CATALOG[provider].oauthPassthrough === true;
}
