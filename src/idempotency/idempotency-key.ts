// The Idempotency-Key request header: what a valid key is, and the fingerprint that tells a retry
// of a request from another request sent with the same key. The fingerprint is a SHA-256 of the
// request as the service receives it, in a canonical JSON form, so the request itself (and the
// secrets a create carries) is never stored; the organization and the key go into the hash too,
// so equal requests under two keys or in two organizations leave no equal trace.
import { createHash } from 'node:crypto';
import { BadUserInputError } from '../errors/app-error';

export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';

const MAX_KEY_LENGTH = 255;
/** Printable ASCII: space to tilde. */
const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;

/** The header's value, checked: 1 to 255 printable ASCII characters, else BAD_USER_INPUT naming the header. */
export function checkIdempotencyKey(value: string): string {
  if (value.length === 0 || value.length > MAX_KEY_LENGTH || !PRINTABLE_ASCII.test(value)) {
    throw new BadUserInputError(
      IDEMPOTENCY_KEY_HEADER,
      `The ${IDEMPOTENCY_KEY_HEADER} header must be 1 to ${MAX_KEY_LENGTH} printable ASCII characters.`,
    );
  }
  return value;
}

/** Which key of which organization: a key belongs to its organization, whichever door it came through. */
export interface IdempotencyKeyScope {
  organizationId: string;
  key: string;
}

/** The hash that identifies one request under one key: the same request always gives the same one. */
export function requestFingerprint(scope: IdempotencyKeyScope, operation: string, request: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify([scope.organizationId, scope.key, operation]))
    .update('\n')
    .update(canonicalJson(request))
    .digest('hex');
}

/**
 * JSON with object keys sorted and undefined members left out, so that the same request gives the
 * same text however its object was built (a GraphQL input class, a REST body mapped by hand).
 */
function canonicalJson(value: unknown): string {
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const withJson = value as { toJSON?: unknown };
  if (typeof withJson.toJSON === 'function') return canonicalJson((withJson.toJSON as () => unknown).call(value));
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const record = value as Record<string, unknown>;
  const members = Object.keys(record)
    .filter((name) => record[name] !== undefined)
    .sort()
    .map((name) => `${JSON.stringify(name)}:${canonicalJson(record[name])}`);
  return `{${members.join(',')}}`;
}
