// The modelProviders answer against its sources: the catalog (display names, auth types and
// their default, labels of every auth input field) and the served CredentialAuthInput (members,
// field names, which are required). A catalog that drifts from the input is an error, not a gap.
import { buildSchema, type GraphQLSchema } from 'graphql';
import {
  AUTH_INPUT_FIELDS,
  AUTH_TYPES,
  defaultAuthType,
  MODEL_PROVIDER_CATALOG,
  MODEL_PROVIDERS,
  settingsKeysOf,
} from '../../../src/catalog/model-provider-catalog';
import { authTypeInfo, listModelProviders, modelProviderInfos } from '../../../src/catalog/model-provider-info';
import { createSchema } from '../../../src/schema';

let schema: GraphQLSchema;

beforeAll(async () => {
  schema = await createSchema();
});

const principal = (roles: string[]) => ({ userId: 'user', orgId: '00000000-0000-4000-8000-000000000001', roles });

describe('the catalog data', () => {
  test.each([...MODEL_PROVIDERS])('%s has a display name', (modelProvider) => {
    expect(MODEL_PROVIDER_CATALOG[modelProvider].displayName.trim()).not.toBe('');
  });

  test.each(AUTH_TYPES.filter((authType) => authType !== 'OAUTH_PASSTHROUGH'))('every input field of %s has a label', (authType) => {
    const presentations = Object.values(AUTH_INPUT_FIELDS[authType]);
    expect(presentations.length).toBeGreaterThan(0);
    for (const presentation of presentations) expect(presentation.label.trim()).not.toBe('');
  });

  test('the settings a default base URL is built from are settings keys, first', () => {
    expect(settingsKeysOf('BEDROCK')[0]).toMatchObject({ key: 'region', required: false });
    expect(settingsKeysOf('VERTEX').map(({ key }) => key)).toEqual(['location', 'project_id']);
    expect(settingsKeysOf('OPENAI')).toEqual([]);
  });
});

describe('modelProviderInfos on the served schema', () => {
  test('lists every model provider once, in the enum order, with its slug and display name', () => {
    const infos = modelProviderInfos(schema);
    expect(infos.map((info) => info.modelProvider)).toEqual([...MODEL_PROVIDERS]);
    for (const info of infos) {
      expect(info.slug).toBe(MODEL_PROVIDER_CATALOG[info.modelProvider].slug);
      expect(info.displayName).toBe(MODEL_PROVIDER_CATALOG[info.modelProvider].displayName);
    }
  });

  test("puts each model provider's default auth type first", () => {
    for (const info of modelProviderInfos(schema)) expect(info.authTypes[0].authType).toBe(defaultAuthType(info.modelProvider));
  });

  test('describes every field of every auth input member, with the input required flags', () => {
    const fields = modelProviderInfos(schema).flatMap((info) => info.authTypes.flatMap((authType) => authType.fields));
    for (const field of fields) {
      expect(field.label.trim()).not.toBe('');
      expect(field.description?.trim()).toBeTruthy();
    }
    expect(authTypeInfo(schema, 'AWS_ROLE')).toMatchObject({
      inputMember: 'awsRole',
      fields: [
        { name: 'iamRoleArn', required: true, secret: false },
        { name: 'externalId', required: false, secret: false },
      ],
    });
    expect(authTypeInfo(schema, 'GOOGLE_SERVICE_ACCOUNT').inputMember).toBe('googleServiceAccount');
    expect(authTypeInfo(schema, 'BEDROCK_API_KEY').inputMember).toBe('bedrockApiKey');
  });

  test('null default base URL exactly where baseUrl is required', () => {
    const infos = modelProviderInfos(schema);
    expect(infos.filter((info) => info.baseUrlRequired).map((info) => info.modelProvider)).toEqual(['AZURE_OPENAI', 'CUSTOM']);
    for (const info of infos) expect(info.defaultBaseUrl === null).toBe(info.baseUrlRequired);
  });

  test('admins and viewers may read it; a runtime token, even with admin, may not', () => {
    expect(listModelProviders(principal(['viewer']), schema)).toHaveLength(MODEL_PROVIDERS.length);
    expect(() => listModelProviders(principal(['admin', 'runtime']), schema)).toThrow(/runtime/);
    expect(() => listModelProviders(principal([]), schema)).toThrow(/viewer or admin/);
  });
});

describe('drift between the catalog and the auth input', () => {
  const withAwsKeys = (fields: string) =>
    buildSchema(`
      input AwsKeysInput { ${fields} }
      input CredentialAuthInput { awsKeys: AwsKeysInput }
      type Query { unused: Int }
    `);

  test('an input field the catalog does not label is an error', () => {
    const schema = withAwsKeys('accessKeyId: String!, secretAccessKey: String!, sessionToken: String, mfaSerial: String');
    expect(() => authTypeInfo(schema, 'AWS_KEYS')).toThrow(/AwsKeysInput\.mfaSerial/);
  });

  test('a catalog field the input lacks is an error', () => {
    const schema = withAwsKeys('accessKeyId: String!, secretAccessKey: String!');
    expect(() => authTypeInfo(schema, 'AWS_KEYS')).toThrow(/sessionToken/);
  });

  test('an auth type without an input member is an error', () => {
    expect(() => authTypeInfo(withAwsKeys('accessKeyId: String!'), 'AWS_ROLE')).toThrow(/AWS_ROLE has 0 input members/);
  });

  test('required follows the input: a field made optional there is optional in the answer', () => {
    const schema = withAwsKeys('accessKeyId: String!, secretAccessKey: String, sessionToken: String');
    expect(authTypeInfo(schema, 'AWS_KEYS').fields.map(({ name, required }) => [name, required])).toEqual([
      ['accessKeyId', true],
      ['secretAccessKey', false],
      ['sessionToken', false],
    ]);
  });
});
