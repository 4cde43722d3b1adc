// UUID syntax, shared by the token verifier (org_id claim), the mint-token CLI (--org) and every
// id argument, so that a token the CLI mints is always one the verifier accepts.
import { BadUserInputError } from '../errors/app-error';

/** Canonical 8-4-4-4-12 hex form, any version or variant, either case. */
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID_PATTERN.test(value);
}

/** The lower-case form the database returns, and so the only one a cursor of ours carries. */
export function isLowerCaseUuid(value: string): boolean {
  return isUuid(value) && value === value.toLowerCase();
}

/** A malformed id is a BAD_USER_INPUT on its field; it can name no object. */
export function requireUuid(field: string, value: string): void {
  if (!isUuid(value)) throw new BadUserInputError(field, `${field} must be a UUID.`);
}
