// Checks on a GraphQL request once its operation is known and before it runs:
//   - `operationName` (the request's, and the chosen operation's own name) is at most
//     OPERATION_NAME_MAX_LENGTH characters: a name is one token whatever its length, and Apollo
//     repeats an unknown one in its error;
//   - in production, `_service { sdl }` needs a reader's token unless SUBGRAPH_SDL_PUBLIC is set:
//     the SDL describes every type and argument, which is more than an anonymous caller needs.
import type { ApolloServerPlugin, GraphQLRequestContextDidResolveOperation } from '@apollo/server';
import { type DocumentNode, type FragmentDefinitionNode, Kind, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';
import { requireReader } from '../auth/principal';
import type { Context } from '../context';
import { BadUserInputError } from '../errors/app-error';

export const OPERATION_NAME_MAX_LENGTH = 256;

export interface RequestGuardOptions {
  production: boolean;
  /** SUBGRAPH_SDL_PUBLIC: `_service { sdl }` answers without a token in production too. */
  subgraphSdlPublic: boolean;
}

export function requestGuardsPlugin(options: RequestGuardOptions): ApolloServerPlugin<Context> {
  const sdlNeedsToken = options.production && !options.subgraphSdlPublic;
  return {
    async requestDidStart() {
      return {
        async didResolveOperation(requestContext) {
          const { request, operation, document } = requestContext;
          const names = [request.operationName, operation?.name?.value];
          if (names.some((name) => typeof name === 'string' && name.length > OPERATION_NAME_MAX_LENGTH)) {
            refuse(
              requestContext,
              new BadUserInputError('operationName', `operationName must be at most ${OPERATION_NAME_MAX_LENGTH} characters.`),
            );
          }
          if (sdlNeedsToken && operation && selectsRootField(document, operation, '_service')) {
            try {
              requireReader(await requestContext.contextValue.principal());
            } catch (error) {
              refuse(requestContext, error);
            }
          }
        },
      };
    },
  };
}

/**
 * Apollo answers an error thrown here with status 500 unless one is set; these refusals are
 * answered like the same errors from a resolver, 200 with the coded error.
 */
function refuse(requestContext: GraphQLRequestContextDidResolveOperation<Context>, error: unknown): never {
  requestContext.response.http.status = 200;
  throw error;
}

/** The operation's name as logs may carry it: at most OPERATION_NAME_MAX_LENGTH characters, marked when cut. */
export function loggableOperationName(name: string | null | undefined): string | null {
  if (name === null || name === undefined) return null;
  return name.length > OPERATION_NAME_MAX_LENGTH ? `${name.slice(0, OPERATION_NAME_MAX_LENGTH)}…` : name;
}

/** Whether the operation selects `fieldName` at its root, directly or through fragments (directives are not evaluated). */
function selectsRootField(document: DocumentNode, operation: OperationDefinitionNode, fieldName: string): boolean {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const seen = new Set<string>();
  const selects = (selectionSet: SelectionSetNode): boolean =>
    selectionSet.selections.some((selection) => {
      if (selection.kind === Kind.FIELD) return selection.name.value === fieldName;
      if (selection.kind === Kind.INLINE_FRAGMENT) return selects(selection.selectionSet);
      const fragment = fragments.get(selection.name.value);
      if (!fragment || seen.has(selection.name.value)) return false;
      seen.add(selection.name.value);
      return selects(fragment.selectionSet);
    });
  return selects(operation.selectionSet);
}
