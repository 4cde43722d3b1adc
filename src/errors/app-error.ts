// The service's error vocabulary. Every error a client can see is one of these classes with a
// literal code from the contract; anything else is masked by formatError.
import { GraphQLError } from 'graphql';

export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'KMS_UNAVAILABLE'
  | 'DATABASE_UNAVAILABLE'
  | 'UPSTREAM_AUTH_FAILED'
  | 'QUERY_TOO_COMPLEX'
  | 'INTERNAL_SERVER_ERROR';

export abstract class AppError extends GraphQLError {
  abstract readonly code: ErrorCode;

  constructor(message: string, extensions: Record<string, unknown> = {}, options: { cause?: unknown } = {}) {
    // The cause is kept for logs on the server side only; it is never part of extensions.
    super(message, { extensions });
    if (options.cause !== undefined) {
      Object.defineProperty(this, 'cause', { value: options.cause, enumerable: false });
    }
  }

  /** Extensions sent to the client: the code plus whatever the subclass declared public. */
  toExtensions(): Record<string, unknown> {
    return { ...this.extensions, code: this.code };
  }
}

export class UnauthenticatedError extends AppError {
  readonly code = 'UNAUTHENTICATED' as const;
  constructor(message = 'A valid bearer token is required.') {
    super(message);
  }
}

export class ForbiddenError extends AppError {
  readonly code = 'FORBIDDEN' as const;
  constructor(message = 'Your role does not allow this operation.') {
    super(message);
  }
}

/** Invalid input. `field` is the input path, e.g. `input.auth.awsRole.iamRoleArn`. */
export class BadUserInputError extends AppError {
  readonly code = 'BAD_USER_INPUT' as const;
  readonly field: string;
  constructor(field: string, message: string) {
    super(message, { field });
    this.field = field;
  }
}

export class NotFoundError extends AppError {
  readonly code = 'NOT_FOUND' as const;
  constructor(entity: string, id: string) {
    super(`${entity} ${id} was not found.`);
  }
}

export class ConflictError extends AppError {
  readonly code = 'CONFLICT' as const;
  constructor(message: string, extensions: Record<string, unknown> = {}) {
    super(message, extensions);
  }
}

/** The row was written since the revision the caller expected (REST's If-Match). */
export class StaleRevisionError extends ConflictError {
  constructor(entity: 'credential' | 'provider' = 'credential') {
    super(`The ${entity} was changed since you read it; read it again and retry.`, { reason: 'STALE_REVISION' });
  }
}

/** A provider, as a CONFLICT names it. */
export interface ProviderReference {
  id: string;
  name: string;
}

/**
 * Providers still use the credential, so it cannot be deleted. `extensions.providersInUse` lists
 * them (`[{ id, name }]`, oldest first) for a client to repoint or delete before trying again.
 */
export class CredentialInUseError extends ConflictError {
  constructor(providers: readonly ProviderReference[]) {
    const inUse = providers.map(({ id, name }) => ({ id, name }));
    const routes = inUse.length === 1 ? '1 provider uses' : `${inUse.length} providers use`;
    const names = inUse.map((provider) => `${JSON.stringify(provider.name)} ${provider.id}`).join(', ');
    super(
      `The credential cannot be deleted: ${routes} it (${names}). Repoint those providers to another credential ` +
        '(updateProvider, or PUT /admin/providers/{id}) or delete them first.',
      { providersInUse: inUse },
    );
  }
}

/**
 * An Idempotency-Key that already names another request (another input, or another operation):
 * BAD_USER_INPUT in GraphQL, 422 on the REST door. `field` names the header.
 */
export class IdempotencyKeyReusedError extends BadUserInputError {}

/** What an Idempotency-Key created was deleted since, so a retry with that key has nothing to answer. */
export class IdempotentResultDeletedError extends AppError {
  readonly code = 'NOT_FOUND' as const;
  constructor(message: string) {
    super(message);
  }
}

/** STS, Google's token endpoint or IAM Credentials refused or failed to mint what the gateway needs. */
export class UpstreamAuthFailedError extends AppError {
  readonly code = 'UPSTREAM_AUTH_FAILED' as const;
  constructor(check: string, reason: string) {
    super(`${check} failed: ${reason}`, { check });
  }
}

/** The limits a GraphQL operation is held to before it runs (src/request-guards/operation-limits.ts). */
export type OperationLimitName = 'depth' | 'aliases' | 'cost' | 'tokens' | 'directives' | 'validationMutations';

/**
 * The operation is larger or costlier than a limit allows; it is refused before anything runs.
 * `limit` names the limit and `max` its configured value, so a client can tell which one to stay under.
 */
export class QueryTooComplexError extends AppError {
  readonly code = 'QUERY_TOO_COMPLEX' as const;
  constructor(limit: OperationLimitName, max: number, message: string) {
    super(message, { limit, max });
  }
}

export class KmsUnavailableError extends AppError {
  readonly code = 'KMS_UNAVAILABLE' as const;
  constructor(message = 'The key service is unavailable; nothing was written.', options: { cause?: unknown } = {}) {
    super(message, {}, options);
  }
}

/**
 * The database could not be reached or did not answer within its deadline (src/db/database-deadlines.ts):
 * an outage, not a fault of the request, so the caller may try again. `reason` says which wait gave
 * up, for the log only.
 */
export class DatabaseUnavailableError extends AppError {
  readonly code = 'DATABASE_UNAVAILABLE' as const;
  constructor(
    readonly reason: string,
    options: { cause?: unknown } = {},
  ) {
    super('The database is unavailable or did not answer in time; try again shortly.', {}, options);
  }
}
