// What a failed request means for a form: messages per input field (extensions.field, without the
// leading `input.`), the rest for the form as a whole, and the providers that keep a credential in use.
import type { CombinedError } from 'urql';

export interface ProviderInUse {
  id: string;
  name: string;
}

export interface Problems {
  /** Keyed by input path: `name`, `baseUrl`, `auth.apiKey.apiKey`, `settings.region`, `projectId`. */
  fields: Record<string, string>;
  general: string[];
  providersInUse: ProviderInUse[];
  code?: string;
}

export const NO_PROBLEMS: Problems = { fields: {}, general: [], providersInUse: [] };

const GENERAL_MESSAGES: Record<string, string> = {
  KMS_UNAVAILABLE: 'The key service did not answer, so nothing was saved. Your input is kept (secrets excepted): try again.',
  DATABASE_UNAVAILABLE: 'The database did not answer, so nothing was saved. Your input is kept (secrets excepted): try again.',
  UNAUTHENTICATED: 'Your token was refused (expired or invalid): sign out and sign in again.',
  FORBIDDEN: 'Your token may read but not change anything (viewer role).',
};

export function problemsOf(error: CombinedError | undefined): Problems {
  if (!error) return NO_PROBLEMS;
  const problems: Problems = { fields: {}, general: [], providersInUse: [] };
  if (error.networkError && error.graphQLErrors.length === 0) {
    problems.general.push('The service could not be reached, so nothing was saved. Your input is kept (secrets excepted): try again.');
    problems.code = 'NETWORK';
    return problems;
  }
  for (const graphQLError of error.graphQLErrors) {
    const extensions = graphQLError.extensions as { code?: unknown; field?: unknown; providersInUse?: unknown };
    const code = typeof extensions.code === 'string' ? extensions.code : undefined;
    problems.code ??= code;
    if (Array.isArray(extensions.providersInUse)) problems.providersInUse = extensions.providersInUse as ProviderInUse[];
    if (typeof extensions.field === 'string') {
      problems.fields[extensions.field.replace(/^input\./, '')] = graphQLError.message;
    } else {
      problems.general.push((code && GENERAL_MESSAGES[code]) ?? graphQLError.message);
    }
  }
  return problems;
}
