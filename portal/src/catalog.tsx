// The model-provider catalog (the `modelProviders` query) that every form is rendered from, and
// the auth input a form's values make for an auth type.
import { createContext, useContext } from 'react';
import type { CredentialAuthInput, ModelProvidersQuery } from './gql/graphql';
import { Field } from './components';

export type ModelProviderDescription = ModelProvidersQuery['modelProviders'][number];
export type AuthTypeDescription = ModelProviderDescription['authTypes'][number];

export const CatalogContext = createContext<readonly ModelProviderDescription[]>([]);

export function useCatalog(): readonly ModelProviderDescription[] {
  return useContext(CatalogContext);
}

export function useModelProvider(modelProvider: string | undefined): ModelProviderDescription | undefined {
  return useCatalog().find((entry) => entry.modelProvider === modelProvider);
}

export function displayNameOf(catalog: readonly ModelProviderDescription[], modelProvider: string): string {
  return catalog.find((entry) => entry.modelProvider === modelProvider)?.displayName ?? modelProvider;
}

/**
 * The CredentialAuthInput for `authType` from the values typed (empty ones left out). Its member
 * and field names come from the catalog, not from the portal, so the type is asserted here and the
 * service checks the input.
 */
export function authInputOf(authType: AuthTypeDescription, values: Readonly<Record<string, string>>): CredentialAuthInput {
  const member: Record<string, string> = {};
  for (const field of authType.fields) {
    const value = values[field.name];
    if (value !== undefined && value !== '') member[field.name] = value;
  }
  return asAuthInput({ [authType.inputMember]: member });
}

const asAuthInput = (input: Record<string, unknown>) => input as unknown as CredentialAuthInput;

/** The same values with every secret field emptied: what a form keeps once a request is over. */
export function withoutSecrets(
  authType: AuthTypeDescription | undefined,
  values: Readonly<Record<string, string>>,
): Record<string, string> {
  const kept = { ...values };
  for (const field of authType?.fields ?? []) if (field.secret) kept[field.name] = '';
  return kept;
}

/** The inputs of one auth type, as the catalog describes them. */
export function AuthFields({
  authType,
  values,
  onChange,
  errors,
  idPrefix,
}: {
  authType: AuthTypeDescription;
  values: Readonly<Record<string, string>>;
  onChange: (name: string, value: string) => void;
  errors: Readonly<Record<string, string>>;
  idPrefix: string;
}) {
  if (authType.fields.length === 0) return <p className="hint">This auth type stores no secret: nothing to enter.</p>;
  return (
    <>
      {authType.fields.map((field) => {
        const path = `auth.${authType.inputMember}.${field.name}`;
        return (
          <Field
            key={field.name}
            id={`${idPrefix}-${path}`}
            label={field.label}
            value={values[field.name] ?? ''}
            onChange={(value) => onChange(field.name, value)}
            error={errors[path]}
            description={field.description}
            required={field.required}
            secret={field.secret}
            multiline={field.multiline}
          />
        );
      })}
    </>
  );
}
