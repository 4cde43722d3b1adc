// Opaque Relay cursors for lists ordered by a row's sequence number (`seq`, strictly increasing
// in insertion order). A cursor is base64url JSON; anything that does not decode to that shape is a
// BAD_USER_INPUT on the `after` argument. Cursors of the earlier (createdAt, id) order are refused
// with their own message: the list must be read again from its start.
import { BadUserInputError } from '../errors/app-error';
import { isLowerCaseUuid } from '../ids/uuid';

/** Where a row stands in its list. */
export interface PageCursor {
  seq: bigint;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;

/** A PostgreSQL BIGINT that a sequence hands out: 1 and up, no sign, no leading zero. */
const SEQUENCE_NUMBER = /^[1-9][0-9]{0,18}$/;
const MAX_BIGINT = 2n ** 63n - 1n;

export function encodeCursor(cursor: PageCursor): string {
  return Buffer.from(JSON.stringify({ s: cursor.seq.toString() }), 'utf8').toString('base64url');
}

export function decodeCursor(field: string, value: string): PageCursor {
  const invalid = () => new BadUserInputError(field, `${field} is not a cursor returned by this API.`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalid();
  if (isEarlierCursor(parsed)) {
    throw new BadUserInputError(field, `${field} is a cursor of an earlier version of this list's order; list again from the start.`);
  }
  const { s } = parsed as { s?: unknown };
  if (typeof s !== 'string' || !SEQUENCE_NUMBER.test(s)) throw invalid();
  const seq = BigInt(s);
  if (seq > MAX_BIGINT) throw invalid();
  return { seq };
}

/** `{t: <ISO time>, i: <uuid>}`: a cursor of the (createdAt, id) order this API once handed out. */
function isEarlierCursor(parsed: object): boolean {
  const { t, i } = parsed as { t?: unknown; i?: unknown };
  return typeof t === 'string' && !Number.isNaN(new Date(t).getTime()) && typeof i === 'string' && isLowerCaseUuid(i);
}

/** `first` as asked, capped at MAX_PAGE_SIZE; negative is an error. */
export function pageSize(field: string, first: number | null | undefined): number {
  if (first === null || first === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 0) throw new BadUserInputError(field, `${field} must be a non-negative integer.`);
  return Math.min(first, MAX_PAGE_SIZE);
}
