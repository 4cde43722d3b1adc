// UUID syntax check shared by the token verifier (org_id claim) and the mint-token CLI (--org), so
// that a token the CLI mints is always one the verifier accepts.

/** Canonical 8-4-4-4-12 hex form, any version or variant, either case. */
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID_PATTERN.test(value);
}
