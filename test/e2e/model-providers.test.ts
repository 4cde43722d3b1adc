// modelProviders against the service itself: a credential form built only from the answer
// creates a credential for every auth type of every model provider, the default comes first,
// the secret flags are what the service seals and never shows, and runtime tokens are refused.
import {
  apiKeyAuth,
  awsKeysAuth,
  awsRoleAuth,
  bedrockApiKeyAuth,
  googleAdcAuth,
  googleImpersonationAuth,
  DEFAULT_GOOGLE_TOKEN_URI,
  googleServiceAccountAuth,
  hex,
  uniqueName,
} from '../support/factories';
import { anOrganization, type Organization } from '../support/organizations';
import { startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { dataOf, expectError, openSecret } from '../support/vault-client';

interface AuthFieldInfo {
  name: string;
  label: string;
  secret: boolean;
  required: boolean;
  multiline: boolean;
  description: string | null;
}
interface AuthTypeInfo {
  authType: string;
  inputMember: string;
  fields: AuthFieldInfo[];
}
interface ModelProviderInfo {
  slug: string;
  modelProvider: string;
  displayName: string;
  authTypes: AuthTypeInfo[];
  oauthPassthrough: boolean;
  defaultBaseUrl: string | null;
  baseUrlRequired: boolean;
  settingsKeys: { key: string; description: string | null; required: boolean }[];
}

const MODEL_PROVIDERS = `query ModelProviders {
  modelProviders {
    slug modelProvider displayName oauthPassthrough defaultBaseUrl baseUrlRequired
    authTypes { authType inputMember fields { name label secret required multiline description } }
    settingsKeys { key description required }
  }
}`;

/** Valid values for every field an auth type's input takes, optional ones included. */
const VALID_VALUES: Record<string, () => Record<string, unknown>> = {
  API_KEY: () => ({ ...apiKeyAuth().apiKey }),
  AWS_ROLE: () => ({ ...awsRoleAuth().awsRole }),
  AWS_KEYS: () => ({ ...awsKeysAuth({ sessionToken: `IQoJb3JpZ2luX2VjE${hex(40)}` }).awsKeys }),
  BEDROCK_API_KEY: () => ({ ...bedrockApiKeyAuth().bedrockApiKey }),
  GOOGLE_ADC: () => ({ ...googleAdcAuth({ quotaProjectId: 'vault-quota-project' }).googleAdc }),
  GOOGLE_SERVICE_ACCOUNT: () => ({ ...googleServiceAccountAuth({ tokenUri: DEFAULT_GOOGLE_TOKEN_URI }).googleServiceAccount }),
  GOOGLE_IMPERSONATION: () => ({
    ...googleImpersonationAuth({
      delegates: [`relay-${hex(3)}@vault-test-project.iam.gserviceaccount.com`],
      scopes: ['https://www.googleapis.com/auth/cloud-platform'],
    }).googleImpersonation,
  }),
};

/** Valid settings values by key, for settings a form must fill. */
const VALID_SETTINGS: Record<string, unknown> = { region: 'eu-west-1', location: 'europe-west4', project_id: 'vault-test-project' };

const BASE_URL = 'https://vault-test.openai.azure.com/openai';

/** What a form would send: the answer's member, with the fields it marks (required ones, or all) filled. */
function authInputFrom(info: AuthTypeInfo, which: 'required' | 'all'): Record<string, unknown> {
  const valid = VALID_VALUES[info.authType]();
  const fields = info.fields.filter((field) => which === 'all' || field.required);
  const values = Object.fromEntries(
    fields.map((field) => {
      if (!(field.name in valid)) throw new Error(`no valid value for ${info.authType} ${field.name}`);
      return [field.name, valid[field.name]];
    }),
  );
  return { [info.inputMember]: values };
}

function createInputFrom(provider: ModelProviderInfo, auth: Record<string, unknown> | undefined): Record<string, unknown> {
  const requiredSettings = provider.settingsKeys.filter((key) => key.required);
  return {
    name: uniqueName(provider.slug),
    modelProvider: provider.modelProvider,
    ...(auth ? { auth } : {}),
    ...(provider.baseUrlRequired ? { baseUrl: BASE_URL } : {}),
    ...(requiredSettings.length > 0 ? { settings: Object.fromEntries(requiredSettings.map(({ key }) => [key, VALID_SETTINGS[key]])) } : {}),
  };
}

const CREATE = `mutation Create($input: CreateCredentialInput!) {
  createCredential(input: $input) { id modelProvider authType baseUrl settings keyLast4 storesKeyMaterial }
}`;
const READ = `query Read($id: ID!) {
  credential(id: $id) { id name modelProvider authType baseUrl settings keyLast4 storesKeyMaterial secretVersion lastChangeNote }
}`;

interface Created {
  id: string;
  modelProvider: string;
  authType: string;
  baseUrl: string;
}

let database: TestDatabase;
let vault: TestApp;
let organization: Organization;
let answer: ModelProviderInfo[];

beforeAll(async () => {
  database = await createTestDatabase('model_providers');
  vault = await startTestApp({ databaseUrl: database.url });
  organization = anOrganization(vault);
  answer = dataOf(
    await vault.graphql<{ modelProviders: ModelProviderInfo[] }>(MODEL_PROVIDERS, {}, { token: organization.admin.token }),
  ).modelProviders;
});

afterAll(async () => {
  await vault?.stop();
  await database?.drop();
});

async function create(input: Record<string, unknown>): Promise<Created> {
  return dataOf(await vault.graphql<{ createCredential: Created }>(CREATE, { input }, { token: organization.admin.token }))
    .createCredential;
}

/**
 * Every auth type of every model provider, as the contract's table lists them (test.each needs
 * them before beforeAll fetches the answer; a test checks that the answer lists exactly these).
 */
function cases(): [string, string][] {
  return [
    ['OPENAI', 'API_KEY'],
    ['ANTHROPIC', 'API_KEY'],
    ['AZURE_OPENAI', 'API_KEY'],
    ['GOOGLE_AI', 'API_KEY'],
    ['BEDROCK', 'AWS_ROLE'],
    ['BEDROCK', 'AWS_KEYS'],
    ['BEDROCK', 'BEDROCK_API_KEY'],
    ['VERTEX', 'GOOGLE_ADC'],
    ['VERTEX', 'GOOGLE_SERVICE_ACCOUNT'],
    ['VERTEX', 'GOOGLE_IMPERSONATION'],
    ['GROQ', 'API_KEY'],
    ['TOGETHER', 'API_KEY'],
    ['MISTRAL', 'API_KEY'],
    ['COHERE', 'API_KEY'],
    ['XAI', 'API_KEY'],
    ['FIREWORKS', 'API_KEY'],
    ['PERPLEXITY', 'API_KEY'],
    ['OPENROUTER', 'API_KEY'],
    ['DEEPSEEK', 'API_KEY'],
    ['CUSTOM', 'API_KEY'],
  ];
}

function providerInfo(modelProvider: string): ModelProviderInfo {
  const info = answer.find((provider) => provider.modelProvider === modelProvider);
  if (!info) throw new Error(`${modelProvider} is missing from modelProviders`);
  return info;
}

function authTypeInfo(modelProvider: string, authType: string): AuthTypeInfo {
  const info = providerInfo(modelProvider).authTypes.find((candidate) => candidate.authType === authType);
  if (!info) throw new Error(`${modelProvider} lists no ${authType}`);
  return info;
}

describe('modelProviders', () => {
  test('lists every ModelProvider enum value exactly once, in the enum order', async () => {
    const enumValues = dataOf(
      await vault.graphql<{ __type: { enumValues: { name: string }[] } }>('{ __type(name: "ModelProvider") { enumValues { name } } }'),
    ).__type.enumValues.map(({ name }) => name);
    expect(answer.map((provider) => provider.modelProvider)).toEqual(enumValues);
  });

  test('lists exactly the auth types of the contract table, per model provider', () => {
    const listed = answer.flatMap((provider) =>
      provider.authTypes.map((info): [string, string] => [provider.modelProvider, info.authType]),
    );
    expect(listed).toEqual(cases());
  });

  test('names every model provider for people, with its stored slug', () => {
    expect(answer.find((provider) => provider.modelProvider === 'OPENAI')).toMatchObject({ slug: 'openai', displayName: 'OpenAI' });
    expect(answer.find((provider) => provider.modelProvider === 'AZURE_OPENAI')).toMatchObject({ slug: 'azure_openai' });
    for (const provider of answer) {
      expect(provider.slug).toBe(provider.modelProvider.toLowerCase());
      expect(provider.displayName.trim()).not.toBe('');
    }
  });

  test('labels every auth field', () => {
    const fields = answer.flatMap((provider) => provider.authTypes.flatMap((info) => info.fields));
    expect(fields.length).toBeGreaterThan(0);
    for (const field of fields) {
      expect(field.label.trim()).not.toBe('');
      expect(field.description?.trim()).toBeTruthy();
    }
  });

  test.each(contractModelProviders())(
    '%s: the default auth type comes first (the one createCredential uses without auth)',
    async (modelProvider) => {
      const provider = providerInfo(modelProvider);
      const response = await vault.graphql<{ createCredential: Created }>(
        CREATE,
        { input: createInputFrom(provider, undefined) },
        { token: organization.admin.token },
      );
      const [first] = provider.authTypes;
      // Created with the default, or refused because the default needs key material: either way it is named.
      const outcome = response.body.errors
        ? { code: response.body.errors[0].extensions?.code, message: response.body.errors[0].message }
        : { authType: dataOf(response).createCredential.authType };
      expect([
        { authType: first.authType },
        {
          code: 'BAD_USER_INPUT',
          message: `auth is required for ${modelProvider}: its default auth type ${first.authType} needs key material.`,
        },
      ]).toContainEqual(outcome);
    },
  );

  test.each(cases())(
    '%s %s: an input built from the answer alone (required fields) creates the credential',
    async (modelProvider, authType) => {
      const provider = providerInfo(modelProvider);
      const info = authTypeInfo(modelProvider, authType);
      const created = await create(createInputFrom(provider, authInputFrom(info, 'required')));
      expect(created).toMatchObject({ modelProvider, authType });
      expect(created.baseUrl).toBe(provider.baseUrlRequired ? BASE_URL : provider.defaultBaseUrl);
    },
  );

  test.each(cases())('%s %s: an input with every field the answer lists creates the credential', async (modelProvider, authType) => {
    const provider = providerInfo(modelProvider);
    const created = await create(createInputFrom(provider, authInputFrom(authTypeInfo(modelProvider, authType), 'all')));
    expect(created).toMatchObject({ modelProvider, authType });
  });

  test.each(cases())('%s %s: a required field left out is refused on that field', async (modelProvider, authType) => {
    const info = authTypeInfo(modelProvider, authType);
    const provider = providerInfo(modelProvider);
    for (const field of info.fields.filter((candidate) => candidate.required)) {
      const auth = authInputFrom(info, 'required');
      delete (auth[info.inputMember] as Record<string, unknown>)[field.name];
      const response = await vault.graphql(CREATE, { input: createInputFrom(provider, auth) }, { token: organization.admin.token });
      expect(response.body.errors?.[0]?.message).toContain(field.name);
    }
  });

  test('marks as secret exactly the key material: API keys, secret access keys, session tokens, private keys', () => {
    const secrets = Object.fromEntries(
      answer
        .filter((provider) => ['OPENAI', 'BEDROCK', 'VERTEX'].includes(provider.modelProvider))
        .flatMap((provider) => provider.authTypes)
        .map((info) => [info.authType, info.fields.filter((field) => field.secret).map((field) => field.name)]),
    );
    expect(secrets).toEqual({
      API_KEY: ['apiKey'],
      AWS_ROLE: [],
      AWS_KEYS: ['secretAccessKey', 'sessionToken'],
      BEDROCK_API_KEY: ['apiKey'],
      GOOGLE_ADC: [],
      GOOGLE_SERVICE_ACCOUNT: ['privateKey'],
      GOOGLE_IMPERSONATION: [],
    });
    expect(
      authTypeInfo('VERTEX', 'GOOGLE_SERVICE_ACCOUNT')
        .fields.filter((field) => field.multiline)
        .map((field) => field.name),
    ).toEqual(['privateKey']);
  });

  test.each(cases().filter(([modelProvider]) => ['OPENAI', 'BEDROCK', 'VERTEX'].includes(modelProvider)))(
    '%s %s: every secret field is sealed and never read back',
    async (modelProvider, authType) => {
      const info = authTypeInfo(modelProvider, authType);
      const auth = authInputFrom(info, 'all');
      const created = await create(createInputFrom(providerInfo(modelProvider), auth));
      const given = auth[info.inputMember] as Record<string, unknown>;
      const opened = await openSecret(vault, organization.id, created.id);
      const read = JSON.stringify(dataOf(await vault.graphql(READ, { id: created.id }, { token: organization.admin.token })));
      for (const field of info.fields.filter((candidate) => candidate.secret)) {
        expect(opened?.payload).toMatchObject({ [field.name]: given[field.name] });
        expect(read).not.toContain(String(given[field.name]));
      }
    },
  );

  test('gives the default base URL of empty settings, names the settings it is built from, and null where baseUrl is required', () => {
    const byProvider = Object.fromEntries(answer.map((provider) => [provider.modelProvider, provider]));
    expect(byProvider.OPENAI).toMatchObject({ defaultBaseUrl: 'https://api.openai.com/v1', baseUrlRequired: false });
    expect(byProvider.AZURE_OPENAI).toMatchObject({ defaultBaseUrl: null, baseUrlRequired: true });
    expect(byProvider.CUSTOM).toMatchObject({ defaultBaseUrl: null, baseUrlRequired: true });
    expect(byProvider.BEDROCK).toMatchObject({ defaultBaseUrl: 'https://bedrock-runtime.us-east-1.amazonaws.com', baseUrlRequired: false });
    expect(byProvider.BEDROCK.settingsKeys.map(({ key }) => key)).toEqual(['region']);
    expect(byProvider.VERTEX.settingsKeys.map(({ key }) => key)).toEqual(['location', 'project_id']);
    expect(byProvider.ANTHROPIC.oauthPassthrough).toBe(true);
    expect(answer.filter((provider) => provider.oauthPassthrough).map((provider) => provider.modelProvider)).toEqual(['ANTHROPIC']);
  });

  test('a settings key that builds the default base URL changes the base URL a credential gets', async () => {
    for (const provider of answer) {
      for (const { key } of provider.settingsKeys.filter(({ key }) => key === 'region' || key === 'location')) {
        const created = await create({
          ...createInputFrom(provider, authInputFrom(provider.authTypes[provider.authTypes.length - 1], 'required')),
          settings: { [key]: VALID_SETTINGS[key] },
        });
        expect(created.baseUrl).not.toBe(provider.defaultBaseUrl);
        expect(created.baseUrl).toContain(String(VALID_SETTINGS[key]));
      }
    }
  });

  test('a viewer may read it', async () => {
    const viewerAnswer = dataOf(
      await vault.graphql<{ modelProviders: ModelProviderInfo[] }>(MODEL_PROVIDERS, {}, { token: organization.viewer.token }),
    );
    expect(viewerAnswer.modelProviders).toEqual(answer);
  });

  test.each([[['runtime']], [['admin', 'runtime']], [['auditor']]])('a token with roles %j is FORBIDDEN', async (roles) => {
    const response = await vault.graphql(MODEL_PROVIDERS, {}, { token: organization.member(roles).token });
    expectError(response, { code: 'FORBIDDEN' });
    expect(response.body.data ?? null).toBeNull();
  });

  test('without a token it is UNAUTHENTICATED', async () => {
    expectError(await vault.graphql(MODEL_PROVIDERS), { code: 'UNAUTHENTICATED' });
  });
});

/** The model providers of the contract table, for test.each (the answer is only known after beforeAll). */
function contractModelProviders(): string[] {
  return [...new Set(cases().map(([modelProvider]) => modelProvider))];
}
