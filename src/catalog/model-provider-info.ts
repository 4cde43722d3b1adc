// What a credential form needs to know about each model provider: its auth types with the input
// fields each takes, its default base URL and its settings keys. Nothing here is written by hand
// twice: the auth types, defaults and settings come from the catalog, the input members and their
// fields (names, which are required, their documented formats) from the served GraphQL input
// (CredentialAuthInput) that createCredential validates, and only labels and secrecy from
// AUTH_INPUT_FIELDS.
import { type GraphQLSchema, getNamedType, isInputObjectType, isNonNullType } from 'graphql';
import { type Principal, requireReader } from '../auth/principal';
import { AUTH_MEMBER_TYPES, type AuthMember } from '../credentials/credential-auth';
import {
  acceptsOauthPassthrough,
  AUTH_INPUT_FIELDS,
  type AuthType,
  type CredentialAuthType,
  defaultBaseUrl,
  MODEL_PROVIDER_CATALOG,
  MODEL_PROVIDERS,
  type ModelProvider,
  type SettingsKey,
  settingsKeysOf,
} from './model-provider-catalog';

export interface AuthFieldInfo {
  name: string;
  label: string;
  secret: boolean;
  required: boolean;
  multiline: boolean;
  description: string | null;
}

export interface AuthTypeInfo {
  authType: AuthType;
  inputMember: AuthMember;
  fields: AuthFieldInfo[];
}

export interface ModelProviderInfo {
  slug: string;
  modelProvider: ModelProvider;
  displayName: string;
  authTypes: AuthTypeInfo[];
  oauthPassthrough: boolean;
  defaultBaseUrl: string | null;
  baseUrlRequired: boolean;
  settingsKeys: SettingsKey[];
}

const AUTH_INPUT_TYPE = 'CredentialAuthInput';

const bySchema = new WeakMap<GraphQLSchema, ModelProviderInfo[]>();

/** Every model provider, in the enum's order, as the caller's forms need it (admins and viewers). */
export function listModelProviders(principal: Principal, schema: GraphQLSchema): ModelProviderInfo[] {
  requireReader(principal);
  let infos = bySchema.get(schema);
  if (!infos) {
    infos = modelProviderInfos(schema);
    bySchema.set(schema, infos);
  }
  return infos;
}

/** The answer for a schema that serves CredentialAuthInput; throws when the catalog and the input disagree. */
export function modelProviderInfos(schema: GraphQLSchema): ModelProviderInfo[] {
  return MODEL_PROVIDERS.map((modelProvider) => {
    const entry = MODEL_PROVIDER_CATALOG[modelProvider];
    const base = defaultBaseUrl(modelProvider, {});
    const url = 'url' in base ? base.url : null;
    return {
      slug: entry.slug,
      modelProvider,
      displayName: entry.displayName,
      authTypes: entry.authTypes.map((authType) => authTypeInfo(schema, authType)),
      oauthPassthrough: acceptsOauthPassthrough(modelProvider),
      defaultBaseUrl: url,
      baseUrlRequired: url === null,
      settingsKeys: settingsKeysOf(modelProvider),
    };
  });
}

export function authTypeInfo(schema: GraphQLSchema, authType: AuthType): AuthTypeInfo {
  if (authType === 'OAUTH_PASSTHROUGH') throw new Error('OAUTH_PASSTHROUGH is not a credential auth type');
  const authInput = schema.getType(AUTH_INPUT_TYPE);
  if (!isInputObjectType(authInput)) throw new Error(`the schema has no input ${AUTH_INPUT_TYPE}`);
  const memberFields = authInput.getFields();
  // The member whose value is an input object of fields (GOOGLE_SERVICE_ACCOUNT's key-file member is one string).
  const members = (Object.keys(AUTH_MEMBER_TYPES) as AuthMember[]).filter(
    (member) => AUTH_MEMBER_TYPES[member] === authType && isInputObjectType(getNamedType(memberFields[member]?.type)),
  );
  if (members.length !== 1) throw new Error(`${authType} has ${members.length} input members with fields in ${AUTH_INPUT_TYPE}`);
  const [inputMember] = members;
  const inputType = getNamedType(memberFields[inputMember].type);
  if (!isInputObjectType(inputType)) throw new Error(`${AUTH_INPUT_TYPE}.${inputMember} is not an input object`);
  const presentations = AUTH_INPUT_FIELDS[authType satisfies CredentialAuthType];
  const fields = Object.values(inputType.getFields()).map((field): AuthFieldInfo => {
    const presentation = presentations[field.name] as (typeof presentations)[string] | undefined;
    if (!presentation) throw new Error(`AUTH_INPUT_FIELDS.${authType} has no entry for ${inputType.name}.${field.name}`);
    return {
      name: field.name,
      label: presentation.label,
      secret: presentation.secret,
      required: isNonNullType(field.type),
      multiline: presentation.multiline === true,
      description: presentation.description ?? field.description ?? null,
    };
  });
  const unknown = Object.keys(presentations).filter((name) => !fields.some((field) => field.name === name));
  if (unknown.length > 0) throw new Error(`AUTH_INPUT_FIELDS.${authType} names fields ${inputType.name} lacks: ${unknown.join(', ')}`);
  return { authType, inputMember, fields };
}
