// Reading the audit trail: admins and viewers of an organization page through its events, newest
// first, optionally narrowed to one target or one action.
import { type Principal, requireReader } from '../auth/principal';
import { BadUserInputError } from '../errors/app-error';
import { isUuid } from '../ids/uuid';
import { type PageInfoFields, pageInfoOf } from '../pagination/connection';
import { pageSize } from '../pagination/page-cursor';
import { AUDIT_ACTIONS, type AuditEvent, type AuditLog, decodeAuditCursor, encodeAuditCursor } from './audit-log';

export interface AuditEventsRequest {
  first?: number | null;
  after?: string | null;
  targetId?: string | null;
  action?: string | null;
}

export interface AuditEventPage {
  edges: { cursor: string; node: AuditEvent }[];
  pageInfo: PageInfoFields;
  totalCount: number;
}

/** Field names of the request, as each door calls them. */
export interface AuditRequestFields {
  first: string;
  after: string;
  targetId: string;
  action: string;
}

const GRAPHQL_FIELDS: AuditRequestFields = { first: 'first', after: 'after', targetId: 'targetId', action: 'action' };

export class AuditService {
  constructor(private readonly log: Pick<AuditLog, 'page' | 'count'>) {}

  async events(principal: Principal, request: AuditEventsRequest, fields: AuditRequestFields = GRAPHQL_FIELDS): Promise<AuditEventPage> {
    requireReader(principal);
    const first = pageSize(fields.first, request.first);
    const before = request.after ? decodeAuditCursor(fields.after, request.after) : undefined;
    const targetId = request.targetId ?? undefined;
    if (targetId !== undefined && !isUuid(targetId)) throw new BadUserInputError(fields.targetId, `${fields.targetId} must be a UUID.`);
    const action = request.action ?? undefined;
    if (action !== undefined && !(AUDIT_ACTIONS as readonly string[]).includes(action)) {
      throw new BadUserInputError(fields.action, `${fields.action} must be one of ${AUDIT_ACTIONS.join(', ')}.`);
    }
    const filter = { targetId: targetId?.toLowerCase(), action };
    const [{ events, hasNextPage }, totalCount] = await Promise.all([
      this.log.page(principal.orgId, { first, before, ...filter }),
      this.log.count(principal.orgId, filter),
    ]);
    const edges = events.map((node) => ({ cursor: encodeAuditCursor(node.position), node }));
    return { edges, pageInfo: pageInfoOf(edges, hasNextPage), totalCount };
  }
}
