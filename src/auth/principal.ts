// The authenticated caller (Principal) and the role checks every resolver uses to decide whether
// it may read or write. Authentication (who) lives in token-verifier.ts; this file is only about
// what a verified caller is allowed to do.
import type { RequestOrigin } from '../audit/audit-log';
import { ForbiddenError } from '../errors/app-error';

export interface Principal {
  /** The token's `sub`: the acting user, recorded in audit fields. */
  userId: string;
  /** The token's `org_id`, lower-cased: every query and write is scoped to it. */
  orgId: string;
  /** Every role string from the token, unknown ones included; only `Role` values grant anything. */
  roles: string[];
  /** The request it came with (request id, client address, user agent), for the audit trail. */
  origin?: RequestOrigin;
}

export type Role = 'admin' | 'viewer' | 'runtime';

export const ROLES: readonly Role[] = ['admin', 'viewer', 'runtime'];

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** admin and viewer may read. */
export function canRead(principal: Principal): boolean {
  return principal.roles.includes('admin') || principal.roles.includes('viewer');
}

/** Only admin may write. */
export function canWrite(principal: Principal): boolean {
  return principal.roles.includes('admin');
}

/** The gateway's data plane: it may resolve upstream auth on the runtime listener, and do nothing else. */
export function isRuntime(principal: Principal): boolean {
  return principal.roles.includes('runtime');
}

/** Admin surfaces (GraphQL, REST) refuse runtime tokens, whatever other roles they carry. */
function refuseRuntime(principal: Principal): void {
  if (isRuntime(principal)) throw new ForbiddenError('A runtime token is accepted only by the runtime route.');
}

export function requireRuntime(principal: Principal): void {
  if (!isRuntime(principal)) throw new ForbiddenError('The runtime route requires the runtime role.');
}

export function requireReader(principal: Principal): void {
  refuseRuntime(principal);
  if (!canRead(principal)) {
    throw new ForbiddenError('Reading requires the viewer or admin role.');
  }
}

export function requireWriter(principal: Principal): void {
  refuseRuntime(principal);
  if (!canWrite(principal)) {
    throw new ForbiddenError('This operation changes data and requires the admin role.');
  }
}
