// One log line per GraphQL request: operation name, duration, outcome and error codes, plus who
// asked. Never the query text or variables: those can hold secrets. The operation name is cut to
// a bounded length: a request can carry one of any size.
import type { ApolloServerPlugin } from '@apollo/server';
import { getOperationAST } from 'graphql';
import type { Context } from '../context';
import { loggableOperationName } from '../request-guards/request-guards.plugin';
import type { Logger } from './logger';

export function requestLoggingPlugin(logger: Logger): ApolloServerPlugin<Context> {
  return {
    async requestDidStart({ request }) {
      const started = process.hrtime.bigint();
      return {
        async willSendResponse({ response, operationName, operation, document, contextValue }) {
          const body = response.body;
          const errors = body.kind === 'single' ? (body.singleResult.errors ?? []) : [];
          const codes = [
            ...new Set(errors.map((error) => (typeof error.extensions?.code === 'string' ? error.extensions.code : 'UNKNOWN'))),
          ];
          const principal = contextValue.knownPrincipal();
          logger.info(
            {
              event: 'graphql_request',
              // A document refused by validation has no resolved operation yet, but its name is known.
              operationName: loggableOperationName(
                operationName ?? request.operationName ?? (document ? getOperationAST(document)?.name?.value : undefined),
              ),
              operationType: operation?.operation ?? null,
              durationMs: Number((process.hrtime.bigint() - started) / 1_000_000n),
              outcome: errors.length === 0 ? 'ok' : 'error',
              errorCodes: codes,
              httpStatus: response.http.status ?? 200,
              orgId: principal?.orgId ?? null,
              userId: principal?.userId ?? null,
            },
            'graphql request',
          );
        },
      };
    },
  };
}
