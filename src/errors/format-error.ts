// What a client sees of an error. AppErrors pass with their code and public extensions (also
// when an operation limit reported one during validation); graphql-js input errors pass with
// their values removed and the field they concern; request errors Apollo raises without a code
// (a persisted query's hash or version) get one; a database that could not be reached or did not
// answer in time is DATABASE_UNAVAILABLE, logged as a warning; anything else becomes
// INTERNAL_SERVER_ERROR with no message detail, no stack and no SQL.
import type { ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { databaseUnavailableError } from '../db/prisma-errors';
import type { Logger } from '../logging/logger';
import { tokenLimitErrorOf } from '../request-guards/operation-limits';
import { AppError, DatabaseUnavailableError } from './app-error';
import { type InputErrorShapingOptions, shapeInputError, type ShapedInputError } from './input-error-shaping';

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

/**
 * Codes answered with HTTP 200 even when Apollo chose 400 (validation, parsing): a federation
 * gateway treats a subgraph's 4xx as a transport failure and would hide the reason.
 */
const ANSWERED_WITH_200 = new Set(['BAD_USER_INPUT', 'QUERY_TOO_COMPLEX']);

export interface ErrorFormatting {
  /** Shapes input errors while the parsed document is still at hand. */
  plugin: ApolloServerPlugin;
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
}

/** `hideSuggestions`: drop graphql-js's "Did you mean" hints from input errors too (production). */
export function createErrorFormatting(logger: Logger, options: InputErrorShapingOptions = {}): ErrorFormatting {
  const shaped = new WeakMap<object, ShapedInputError>();
  /** Codes for the request errors Apollo raises without one, decided while the request is at hand. */
  const requestErrorCodes = new WeakMap<object, string>();

  const plugin: ApolloServerPlugin = {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, document, request }) {
          for (const error of errors) {
            if (unwrapResolverError(error) instanceof AppError) continue;
            if (isUncodedRequestError(error)) {
              requestErrorCodes.set(error, uncodedRequestErrorCode(request.extensions));
              continue;
            }
            const shape = shapeInputError(error, document, options);
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
          if (
            response.http.status === 400 &&
            errors?.length &&
            errors.every((error) => typeof error.extensions?.code === 'string' && ANSWERED_WITH_200.has(error.extensions.code))
          ) {
            response.http.status = 200;
          }
        },
      };
    },
  };

  function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
    const original = unwrapResolverError(error);
    const appError = appErrorOf(original) ?? databaseUnavailableError(original);
    if (appError instanceof DatabaseUnavailableError) {
      // An outage rather than a fault: a warning naming the wait that gave up, without a stack.
      logger.warn({ event: 'database_unavailable', path: formatted.path, reason: appError.reason }, 'database unavailable');
    }
    if (appError) {
      return { message: appError.message, locations: formatted.locations, path: formatted.path, extensions: appError.toExtensions() };
    }
    const requestErrorCode = typeof error === 'object' && error !== null ? requestErrorCodes.get(error) : undefined;
    if (requestErrorCode) return { message: formatted.message, extensions: { code: requestErrorCode } };
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

/**
 * The AppError behind an error: itself, the one a validation rule reported (Apollo wraps
 * validation errors, keeping the rule's error as originalError), or the token limit's parse error.
 */
function appErrorOf(error: unknown): AppError | undefined {
  if (error instanceof AppError) return error;
  if (error instanceof GraphQLError && error.originalError instanceof AppError) return error.originalError;
  return tokenLimitErrorOf(error);
}

/**
 * Apollo refuses a persisted query whose hash does not match its text, or whose version it does
 * not know, with a GraphQLError that has an HTTP 4xx status and no code.
 */
function isUncodedRequestError(error: GraphQLError): boolean {
  const status = (error.extensions.http as { status?: unknown } | undefined)?.status;
  return error.extensions.code === undefined && typeof status === 'number' && status >= 400 && status < 500;
}

function uncodedRequestErrorCode(extensions: Record<string, unknown> | undefined): string {
  const persistedQuery = extensions?.persistedQuery as { version?: unknown } | undefined;
  if (persistedQuery === undefined) return 'BAD_REQUEST';
  // PERSISTED_QUERY_NOT_SUPPORTED makes Apollo clients fall back to sending the full query.
  return persistedQuery.version === 1 ? 'PERSISTED_QUERY_HASH_MISMATCH' : 'PERSISTED_QUERY_NOT_SUPPORTED';
}

function logInternalError(logger: Logger, error: unknown, path: GraphQLFormattedError['path']): void {
  // Internal errors never carry plaintext secrets (those are sealed before any I/O); the stack
  // and message stay on the server for diagnosis.
  const detail = error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : { value: typeof error };
  logger.error({ event: 'internal_error', path, error: detail }, 'internal error');
}
