// The catalog's enums as GraphQL enums (ModelProvider, AuthType).
import { registerEnumType } from 'type-graphql';
import { AUTH_TYPES, type AuthType, MODEL_PROVIDERS, type ModelProvider } from './model-provider-catalog';

function enumObject<T extends string>(values: readonly T[]): { [K in T]: K } {
  return Object.fromEntries(values.map((value) => [value, value])) as { [K in T]: K };
}

export const ModelProviderEnum = enumObject<ModelProvider>(MODEL_PROVIDERS);
export const AuthTypeEnum = enumObject<AuthType>(AUTH_TYPES);

registerEnumType(ModelProviderEnum, {
  name: 'ModelProvider',
  description: 'A model vendor. Stored as a lower-case slug (openai, azure_openai, ...).',
});
registerEnumType(AuthTypeEnum, {
  name: 'AuthType',
  description: 'How the gateway authenticates to the vendor.',
});
