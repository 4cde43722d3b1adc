// Builders for credential inputs as the GraphQL contract spells them: one builder per auth member
// of CredentialAuthInput, and aCredentialInput(...) for a valid CreateCredentialInput whose auth
// fits the provider. Every builder returns fresh random values, so two calls never collide.
import { generateKeyPairSync, randomBytes } from 'node:crypto';

export type ModelProvider =
  | 'OPENAI'
  | 'ANTHROPIC'
  | 'AZURE_OPENAI'
  | 'GOOGLE_AI'
  | 'BEDROCK'
  | 'VERTEX'
  | 'GROQ'
  | 'TOGETHER'
  | 'MISTRAL'
  | 'COHERE'
  | 'XAI'
  | 'FIREWORKS'
  | 'PERPLEXITY'
  | 'OPENROUTER'
  | 'DEEPSEEK'
  | 'CUSTOM';

export type AuthType =
  | 'API_KEY'
  | 'AWS_ROLE'
  | 'AWS_KEYS'
  | 'BEDROCK_API_KEY'
  | 'GOOGLE_ADC'
  | 'GOOGLE_SERVICE_ACCOUNT'
  | 'GOOGLE_IMPERSONATION'
  | 'OAUTH_PASSTHROUGH';

export interface ApiKeyInput {
  apiKey: string;
}
export interface AwsRoleInput {
  iamRoleArn: string;
  /** Omitted: the vault generates one. */
  externalId?: string | null;
}
export interface AwsKeysInput {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | null;
}
export interface GoogleAdcInput {
  quotaProjectId?: string | null;
}
export interface GoogleServiceAccountInput {
  clientEmail: string;
  privateKey: string;
  privateKeyId: string;
  projectId: string;
  clientId?: string | null;
  tokenUri?: string | null;
}
export interface GoogleImpersonationInput {
  targetPrincipal: string;
  delegates?: string[] | null;
  scopes?: string[] | null;
}

/** CredentialAuthInput (@oneOf). Typed loosely on purpose: tests also send what the contract refuses. */
export interface CredentialAuthInput {
  apiKey?: ApiKeyInput | null;
  awsRole?: AwsRoleInput | null;
  awsKeys?: AwsKeysInput | null;
  bedrockApiKey?: ApiKeyInput | null;
  googleAdc?: GoogleAdcInput | null;
  googleServiceAccount?: GoogleServiceAccountInput | null;
  googleServiceAccountKeyFile?: string | null;
  googleImpersonation?: GoogleImpersonationInput | null;
  oauthPassthrough?: boolean | null;
}

export interface CreateCredentialInput {
  name: string;
  modelProvider: ModelProvider;
  auth?: CredentialAuthInput | null;
  baseUrl?: string | null;
  settings?: Record<string, unknown> | null;
  changeNote?: string | null;
}

export interface UpdateCredentialInput {
  name?: string | null;
  baseUrl?: string | null;
  settings?: Record<string, unknown> | null;
  auth?: CredentialAuthInput | null;
  expectedSecretVersion?: number | null;
  changeNote?: string | null;
}

export function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

/** A copy of `buffer` with one bit flipped: tampered ciphertext, nonce, tag or wrapped key. */
export function flipBit(buffer: Buffer, bit: number): Buffer {
  const copy = Buffer.from(buffer);
  copy[bit >> 3] ^= 1 << (bit & 7);
  return copy;
}

export function uniqueName(prefix = 'credential'): string {
  return `${prefix}-${hex(4)}`;
}

/** A fresh RSA private key as PKCS#8 PEM, the form Google service-account key files carry. */
export function rsaPrivateKeyPem(): string {
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

let sharedPem: string | undefined;
/** One RSA key for the whole test file: generating a key costs tens of milliseconds. */
export function sharedRsaPrivateKeyPem(): string {
  return (sharedPem ??= rsaPrivateKeyPem());
}

export const TEST_ROLE_ARN = 'arn:aws:iam::123456789012:role/gateway-bedrock';
export const TEST_PROJECT_ID = 'vault-test-project';
export const DEFAULT_GOOGLE_TOKEN_URI = 'https://oauth2.googleapis.com/token';

export function anApiKey(): string {
  return `sk-test-${hex(16)}`;
}

export function apiKeyAuth(apiKey: string = anApiKey()): { apiKey: ApiKeyInput } {
  return { apiKey: { apiKey } };
}

export function bedrockApiKeyAuth(apiKey = `ABSK${hex(24)}`): { bedrockApiKey: ApiKeyInput } {
  return { bedrockApiKey: { apiKey } };
}

export function awsRoleAuth(overrides: Partial<AwsRoleInput & { externalId: string }> = {}): {
  awsRole: AwsRoleInput & { externalId: string };
} {
  return { awsRole: { iamRoleArn: TEST_ROLE_ARN, externalId: `ext-${hex(8)}`, ...overrides } };
}

export function awsKeysAuth(overrides: Partial<AwsKeysInput> = {}): { awsKeys: AwsKeysInput } {
  return {
    awsKeys: {
      accessKeyId: `AKIA${hex(8).toUpperCase()}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      ...overrides,
    },
  };
}

export function googleAdcAuth(overrides: GoogleAdcInput = {}): { googleAdc: GoogleAdcInput } {
  return { googleAdc: { ...overrides } };
}

export function googleServiceAccountAuth(overrides: Partial<GoogleServiceAccountInput> = {}): {
  googleServiceAccount: GoogleServiceAccountInput;
} {
  return {
    googleServiceAccount: {
      clientEmail: `vault-${hex(3)}@${TEST_PROJECT_ID}.iam.gserviceaccount.com`,
      privateKey: sharedRsaPrivateKeyPem(),
      privateKeyId: hex(20),
      projectId: TEST_PROJECT_ID,
      clientId: '104857600123456789012',
      ...overrides,
    },
  };
}

export function googleImpersonationAuth(overrides: Partial<GoogleImpersonationInput> = {}): {
  googleImpersonation: GoogleImpersonationInput;
} {
  return {
    googleImpersonation: {
      targetPrincipal: `gateway-${hex(3)}@${TEST_PROJECT_ID}.iam.gserviceaccount.com`,
      ...overrides,
    },
  };
}

/** A valid auth member for the provider: its default, or an API key where the default has no key. */
export function authFor(provider: ModelProvider): CredentialAuthInput {
  switch (provider) {
    case 'BEDROCK':
      return awsRoleAuth();
    case 'VERTEX':
      return googleServiceAccountAuth();
    default:
      return apiKeyAuth();
  }
}

/** Providers whose baseUrl has no default and must be given. */
export const PROVIDERS_WITHOUT_DEFAULT_BASE_URL: readonly ModelProvider[] = ['AZURE_OPENAI', 'CUSTOM'];

/**
 * A valid CreateCredentialInput. Overrides replace fields as given; pass `auth: undefined` to omit
 * auth (JSON drops undefined), `auth: null` to send an explicit null.
 */
export function aCredentialInput(overrides: Partial<CreateCredentialInput> = {}): CreateCredentialInput {
  const modelProvider = overrides.modelProvider ?? 'OPENAI';
  return {
    name: uniqueName(modelProvider.toLowerCase()),
    modelProvider,
    auth: authFor(modelProvider),
    ...(PROVIDERS_WITHOUT_DEFAULT_BASE_URL.includes(modelProvider) ? { baseUrl: 'https://vault-test.openai.azure.com/openai' } : {}),
    ...overrides,
  };
}

/** The sealed payload an auth member becomes (what SecretStore opens), or null for GOOGLE_ADC. */
export function expectedSecretPayload(auth: CredentialAuthInput): Record<string, unknown> | null {
  const [member, value] = Object.entries(auth).find(([, v]) => v !== undefined && v !== null) ?? [];
  if (member === undefined) throw new Error('auth input has no member');
  if (member === 'googleAdc') return null;
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined && v !== null));
}
