// Opaque Relay cursors for lists ordered by (createdAt, id). A cursor is base64url JSON; anything
// that does not decode to that shape is a BAD_USER_INPUT on the `after` argument.
import { BadUserInputError } from '../errors/app-error';
import { isLowerCaseUuid } from '../ids/uuid';

export interface PageCursor {
  createdAt: Date;
  id: string;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;

export function encodeCursor(cursor: PageCursor): string {
  return Buffer.from(JSON.stringify({ t: cursor.createdAt.toISOString(), i: cursor.id }), 'utf8').toString('base64url');
}

export function decodeCursor(field: string, value: string): PageCursor {
  const invalid = () => new BadUserInputError(field, `${field} is not a cursor returned by this API.`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (typeof parsed !== 'object' || parsed === null) throw invalid();
  const { t, i } = parsed as { t?: unknown; i?: unknown };
  if (typeof t !== 'string' || typeof i !== 'string' || !isLowerCaseUuid(i)) throw invalid();
  const createdAt = new Date(t);
  if (Number.isNaN(createdAt.getTime())) throw invalid();
  return { createdAt, id: i };
}

/** `first` as asked, capped at MAX_PAGE_SIZE; negative is an error. */
export function pageSize(field: string, first: number | null | undefined): number {
  if (first === null || first === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 0) throw new BadUserInputError(field, `${field} must be a non-negative integer.`);
  return Math.min(first, MAX_PAGE_SIZE);
}
