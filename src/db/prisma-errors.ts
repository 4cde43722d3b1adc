// Prisma's error codes, named once. Repositories ask which constraint a failed statement hit and
// turn that into the AppError their use case means (a duplicate name, a missing credential).
// Whether the database was there at all is decided here too, once for every repository: the doors
// (formatError, the REST and runtime envelope) ask databaseUnavailableError of any error that is
// not already an AppError.
import { DatabaseUnavailableError } from '../errors/app-error';
import { Prisma } from '../generated/prisma/client';

/** P2002 unique, P2003 foreign key, P2025 the record to update or delete does not exist. */
const CODES = {
  P2002: 'unique',
  P2003: 'foreign-key',
  P2025: 'record-not-found',
} as const;

export type ViolatedConstraint = (typeof CODES)[keyof typeof CODES];

/** The constraint a Prisma error reports, or undefined for any other error. */
export function violatedConstraint(error: unknown): ViolatedConstraint | undefined {
  if (!(error instanceof Prisma.PrismaClientKnownRequestError)) return undefined;
  return Object.hasOwn(CODES, error.code) ? CODES[error.code as keyof typeof CODES] : undefined;
}

/**
 * pg and pg-pool report a connection that could not be opened in time, stopped answering or went
 * away with plain errors that carry no code, and Prisma passes them through as they are.
 */
const DRIVER_CONNECTION_FAILURES = new Set([
  'Query read timeout', // query_timeout passed
  'timeout exceeded when trying to connect', // no pooled connection came free in time
  'Connection terminated due to connection timeout', // a new connection took too long
  'timeout expired', // the same, for a connection outside the pool
  'Connection terminated unexpectedly',
  'Connection terminated',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
]);

/** Socket failures, as a driver error's code (or the code Prisma copies from one it does not know). */
const SOCKET_FAILURES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * P1001 cannot reach the server, P1002 reached but timed out, P1008 operation timed out, P1017
 * the server closed the connection, P2037 too many connections.
 */
const UNAVAILABLE_PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2037']);

/** The same, as the driver adapter names them inside P2010 (raw query) and P2039 (database error). */
const UNAVAILABLE_ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'SocketTimeout', 'ConnectionClosed', 'TooManyConnections']);

/**
 * SQLSTATEs of a server that gave up on a statement or is going away: 57014 canceled (statement_timeout),
 * 25P03 idle_in_transaction_session_timeout, 57P01–57P03 shutting down or starting up, 53300 too
 * many connections, and class 08, connection exceptions.
 */
function isUnavailableSqlState(code: string): boolean {
  return ['57014', '25P03', '57P01', '57P02', '57P03', '53300'].includes(code) || code.startsWith('08');
}

/**
 * A DatabaseUnavailableError when `error` says the database could not be reached or did not answer
 * within its deadline (as opposed to refusing a statement); undefined for any other error.
 */
export function databaseUnavailableError(error: unknown): DatabaseUnavailableError | undefined {
  if (error instanceof DatabaseUnavailableError) return error;
  const reason = unavailabilityOf(error);
  return reason === undefined ? undefined : new DatabaseUnavailableError(reason, { cause: error });
}

function unavailabilityOf(error: unknown): string | undefined {
  if (error instanceof Prisma.PrismaClientKnownRequestError) {
    if (UNAVAILABLE_PRISMA_CODES.has(error.code) || SOCKET_FAILURES.has(error.code)) return error.code;
    if (error.code === 'P2010' || error.code === 'P2039') {
      const cause = adapterCauseOf(error.meta);
      if (cause?.kind !== undefined && UNAVAILABLE_ADAPTER_KINDS.has(cause.kind)) return `${error.code} ${cause.kind}`;
      if (cause?.originalCode !== undefined && isUnavailableSqlState(cause.originalCode)) return `${error.code} ${cause.originalCode}`;
    }
    // An interactive transaction that could not start within maxWait, or outlived its timeout.
    if (
      error.code === 'P2028' &&
      (error.message.includes('Unable to start a transaction in the given time') || error.meta?.timeTaken !== undefined)
    ) {
      return 'P2028';
    }
    return undefined;
  }
  if (!(error instanceof Error)) return undefined;
  if (DRIVER_CONNECTION_FAILURES.has(error.message)) return error.message;
  const code = (error as Error & { code?: unknown }).code;
  if (typeof code === 'string' && SOCKET_FAILURES.has(code)) return code;
  return undefined;
}

/** The driver adapter's error a P2010 or P2039 carries: `meta.driverAdapterError.cause`. */
function adapterCauseOf(meta: Record<string, unknown> | undefined): { kind?: string; originalCode?: string } | undefined {
  const adapterError = meta?.driverAdapterError;
  if (typeof adapterError !== 'object' || adapterError === null) return undefined;
  const cause = (adapterError as { cause?: unknown }).cause;
  if (typeof cause !== 'object' || cause === null) return undefined;
  const { kind, originalCode } = cause as { kind?: unknown; originalCode?: unknown };
  return {
    kind: typeof kind === 'string' ? kind : undefined,
    originalCode: typeof originalCode === 'string' ? originalCode : undefined,
  };
}
