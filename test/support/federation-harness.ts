// A real Federation 2 supergraph around the vault, in process and on loopback: two small
// neighbouring subgraphs, composition with @apollo/composition, and an @apollo/gateway served by
// Apollo Server that forwards the caller's Authorization header to every subgraph.
//   - organizations: Organization.primaryCredential references the vault's Credential entity;
//   - usage: a Relay-style metering subgraph with its own PageInfo, its own paginated list of a
//     Usage entity (which references Credential and Provider), and its own CredentialConnection
//     ranking the vault's credentials by use.
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { composeServices, type CompositionResult } from '@apollo/composition';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { type DocumentNode, parse } from 'graphql';
import { type GraphQLRequestOptions, type GraphQLResponse, postGraphQL } from './test-app';

export const ORGANIZATIONS_SDL = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])

  type Query {
    organization(id: ID!): Organization
  }

  type Organization @key(fields: "id") {
    id: ID!
    name: String!
    primaryCredential: Credential
  }

  type Credential @key(fields: "id", resolvable: false) {
    id: ID!
  }
`);

export interface OrganizationRecord {
  id: string;
  name: string;
  primaryCredentialId: string | null;
}

export interface RunningSubgraph {
  name: string;
  url: string;
  typeDefs: DocumentNode;
  stop(): Promise<void>;
}

/** The organizations subgraph, answering from `records` (which the test may change at any time). */
export async function startOrganizationsSubgraph(records: Map<string, OrganizationRecord>): Promise<RunningSubgraph> {
  const server = new ApolloServer({
    schema: buildSubgraphSchema({
      typeDefs: ORGANIZATIONS_SDL,
      resolvers: {
        Query: {
          organization: (_: unknown, args: { id: string }) => records.get(args.id) ?? null,
        },
        Organization: {
          __resolveReference: (reference: { id: string }) => records.get(reference.id) ?? null,
          primaryCredential: (organization: OrganizationRecord) =>
            organization.primaryCredentialId ? { __typename: 'Credential', id: organization.primaryCredentialId } : null,
        },
      },
    }),
  });
  const { url } = await startStandaloneServer(server, { listen: { port: 0, host: '127.0.0.1' } });
  return { name: 'organizations', url, typeDefs: ORGANIZATIONS_SDL, stop: () => server.stop() };
}

export const USAGE_SDL = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable"])

  type Query {
    usages(first: Int = 10, after: String): UsageConnection!
    mostUsedCredentials(first: Int = 10, after: String): CredentialConnection!
  }

  type Usage @key(fields: "id") {
    id: ID!
    requests: Int!
    credential: Credential!
    provider: Provider
  }

  type UsageConnection {
    edges: [UsageEdge!]!
    pageInfo: PageInfo!
    totalCount: Int!
  }

  type UsageEdge {
    cursor: String!
    node: Usage!
  }

  type CredentialConnection @shareable {
    edges: [CredentialEdge!]!
    pageInfo: PageInfo!
    totalCount: Int!
  }

  type CredentialEdge @shareable {
    cursor: String!
    node: Credential!
  }

  type PageInfo @shareable {
    hasNextPage: Boolean!
    hasPreviousPage: Boolean!
    startCursor: String
    endCursor: String
  }

  type Credential @key(fields: "id", resolvable: false) {
    id: ID!
  }

  type Provider @key(fields: "id", resolvable: false) {
    id: ID!
  }
`);

export interface UsageRecord {
  id: string;
  requests: number;
  credentialId: string;
  providerId: string | null;
}

/** The usage subgraph's cursors: `<list>:<offset>`, its own format, which the vault would refuse. */
export function usageCursor(list: 'usage' | 'rank', offset: number): string {
  return `${list}:${offset}`;
}

/** A Relay page of `items` from offset cursors, as the usage subgraph serves its lists. */
function offsetPage<Item, Node>(
  list: 'usage' | 'rank',
  items: Item[],
  args: { first: number; after?: string | null },
  toNode: (item: Item) => Node,
) {
  const start = args.after ? Number(args.after.slice(`${list}:`.length)) + 1 : 0;
  const edges = items
    .slice(start, start + args.first)
    .map((item, index) => ({ cursor: usageCursor(list, start + index), node: toNode(item) }));
  return {
    edges,
    pageInfo: {
      hasNextPage: start + args.first < items.length,
      hasPreviousPage: start > 0,
      startCursor: edges.at(0)?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount: items.length,
  };
}

/** The usage subgraph, answering from `records` in their order; mostUsedCredentials sums requests per credential. */
export async function startUsageSubgraph(records: UsageRecord[]): Promise<RunningSubgraph> {
  const reference = (__typename: string, id: string | null) => (id ? { __typename, id } : null);
  const server = new ApolloServer({
    schema: buildSubgraphSchema({
      typeDefs: USAGE_SDL,
      resolvers: {
        Query: {
          usages: (_: unknown, args: { first: number; after?: string | null }) => offsetPage('usage', records, args, (record) => record),
          mostUsedCredentials: (_: unknown, args: { first: number; after?: string | null }) => {
            const totals = new Map<string, number>();
            for (const record of records) totals.set(record.credentialId, (totals.get(record.credentialId) ?? 0) + record.requests);
            const ranked = [...totals.entries()].sort(([, a], [, b]) => b - a).map(([credentialId]) => credentialId);
            return offsetPage('rank', ranked, args, (credentialId) => reference('Credential', credentialId));
          },
        },
        Usage: {
          __resolveReference: (usage: { id: string }) => records.find((record) => record.id === usage.id) ?? null,
          credential: (usage: UsageRecord) => reference('Credential', usage.credentialId),
          provider: (usage: UsageRecord) => reference('Provider', usage.providerId),
        },
      },
    }),
  });
  const { url } = await startStandaloneServer(server, { listen: { port: 0, host: '127.0.0.1' } });
  return { name: 'usage', url, typeDefs: USAGE_SDL, stop: () => server.stop() };
}

/** The vault's subgraph SDL, as a gateway's composition pipeline would fetch it. */
export async function fetchSubgraphSdl(url: string): Promise<string> {
  const { body } = await postGraphQL<{ _service: { sdl: string } }>(url, '{ _service { sdl } }');
  if (!body.data) throw new Error(`no _service.sdl from ${url}: ${JSON.stringify(body.errors)}`);
  return body.data._service.sdl;
}

export function composeSupergraph(subgraphs: { name: string; url: string; typeDefs: DocumentNode }[]): CompositionResult {
  return composeServices(subgraphs.map(({ name, url, typeDefs }) => ({ name, url, typeDefs })));
}

export interface RunningGateway {
  url: string;
  /** POSTs an operation to the gateway, with `Authorization: Bearer <token>` when a token is given. */
  graphql<Data = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    options?: Pick<GraphQLRequestOptions, 'token'>,
  ): Promise<GraphQLResponse<Data>>;
  stop(): Promise<void>;
}

interface GatewayContext {
  authorization?: string;
}

/** Serves `supergraphSdl` through @apollo/gateway, forwarding each request's Authorization header. */
export async function startGateway(supergraphSdl: string): Promise<RunningGateway> {
  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService: ({ url }) =>
      new RemoteGraphQLDataSource<GatewayContext>({
        url,
        willSendRequest({ request, context }) {
          // Typed loosely by the gateway (its schema-loading requests carry any context): narrowed here.
          const authorization: unknown = context.authorization;
          if (typeof authorization === 'string' && authorization) request.http?.headers.set('authorization', authorization);
        },
      }),
  });
  const server = new ApolloServer<GatewayContext>({ gateway });
  const { url } = await startStandaloneServer(server, {
    listen: { port: 0, host: '127.0.0.1' },
    context: ({ req }) => Promise.resolve({ authorization: req.headers.authorization }),
  });
  return {
    url,
    graphql: <Data>(query: string, variables?: Record<string, unknown>, options: Pick<GraphQLRequestOptions, 'token'> = {}) =>
      postGraphQL<Data>(url, query, variables, { token: options.token }),
    stop: () => server.stop(),
  };
}
