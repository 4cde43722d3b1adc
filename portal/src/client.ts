// The GraphQL client: urql over fetch to the service's own /graphql, the token from the session.
// Mutations go through `send`, which keeps only data and errors: urql's result also carries the
// operation and its variables, and variables may hold a secret the page must not keep.
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { type AnyVariables, Client, type CombinedError, fetchExchange } from 'urql';
import { storedToken } from './session';

export function createVaultClient(): Client {
  return new Client({
    // Next to where the portal is mounted (BASE_URL, /portal/), whatever page of it is open.
    url: new URL('../graphql', new URL(import.meta.env.BASE_URL, window.location.origin)).pathname,
    exchanges: [fetchExchange],
    requestPolicy: 'network-only',
    preferGetMethod: false,
    fetchOptions: () => {
      const token = storedToken();
      const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
      return { headers };
    },
  });
}

export interface Sent<Data> {
  data?: Data;
  error?: CombinedError;
}

export async function send<Data, Variables extends AnyVariables>(
  client: Client,
  document: TypedDocumentNode<Data, Variables>,
  variables: Variables,
): Promise<Sent<Data>> {
  const { data, error } = await client.mutation(document, variables).toPromise();
  return { data, error };
}
