// The REST door's errors: every failure is the OpenAI-style envelope
// `{"error": {"message", "type", "param", "code"}}` with the contract's status. AppErrors keep
// their code and message; their GraphQL input path becomes the REST field (`param`); a database
// that could not be reached or did not answer in time is a 503 DATABASE_UNAVAILABLE; anything
// else is a 500 with no detail, as in GraphQL.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { databaseUnavailableError } from '../db/prisma-errors';
import { AppError, BadUserInputError, type ErrorCode, IdempotencyKeyReusedError, StaleRevisionError } from '../errors/app-error';
import { INTERNAL_ERROR_MESSAGE } from '../errors/format-error';
import type { Logger } from '../logging/logger';

export type RestErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'conflict_error'
  | 'service_unavailable_error'
  | 'api_error';

export interface RestErrorBody {
  error: { message: string; type: RestErrorType; param: string | null; code: ErrorCode };
}

/** An error the REST layer raises itself (a request it cannot map), with its status. */
export class RestRequestError extends Error {
  constructor(
    readonly status: 400 | 404 | 405 | 412 | 413 | 415,
    message: string,
    readonly param: string | null = null,
  ) {
    super(message);
    this.name = 'RestRequestError';
  }
}

const BY_CODE: Record<ErrorCode, { status: number; type: RestErrorType }> = {
  BAD_USER_INPUT: { status: 400, type: 'invalid_request_error' },
  UNAUTHENTICATED: { status: 401, type: 'authentication_error' },
  FORBIDDEN: { status: 403, type: 'permission_error' },
  NOT_FOUND: { status: 404, type: 'not_found_error' },
  CONFLICT: { status: 409, type: 'conflict_error' },
  KMS_UNAVAILABLE: { status: 503, type: 'service_unavailable_error' },
  DATABASE_UNAVAILABLE: { status: 503, type: 'service_unavailable_error' },
  UPSTREAM_AUTH_FAILED: { status: 502, type: 'api_error' },
  QUERY_TOO_COMPLEX: { status: 400, type: 'invalid_request_error' },
  INTERNAL_SERVER_ERROR: { status: 500, type: 'api_error' },
};

const BY_STATUS: Record<RestRequestError['status'], { type: RestErrorType; code: ErrorCode }> = {
  400: { type: 'invalid_request_error', code: 'BAD_USER_INPUT' },
  404: { type: 'not_found_error', code: 'NOT_FOUND' },
  405: { type: 'invalid_request_error', code: 'BAD_USER_INPUT' },
  412: { type: 'conflict_error', code: 'CONFLICT' },
  413: { type: 'invalid_request_error', code: 'BAD_USER_INPUT' },
  415: { type: 'invalid_request_error', code: 'BAD_USER_INPUT' },
};

/** The status and body for any error; `internal` is true when it must be logged as a fault. */
export function restErrorResponse(error: unknown): { status: number; body: RestErrorBody; internal: boolean } {
  if (error instanceof RestRequestError) {
    const { type, code } = BY_STATUS[error.status];
    return { status: error.status, body: { error: { message: error.message, type, param: error.param, code } }, internal: false };
  }
  const appError = error instanceof AppError ? error : databaseUnavailableError(error);
  if (appError) {
    const { status, type } =
      appError instanceof StaleRevisionError
        ? { status: 412, type: 'conflict_error' as const }
        : appError instanceof IdempotencyKeyReusedError
          ? { status: 422, type: 'invalid_request_error' as const }
          : BY_CODE[appError.code];
    const param = appError instanceof BadUserInputError ? restParam(appError.field) : null;
    return { status, body: { error: { message: appError.message, type, param, code: appError.code } }, internal: false };
  }
  return {
    status: 500,
    body: { error: { message: INTERNAL_ERROR_MESSAGE, type: 'api_error', param: null, code: 'INTERNAL_SERVER_ERROR' } },
    internal: true,
  };
}

/**
 * The REST field of a service input path: `input.auth.awsRole.iamRoleArn` → `credentials.iam_role_arn`,
 * `input.baseUrl` → `base_url`, `input.credentialId` → `connection_id`. Settings keys are the
 * caller's own and keep their spelling.
 */
export function restParam(field: string): string | null {
  // A request header (Idempotency-Key) keeps its own name.
  if (REQUEST_HEADER.test(field)) return field;
  for (const [pattern, replacement] of PARAM_RULES) {
    const match = pattern.exec(field);
    if (!match) continue;
    if (replacement === null) return null;
    const rest = field.slice(match[0].length);
    return snakePath(`${replacement}${rest}`);
  }
  return snakePath(field);
}

/** A header name as HTTP spells it: capitalised words joined by hyphens. */
const REQUEST_HEADER = /^[A-Z][a-z]*(-[A-Z][a-z]*)+$/;

/** Ordered: the first pattern that matches the start of the path decides. */
const PARAM_RULES: [RegExp, string | null][] = [
  [/^input\.auth\.(apiKey|bedrockApiKey)(\.apiKey)?$/, 'api_key'],
  [/^input\.auth\.googleImpersonation\.targetPrincipal/, 'credentials.target_service_account'],
  [/^input\.auth\.googleAdc\.quotaProjectId/, 'settings.quota_project_id'],
  [/^input\.auth\.googleServiceAccountKeyFile/, 'credentials'],
  [/^input\.auth\.\w+(?=\.)/, 'credentials'],
  [/^input\.auth(\.\w+)?$/, 'auth_type'],
  [/^input\.role(?=\.)/, ''],
  [/^input\.role$/, 'iam_role_arn'],
  [/^input\.credentialId$/, 'connection_id'],
  [/^input\.googleServiceAccountKeyFile/, 'credentials'],
  [/^input\.googleImpersonation\.targetPrincipal/, 'target_service_account'],
  [/^input\.google\w+$/, 'auth_type'],
  [/^input\.oauthPassthrough$/, 'auth_type'],
  [/^input\.expectedSecretVersion$/, null],
  [/^input$/, null],
  [/^input\./, ''],
];

function snakePath(path: string): string {
  const segments = path.replace(/^\./, '').split('.');
  const settings = segments.indexOf('settings');
  return segments
    .map((segment, index) =>
      settings !== -1 && index > settings ? segment : segment.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`),
    )
    .join('.');
}

export const requireJson: RequestHandler = (req, _res, next) => {
  next(
    req.is('application/json') ? undefined : new RestRequestError(415, 'The body must be JSON, sent as Content-Type: application/json.'),
  );
};

/**
 * Every failure as the envelope, for the REST door and the runtime listener alike. Body-parser
 * errors carry the raw text they choked on (which may be a secret): only their kind is used.
 * Faults are logged with their stack, never with the body; refusals with their code under `event`;
 * a database outage as a warning.
 */
export function envelopeErrorHandler(logger: Logger, event: string): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const { type } = (error ?? {}) as { type?: unknown };
    const translated =
      type === 'entity.too.large'
        ? new RestRequestError(413, 'The request body is too large.')
        : type === 'entity.parse.failed' || type === 'encoding.unsupported' || type === 'charset.unsupported'
          ? new RestRequestError(400, 'The request body is not valid JSON.')
          : error;
    const { status, body, internal } = restErrorResponse(translated);
    if (internal) {
      const detail = error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : { value: typeof error };
      logger.error({ event: 'internal_error', method: req.method, path: req.path, error: detail }, 'internal error');
    } else if (body.error.code === 'DATABASE_UNAVAILABLE') {
      // An outage rather than a fault: a warning naming the wait that gave up, without a stack.
      const reason = databaseUnavailableError(error)?.reason;
      logger.warn({ event: 'database_unavailable', door: event, method: req.method, status, reason }, 'database unavailable');
    } else {
      logger.info({ event, method: req.method, status, code: body.error.code }, 'request refused');
    }
    res.setHeader('Cache-Control', 'no-store');
    res.status(status).json(body);
  };
}
