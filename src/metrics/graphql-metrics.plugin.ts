// Counts and times every GraphQL request (graphql_requests_total, graphql_request_duration_seconds).
// The `operation` label is the root field the operation selects (`createCredential`), `multiple`
// when it selects several, or `none` when the request never got a valid operation. It is never the
// client's operationName: anyone can send a new one with every request, and each would be a new
// series. Root fields are names of the schema, checked against it, so the label has at most as many
// values as the schema has root fields. The outcome is `ok` or the first error's code.
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import {
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { graphqlRequestDuration, graphqlRequests, secondsSince } from './metrics';

const INTROSPECTION_FIELDS: ReadonlySet<string> = new Set(['__typename', '__schema', '__type']);
const ERROR_CODE = /^[A-Z][A-Z0-9_]{0,63}$/;

export function graphqlMetricsPlugin(): ApolloServerPlugin<BaseContext> {
  return {
    async requestDidStart() {
      const started = process.hrtime.bigint();
      return {
        async willSendResponse({ response, operation, document, schema }) {
          const body = response.body;
          const errors = body.kind === 'single' ? (body.singleResult.errors ?? []) : [];
          const code = errors[0]?.extensions?.code;
          const labels = {
            operation: operation && document ? operationLabel(schema, document, operation) : 'none',
            operation_type: operation?.operation ?? 'none',
            outcome: errors.length === 0 ? 'ok' : typeof code === 'string' && ERROR_CODE.test(code) ? code : 'error',
          };
          graphqlRequests.inc(labels);
          graphqlRequestDuration.observe(labels, secondsSince(started));
        },
      };
    },
  };
}

/** The root field the operation selects, `multiple` for several; a name the schema lacks is `unknown`. */
export function operationLabel(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode): string {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const names = new Set<string>();
  collectRootFields(operation.selectionSet, fragments, new Set(), names);
  if (names.size !== 1) return names.size === 0 ? 'none' : 'multiple';
  const [name] = names;
  const rootFields = schema.getRootType(operation.operation)?.getFields() ?? {};
  return INTROSPECTION_FIELDS.has(name) || Object.hasOwn(rootFields, name) ? name : 'unknown';
}

function collectRootFields(
  selectionSet: SelectionSetNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  visited: Set<string>,
  names: Set<string>,
): void {
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      names.add(selection.name.value);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      collectRootFields(selection.selectionSet, fragments, visited, names);
    } else {
      const fragment = fragments.get(selection.name.value);
      if (!fragment || visited.has(fragment.name.value)) continue;
      visited.add(fragment.name.value);
      collectRootFields(fragment.selectionSet, fragments, visited, names);
    }
  }
}
