// What a client sees of an error. AppErrors pass with their code and public extensions;
// graphql-js input errors pass with their values removed and the field they concern; anything
// else becomes INTERNAL_SERVER_ERROR with no message detail, no stack and no SQL.
import type { ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import type { GraphQLFormattedError } from 'graphql';
import type { Logger } from '../logging/logger';
import { AppError } from './app-error';
import { shapeInputError, type ShapedInputError } from './input-error-shaping';

/** Codes Apollo itself assigns to request problems; their messages are about the request, not data. */
const REQUEST_ERROR_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

export const INTERNAL_ERROR_MESSAGE = 'Internal server error.';

export interface ErrorFormatting {
  /** Shapes input errors while the parsed document is still at hand. */
  plugin: ApolloServerPlugin;
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
}

export function createErrorFormatting(logger: Logger): ErrorFormatting {
  const shaped = new WeakMap<object, ShapedInputError>();

  const plugin: ApolloServerPlugin = {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, document }) {
          for (const error of errors) {
            if (unwrapResolverError(error) instanceof AppError) continue;
            const shape = shapeInputError(error, document);
            if (shape) shaped.set(error, shape);
          }
        },
        async willSendResponse({ response }) {
          // Input errors are answered 200 with the GraphQL error body, as GraphQL over HTTP
          // allows for application/json. A federation gateway treats a subgraph's 4xx as a
          // transport failure and would hide the reason (e.g. a @oneOf violation) behind
          // "400: Bad Request"; with 200 it passes the coded error through.
          const body = response.body;
          const errors = body.kind === 'single' ? body.singleResult.errors : undefined;
          if (response.http.status === 400 && errors?.length && errors.every((error) => error.extensions?.code === 'BAD_USER_INPUT')) {
            response.http.status = 200;
          }
        },
      };
    },
  };

  function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
    const original = unwrapResolverError(error);
    if (original instanceof AppError) {
      return { message: original.message, locations: formatted.locations, path: formatted.path, extensions: original.toExtensions() };
    }
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && REQUEST_ERROR_CODES.has(code)) {
      const shape = typeof error === 'object' && error !== null ? shaped.get(error) : undefined;
      if (shape?.field) {
        return { message: shape.message, locations: formatted.locations, extensions: { code: 'BAD_USER_INPUT', field: shape.field } };
      }
      return { message: shape?.message ?? formatted.message, locations: formatted.locations, extensions: { code } };
    }
    logInternalError(logger, original, formatted.path);
    return {
      message: INTERNAL_ERROR_MESSAGE,
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    };
  }

  return { plugin, formatError };
}

function logInternalError(logger: Logger, error: unknown, path: GraphQLFormattedError['path']): void {
  // Internal errors never carry plaintext secrets (those are sealed before any I/O); the stack
  // and message stay on the server for diagnosis.
  const detail = error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : { value: typeof error };
  logger.error({ event: 'internal_error', path, error: detail }, 'internal error');
}
