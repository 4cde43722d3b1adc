// The model provider catalog: which auth types each model provider (vendor) takes, its default, and its default
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

export interface ModelProviderEntry {
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
  /** How the vendor expects an API key; `Authorization: Bearer <key>` when absent. */
  apiKeyHeader?: ApiKeyHeader;
  /** Settings the service reads besides `urlParameter` (which is a settings key of its own). */
  settingsKeys?: readonly SettingsKey[];
}

/** A key of a credential's `settings` that the service reads. */
export interface SettingsKey {
  key: string;
  description: string;
  required: boolean;
}

/** The header an API key travels in, and any header the vendor requires beside it. */
export interface ApiKeyHeader {
  name: string;
  /** Put before the key, e.g. `Bearer `. */
  prefix?: string;
  extra?: Readonly<Record<string, string>>;
}

const BEARER: ApiKeyHeader = { name: 'authorization', prefix: 'Bearer ' };

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

const apiKeyModelProvider = (slug: string, displayName: string, defaultBaseUrl?: string, openAiCompatible = false): ModelProviderEntry => ({
  slug,
  displayName,
  authTypes: ['API_KEY'],
  defaultBaseUrl,
  openAiCompatible,
});

export const MODEL_PROVIDER_CATALOG: Readonly<Record<ModelProvider, ModelProviderEntry>> = {
  OPENAI: apiKeyModelProvider('openai', 'OpenAI', 'https://api.openai.com/v1', true),
  ANTHROPIC: {
    ...apiKeyModelProvider('anthropic', 'Anthropic', 'https://api.anthropic.com'),
    oauthPassthrough: true,
    apiKeyHeader: { name: 'x-api-key', extra: { 'anthropic-version': '2023-06-01' } },
  },
  AZURE_OPENAI: { ...apiKeyModelProvider('azure_openai', 'Azure OpenAI'), apiKeyHeader: { name: 'api-key' } },
  GOOGLE_AI: {
    ...apiKeyModelProvider('google_ai', 'Google AI Studio', 'https://generativelanguage.googleapis.com'),
    apiKeyHeader: { name: 'x-goog-api-key' },
  },
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
    settingsKeys: [
      {
        key: 'project_id',
        description: 'The Google Cloud project validateGoogleVertex uses when its projectId is left out.',
        required: false,
      },
    ],
  },
  GROQ: apiKeyModelProvider('groq', 'Groq', 'https://api.groq.com/openai/v1', true),
  TOGETHER: apiKeyModelProvider('together', 'Together AI', 'https://api.together.xyz/v1', true),
  MISTRAL: apiKeyModelProvider('mistral', 'Mistral AI', 'https://api.mistral.ai/v1', true),
  COHERE: apiKeyModelProvider('cohere', 'Cohere', 'https://api.cohere.com'),
  XAI: apiKeyModelProvider('xai', 'xAI', 'https://api.x.ai/v1', true),
  FIREWORKS: apiKeyModelProvider('fireworks', 'Fireworks AI', 'https://api.fireworks.ai/inference/v1', true),
  PERPLEXITY: apiKeyModelProvider('perplexity', 'Perplexity', 'https://api.perplexity.ai', true),
  OPENROUTER: apiKeyModelProvider('openrouter', 'OpenRouter', 'https://openrouter.ai/api/v1', true),
  DEEPSEEK: apiKeyModelProvider('deepseek', 'DeepSeek', 'https://api.deepseek.com', true),
  CUSTOM: apiKeyModelProvider('custom', 'Custom (OpenAI-compatible)', undefined, true),
};

/** The settings keys a model provider's credentials use: the one its default base URL is built from first. */
export function settingsKeysOf(modelProvider: ModelProvider): SettingsKey[] {
  const entry = MODEL_PROVIDER_CATALOG[modelProvider];
  const parameter = entry.urlParameter;
  const fromUrl: SettingsKey[] = parameter
    ? [
        {
          key: parameter.setting,
          description: `${capitalized(parameter.description)}; the default base URL is built from it (${parameter.fallback} when absent).`,
          required: false,
        },
      ]
    : [];
  return [...fromUrl, ...(entry.settingsKeys ?? [])];
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Auth types a credential can hold (OAUTH_PASSTHROUGH is configured on a provider instead). */
export type CredentialAuthType = Exclude<AuthType, 'OAUTH_PASSTHROUGH'>;

/**
 * How a form shows an input field of an auth type. The field names, and whether each is required,
 * are those of the auth type's GraphQL input (src/credentials/credential.inputs.ts); a description
 * given there is not repeated here.
 */
export interface AuthFieldPresentation {
  label: string;
  /** Write-only: a password-style field whose value is never shown again. */
  secret: boolean;
  /** Several lines of text, such as a PEM key. */
  multiline?: boolean;
  description?: string;
}

export const AUTH_INPUT_FIELDS: Readonly<Record<CredentialAuthType, Readonly<Record<string, AuthFieldPresentation>>>> = {
  API_KEY: {
    apiKey: {
      label: 'API key',
      secret: true,
      description: 'The key as the vendor issued it (printable ASCII, no spaces); only its last 4 characters are shown again.',
    },
  },
  AWS_ROLE: {
    iamRoleArn: { label: 'IAM role ARN', secret: false },
    externalId: { label: 'External ID', secret: false },
  },
  AWS_KEYS: {
    accessKeyId: { label: 'Access key ID', secret: false, description: '16 to 128 upper-case letters and digits (AKIA...).' },
    secretAccessKey: { label: 'Secret access key', secret: true, description: 'Issued by AWS together with the access key ID.' },
    sessionToken: { label: 'Session token', secret: true, description: 'Only for temporary credentials.' },
  },
  BEDROCK_API_KEY: {
    apiKey: {
      label: 'Bedrock API key',
      secret: true,
      description: 'An Amazon Bedrock API key (a bearer token); only its last 4 characters are shown again.',
    },
  },
  GOOGLE_ADC: {
    quotaProjectId: {
      label: 'Quota project ID',
      secret: false,
      description: "The Google Cloud project billed for quota; left out: the identity's own.",
    },
  },
  GOOGLE_SERVICE_ACCOUNT: {
    clientEmail: {
      label: 'Client email',
      secret: false,
      description: "The service account's email address (client_email in the key file).",
    },
    privateKey: { label: 'Private key', secret: true, multiline: true },
    privateKeyId: { label: 'Private key ID', secret: false, description: 'private_key_id in the key file.' },
    projectId: {
      label: 'Project ID',
      secret: false,
      description: 'project_id in the key file: 6 to 30 lower-case letters, digits or hyphens.',
    },
    clientId: { label: 'Client ID', secret: false, description: 'The numeric client_id in the key file.' },
    tokenUri: { label: 'Token URI', secret: false },
  },
  GOOGLE_IMPERSONATION: {
    targetPrincipal: {
      label: 'Target service account',
      secret: false,
      description: 'The service account to impersonate (name@project.iam.gserviceaccount.com).',
    },
    delegates: { label: 'Delegates', secret: false, description: 'A list of at most 10 service account emails: the delegation chain.' },
    scopes: {
      label: 'Scopes',
      secret: false,
      description: 'A list of 1 to 20 Google OAuth scope URLs; left out: https://www.googleapis.com/auth/cloud-platform.',
    },
  },
};

export function modelProviderEntry(modelProvider: ModelProvider): ModelProviderEntry {
  return MODEL_PROVIDER_CATALOG[modelProvider];
}

export function defaultAuthType(modelProvider: ModelProvider): AuthType {
  return MODEL_PROVIDER_CATALOG[modelProvider].authTypes[0];
}

export function acceptsAuthType(modelProvider: ModelProvider, authType: AuthType): boolean {
  return MODEL_PROVIDER_CATALOG[modelProvider].authTypes.includes(authType);
}

const BY_SLUG = new Map(MODEL_PROVIDERS.map((modelProvider) => [MODEL_PROVIDER_CATALOG[modelProvider].slug, modelProvider]));

export function modelProviderFromSlug(slug: string): ModelProvider {
  const modelProvider = BY_SLUG.get(slug);
  if (!modelProvider) throw new Error(`unknown model provider slug "${slug}"`);
  return modelProvider;
}

export function slugOf(modelProvider: ModelProvider): string {
  return MODEL_PROVIDER_CATALOG[modelProvider].slug;
}

export type UrlParameterProblem = { setting: string; message: string };

/**
 * The model provider's default base URL for these settings: `null` when it has none
 * (AZURE_OPENAI, CUSTOM), a problem when the setting it is built from is malformed.
 */
export function defaultBaseUrl(
  modelProvider: ModelProvider,
  settings: Record<string, unknown>,
): { url: string | null } | { problem: UrlParameterProblem } {
  const entry = MODEL_PROVIDER_CATALOG[modelProvider];
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
 * Whether a credential of `credentialModelProvider` may back a route of `routeModelProvider`: the same
 * model provider, or a CUSTOM (OpenAI-compatible) credential behind any OpenAI-compatible route.
 */
export function credentialCanBack(credentialModelProvider: ModelProvider, routeModelProvider: ModelProvider): boolean {
  if (credentialModelProvider === routeModelProvider) return true;
  return credentialModelProvider === 'CUSTOM' && MODEL_PROVIDER_CATALOG[routeModelProvider].openAiCompatible === true;
}

/** Only Anthropic routes can pass the caller's own OAuth token through. */
export function acceptsOauthPassthrough(modelProvider: ModelProvider): boolean {
  return MODEL_PROVIDER_CATALOG[modelProvider].oauthPassthrough === true;
}

/** The headers that carry an API key to a model provider (Bedrock API keys are bearer tokens too). */
export function apiKeyHeaders(modelProvider: ModelProvider, apiKey: string): Record<string, string> {
  const header = MODEL_PROVIDER_CATALOG[modelProvider].apiKeyHeader ?? BEARER;
  return { ...header.extra, [header.name]: `${header.prefix ?? ''}${apiKey}` };
}
