// The audit trail: who changed what, when, from where and why, written in the same transaction as
// the change it records, so a change without its event (or an event without its change) cannot be
// committed. Each organization's events form a hash chain: an event's hash covers its fields and the
// previous event's hash, and audit_chain_heads holds the newest; verify() walks every chain and
// reports an edited, removed or inserted row. Appends of one organization are serialized by a row
// lock on its head. Never a secret: callers hand over field names, versions and non-secret values.
import { createHash, randomUUID } from 'node:crypto';
import type { Database } from '../db/database';
import { BadUserInputError } from '../errors/app-error';
import { countAuditWriteFailure } from '../metrics/metrics';

/** What happened, as recorded. */
export type AuditAction =
  | 'credential.created'
  | 'credential.updated'
  | 'credential.rotated'
  | 'credential.deleted'
  | 'credential.validated'
  | 'credential.rewrapped'
  | 'credential.resolved'
  | 'provider.created'
  | 'provider.updated'
  | 'provider.deleted'
  | 'validation.run'
  | 'key_ring.rotated'
  | 'key_ring.retired';

export const AUDIT_ACTIONS: readonly AuditAction[] = [
  'credential.created',
  'credential.updated',
  'credential.rotated',
  'credential.deleted',
  'credential.validated',
  'credential.rewrapped',
  'credential.resolved',
  'provider.created',
  'provider.updated',
  'provider.deleted',
  'validation.run',
  'key_ring.rotated',
  'key_ring.retired',
];

/** The organization of events about the vault itself (key rotation), which belong to no customer. */
export const SYSTEM_ORGANIZATION_ID = '00000000-0000-0000-0000-000000000000';

/** Where a request came from, for the events it causes. */
export interface RequestOrigin {
  requestId: string | null;
  clientIp: string | null;
  userAgent: string | null;
}

export interface AuditEntry {
  organizationId: string;
  /** The token's `sub`, or `system:<command>` for the vault's own commands. */
  actor: string;
  action: AuditAction;
  targetType?: 'credential' | 'provider' | 'key_ring' | null;
  targetId?: string | null;
  /** Names of the fields the change touched; never their values when they are secret. */
  changedFields?: string[];
  /** Non-secret particulars: old and new names, a validation outcome, a resolve count. */
  details?: Record<string, unknown>;
  secretVersion?: number | null;
  changeNote?: string | null;
  origin?: RequestOrigin | null;
}

export interface AuditEvent {
  id: string;
  organizationId: string;
  position: number;
  at: Date;
  actor: string;
  action: string;
  targetType: string | null;
  targetId: string | null;
  changedFields: string[];
  details: Record<string, unknown>;
  secretVersion: number | null;
  changeNote: string | null;
  requestId: string | null;
  clientIp: string | null;
  userAgent: string | null;
  previousHash: string;
  hash: string;
}

/** A client that can write: the database, or a transaction on it. */
export type AuditWriter = Pick<Database, '$executeRaw' | '$queryRaw'>;

/** The hash a chain starts from. */
export const GENESIS_HASH = '0'.repeat(64);

export interface ChainProblem {
  organizationId: string;
  position: number | null;
  problem: string;
}

export interface AuditPageOptions {
  first: number;
  /** Events older than this position (the list runs newest first). */
  before?: number;
  targetId?: string;
  action?: string;
}

export class AuditLog {
  constructor(private readonly prisma: Database) {}

  /**
   * Appends an event inside `tx`, the transaction of the change it records; `tx` must be a
   * transaction, or the row lock that orders the chain ends before the insert.
   */
  async append(tx: AuditWriter, entry: AuditEntry): Promise<AuditEvent> {
    try {
      return await this.appendOrFail(tx, entry);
    } catch (error) {
      // The change it records fails with it (same transaction); the failure is counted for operators.
      countAuditWriteFailure();
      throw error;
    }
  }

  private async appendOrFail(tx: AuditWriter, entry: AuditEntry): Promise<AuditEvent> {
    const organizationId = entry.organizationId;
    // Position and previous hash come from the chain head, read and moved on in the statement itself.
    const draft: AuditEvent = {
      id: randomUUID(),
      organizationId,
      position: 0,
      at: new Date(),
      actor: entry.actor,
      action: entry.action,
      targetType: entry.targetType ?? null,
      targetId: entry.targetId ?? null,
      changedFields: [...(entry.changedFields ?? [])].sort(),
      details: entry.details ?? {},
      secretVersion: entry.secretVersion ?? null,
      changeNote: entry.changeNote ?? null,
      requestId: entry.origin?.requestId ?? null,
      clientIp: entry.origin?.clientIp ?? null,
      userAgent: entry.origin?.userAgent ?? null,
      previousHash: '',
      hash: '',
    };
    let appended = await appendAfterHead(tx, draft);
    if (!appended) {
      // The organization's first event: its chain starts from the genesis hash.
      await tx.$executeRaw`
        INSERT INTO audit_chain_heads (organization_id, position, hash)
        VALUES (${organizationId}::uuid, 0, ${GENESIS_HASH})
        ON CONFLICT (organization_id) DO NOTHING`;
      appended = await appendAfterHead(tx, draft);
    }
    if (!appended) throw new Error('the audit chain head is missing');
    const event: AuditEvent = { ...draft, position: Number(appended.position), previousHash: appended.previous_hash, hash: appended.hash };
    // The database built the hash from the same pieces; a disagreement must not be committed.
    if (hashOf(event) !== event.hash) throw new Error('the audit event hash written does not match its fields');
    return event;
  }

  /** Appends an event that records no other write (a validation run), in a transaction of its own. */
  record(entry: AuditEntry): Promise<AuditEvent> {
    return this.prisma.$transaction((tx) => this.append(tx, entry));
  }

  /** An organization's events, newest first. */
  async page(organizationId: string, options: AuditPageOptions): Promise<{ events: AuditEvent[]; hasNextPage: boolean }> {
    const rows = await this.prisma.auditEvent.findMany({
      where: {
        organizationId,
        ...(options.before !== undefined ? { position: { lt: BigInt(options.before) } } : {}),
        ...(options.targetId !== undefined ? { targetId: options.targetId } : {}),
        ...(options.action !== undefined ? { action: options.action } : {}),
      },
      orderBy: { position: 'desc' },
      take: options.first + 1,
    });
    return { events: rows.slice(0, options.first).map(toEvent), hasNextPage: rows.length > options.first };
  }

  count(organizationId: string, filter: { targetId?: string; action?: string } = {}): Promise<number> {
    return this.prisma.auditEvent.count({ where: { organizationId, ...filter } });
  }

  /** Walks every organization's chain (or one's) and reports each break. */
  async verify(organizationId?: string): Promise<{ events: number; organizations: number; problems: ChainProblem[] }> {
    const heads = await this.prisma.auditChainHead.findMany({ where: organizationId ? { organizationId } : {} });
    const organizations = new Set([
      ...heads.map((head) => head.organizationId),
      ...(
        await this.prisma.auditEvent.findMany({
          where: organizationId ? { organizationId } : {},
          distinct: ['organizationId'],
          select: { organizationId: true },
        })
      ).map((row) => row.organizationId),
    ]);
    const problems: ChainProblem[] = [];
    let events = 0;
    for (const org of [...organizations].sort()) {
      const head = heads.find((candidate) => candidate.organizationId === org);
      let previous: AuditEvent | null = null;
      let after: bigint | undefined;
      for (;;) {
        const rows = await this.prisma.auditEvent.findMany({
          where: { organizationId: org, ...(after !== undefined ? { position: { gt: after } } : {}) },
          orderBy: { position: 'asc' },
          take: 1000,
        });
        if (rows.length === 0) break;
        for (const row of rows) {
          const event = toEvent(row);
          events += 1;
          // The first row kept may follow pruned ones: it starts the chain from its own previous hash.
          if (previous !== null) {
            if (event.position !== previous.position + 1) {
              problems.push({ organizationId: org, position: previous.position + 1, problem: 'missing: positions jump' });
            }
            if (event.previousHash !== previous.hash) {
              problems.push({ organizationId: org, position: event.position, problem: 'previous hash does not match the row before it' });
            }
          } else if (event.position === 1 && event.previousHash !== GENESIS_HASH) {
            problems.push({ organizationId: org, position: 1, problem: 'the first event does not start from the genesis hash' });
          }
          if (hashOf(event) !== event.hash)
            problems.push({ organizationId: org, position: event.position, problem: 'edited: hash does not match its fields' });
          previous = event;
        }
        after = rows[rows.length - 1].position;
      }
      if (!head) {
        problems.push({ organizationId: org, position: null, problem: 'no chain head' });
      } else if (Number(head.position) !== (previous?.position ?? 0) || head.hash !== (previous?.hash ?? GENESIS_HASH)) {
        problems.push({
          organizationId: org,
          position: Number(head.position),
          problem: `the chain head (position ${head.position}) is not the newest row (${previous ? `position ${previous.position}` : 'none'}): rows removed from the end`,
        });
      }
    }
    return { events, organizations: organizations.size, problems };
  }

  /** Removes events older than `retentionDays` (always the oldest of each chain, never its newest); returns how many. */
  async prune(retentionDays: number, now: Date = new Date()): Promise<number> {
    const cutoff = new Date(now.getTime() - retentionDays * 86_400_000);
    return this.prisma.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT set_config('vault.audit_prune', 'on', true)`;
      // Each chain keeps its newest event whatever its age: the head must always have its row.
      return tx.$executeRaw`
        DELETE FROM audit_events AS e
         WHERE e.at < ${cutoff}
           AND NOT EXISTS (SELECT 1 FROM audit_chain_heads AS h WHERE h.organization_id = e.organization_id AND h.position = e.position)`;
    });
  }
}

type AuditEventRow = Awaited<ReturnType<Database['auditEvent']['findFirstOrThrow']>>;

function toEvent(row: AuditEventRow): AuditEvent {
  return {
    ...row,
    position: Number(row.position),
    changedFields: row.changedFields,
    details: (row.details ?? {}) as Record<string, unknown>,
  };
}

/**
 * What an event's hash covers, in a fixed order: `leading`, then its position, `trailing`, then the
 * previous hash. The position and the previous hash come from the chain head.
 */
function hashedFields(event: AuditEvent): { leading: unknown[]; trailing: unknown[] } {
  return {
    leading: [event.id, event.organizationId],
    trailing: [
      event.at.toISOString(),
      event.actor,
      event.action,
      event.targetType,
      event.targetId,
      event.changedFields,
      canonical(event.details),
      event.secretVersion,
      event.changeNote,
      event.requestId,
      event.clientIp,
      event.userAgent,
    ],
  };
}

/** The hash of an event: SHA-256 over the JSON text of its fields (hashedFields) and the previous hash. */
export function hashOf(event: AuditEvent): string {
  const { leading, trailing } = hashedFields(event);
  return createHash('sha256')
    .update(JSON.stringify([...leading, event.position, ...trailing, event.previousHash]), 'utf8')
    .digest('hex');
}

interface AppendedRow {
  position: bigint;
  previous_hash: string;
  hash: string;
}

/**
 * Appends `draft` after its organization's chain head in one statement: locks the head, inserts the
 * event at the next position with the head's hash as its previous hash, and moves the head on to
 * it. The hash is hashOf's, built by the database: the JSON text of the fields around the position
 * and the previous hash, which it splices in. Undefined when the organization has no chain head yet.
 */
async function appendAfterHead(tx: AuditWriter, draft: AuditEvent): Promise<AppendedRow | undefined> {
  const { leading, trailing } = hashedFields(draft);
  // `["<id>","<organization>",` and `,<trailing fields>,`: the JSON text of hashOf's array, cut where the two go in.
  const before = `${JSON.stringify(leading).slice(0, -1)},`;
  const between = `,${JSON.stringify(trailing).slice(1, -1)},`;
  const organizationId = draft.organizationId;
  const rows = await tx.$queryRaw<AppendedRow[]>`
    WITH head AS MATERIALIZED (
      SELECT position, hash FROM audit_chain_heads WHERE organization_id = ${organizationId}::uuid FOR UPDATE
    ), next AS MATERIALIZED (
      SELECT position + 1 AS position, hash AS previous_hash,
             encode(sha256(convert_to(${before}::text || (position + 1)::text || ${between}::text || to_json(hash)::text || ']', 'UTF8')), 'hex') AS hash
        FROM head
    ), appended AS (
      INSERT INTO audit_events (id, organization_id, position, at, actor, action, target_type, target_id, changed_fields, details,
                                secret_version, change_note, request_id, client_ip, user_agent, previous_hash, hash)
      SELECT ${draft.id}::uuid, ${organizationId}::uuid, next.position, ${draft.at.toISOString()}::timestamptz, ${draft.actor}::text,
             ${draft.action}::text, ${draft.targetType}::text, ${draft.targetId}::text, ${draft.changedFields}::text[],
             ${JSON.stringify(draft.details)}::jsonb, ${draft.secretVersion}::int, ${draft.changeNote}::text, ${draft.requestId}::text,
             ${draft.clientIp}::text, ${draft.userAgent}::text, next.previous_hash, next.hash
        FROM next
      RETURNING position, previous_hash, hash
    )
    UPDATE audit_chain_heads AS chain SET position = appended.position, hash = appended.hash
      FROM appended
     WHERE chain.organization_id = ${organizationId}::uuid
    RETURNING appended.position, appended.previous_hash, appended.hash`;
  return rows.at(0);
}

/** Objects with their keys sorted, at every depth: the database's jsonb does not keep key order. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

/** The opaque cursor of an event in its organization's list. */
export function encodeAuditCursor(position: number): string {
  return Buffer.from(JSON.stringify({ p: position }), 'utf8').toString('base64url');
}

export function decodeAuditCursor(field: string, value: string): number {
  try {
    const parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as { p?: unknown };
    if (typeof parsed.p === 'number' && Number.isSafeInteger(parsed.p) && parsed.p > 0) return parsed.p;
  } catch {
    // falls through to the error
  }
  throw new BadUserInputError(field, `${field} is not a cursor returned by this API.`);
}
