// SQL for providers (routes), through Prisma. Prisma errors become AppErrors.
import { modelProviderFromSlug, slugOf } from '../catalog/model-provider-catalog';
import { type AuditEntry, AuditLog } from '../audit/audit-log';
import { type ChangeFeed, NO_CHANGE_FEED } from '../db/change-feed';
import type { Database } from '../db/database';
import { violatedConstraint } from '../db/prisma-errors';
import { ConflictError, NotFoundError } from '../errors/app-error';
import type { Prisma } from '../generated/prisma/client';
import { keysetAfter, type Page, pageOf, SEQUENCE_ORDER } from '../pagination/connection';
import type { PageCursor } from '../pagination/page-cursor';
import type { Provider, SelectedProvider } from './provider.model';

type ProviderRow = Awaited<ReturnType<Database['provider']['findFirstOrThrow']>>;

/** A provider to insert, and who adds it. */
export type NewProvider = Omit<Provider, 'createdAt' | 'createdBy' | 'updatedAt' | 'updatedBy' | 'revision'> & { actor: string };

/** What an update writes: only the fields given change. */
export interface ProviderChanges {
  name?: string;
  settings?: Record<string, unknown>;
  /** What backs the route: a credential, or OAuth passthrough (exactly one). */
  backing?: { credentialId: string; oauthPassthrough: false } | { credentialId: null; oauthPassthrough: true };
  actor: string;
}

function toProvider(row: ProviderRow): Provider {
  return {
    id: row.id,
    organizationId: row.organizationId,
    name: row.name,
    modelProvider: modelProviderFromSlug(row.modelProvider),
    credentialId: row.credentialId,
    oauthPassthrough: row.oauthPassthrough,
    settings: row.settings as Record<string, unknown>,
    createdAt: row.createdAt,
    createdBy: row.createdBy,
    updatedAt: row.updatedAt,
    updatedBy: row.updatedBy ?? row.createdBy,
    revision: row.revision,
  };
}

/** The column each field of a provider is read from, and how. */
const FIELD_READERS: { [Field in keyof Provider]: { column: keyof ProviderRow; read(row: ProviderRow): Provider[Field] } } = {
  id: { column: 'id', read: (row) => row.id },
  organizationId: { column: 'organizationId', read: (row) => row.organizationId },
  name: { column: 'name', read: (row) => row.name },
  modelProvider: { column: 'modelProvider', read: (row) => modelProviderFromSlug(row.modelProvider) },
  credentialId: { column: 'credentialId', read: (row) => row.credentialId },
  oauthPassthrough: { column: 'oauthPassthrough', read: (row) => row.oauthPassthrough },
  settings: { column: 'settings', read: (row) => row.settings as Record<string, unknown> },
  createdAt: { column: 'createdAt', read: (row) => row.createdAt },
  createdBy: { column: 'createdBy', read: (row) => row.createdBy },
  updatedAt: { column: 'updatedAt', read: (row) => row.updatedAt },
  // updatedBy falls back to createdBy: both columns.
  updatedBy: { column: 'updatedBy', read: (row) => row.updatedBy ?? row.createdBy },
  revision: { column: 'revision', read: (row) => row.revision },
};

/** Whether `name` is a field of Provider: one of FIELD_READERS, which names every field (a field added to Provider and not there fails to compile). */
export function isProviderField(name: string): name is keyof Provider {
  return Object.hasOwn(FIELD_READERS, name);
}

/** The columns a read needs for `fields`: theirs, and always the id, the organization and the credential. */
function columnsFor(fields: readonly (keyof Provider)[]): Prisma.ProviderSelect {
  const select: Prisma.ProviderSelect = { id: true, organizationId: true, credentialId: true };
  for (const field of fields) select[FIELD_READERS[field].column] = true;
  if (select.updatedBy) select.createdBy = true;
  return select;
}

/** A provider holding only `fields` (and its id, organization and credential), from a row that has their columns. */
function toSelectedProvider(row: ProviderRow, fields: readonly (keyof Provider)[]): SelectedProvider {
  const provider: Record<string, unknown> = { id: row.id, organizationId: row.organizationId, credentialId: row.credentialId };
  for (const field of fields) provider[field] = FIELD_READERS[field].read(row);
  return provider as SelectedProvider;
}

function duplicateName(name: string): ConflictError {
  return new ConflictError(`A provider named "${name}" already exists in this organization.`, { field: 'input.name' });
}

export class ProviderRepository {
  /**
   * `changes` hears of every committed update and delete, before the caller goes on. Every write
   * takes the audit entry that records it, appended to `audit` in the same transaction.
   */
  constructor(
    private readonly prisma: Database,
    private readonly changes: Pick<ChangeFeed, 'announce'> = NO_CHANGE_FEED,
    private readonly audit: AuditLog = new AuditLog(prisma),
  ) {}

  async insert(provider: NewProvider, audit: AuditEntry): Promise<Provider> {
    try {
      const row = await this.prisma.$transaction(async (tx) => {
        const created = await tx.provider.create({
          data: {
            id: provider.id,
            organizationId: provider.organizationId,
            name: provider.name,
            modelProvider: slugOf(provider.modelProvider),
            credentialId: provider.credentialId,
            oauthPassthrough: provider.oauthPassthrough,
            settings: provider.settings as Prisma.InputJsonObject,
            createdBy: provider.actor,
            updatedBy: provider.actor,
          },
        });
        await this.audit.append(tx, audit);
        return created;
      });
      return toProvider(row);
    } catch (error) {
      const constraint = violatedConstraint(error);
      if (constraint === 'unique') throw duplicateName(provider.name);
      // The credential was deleted between our check and this insert.
      if (constraint === 'foreign-key' && provider.credentialId) throw new NotFoundError('Credential', provider.credentialId);
      throw error;
    }
  }

  async findById(organizationId: string, id: string): Promise<Provider | null> {
    const row = await this.prisma.provider.findFirst({ where: { id, organizationId } });
    return row ? toProvider(row) : null;
  }

  async findByIds(organizationId: string, ids: readonly string[]): Promise<Provider[]> {
    const rows = await this.prisma.provider.findMany({ where: { organizationId, id: { in: [...ids] } } });
    return rows.map(toProvider);
  }

  /**
   * Every provider using any of these credentials, in insertion (seq) order. With `fields`, only
   * their columns are read and each provider holds only those fields (and its id, organization and
   * credential).
   */
  findByCredentialIds(organizationId: string, credentialIds: readonly string[]): Promise<Provider[]>;
  findByCredentialIds(
    organizationId: string,
    credentialIds: readonly string[],
    fields: readonly (keyof Provider)[],
  ): Promise<SelectedProvider[]>;
  async findByCredentialIds(
    organizationId: string,
    credentialIds: readonly string[],
    fields?: readonly (keyof Provider)[],
  ): Promise<SelectedProvider[]> {
    const query = { where: { organizationId, credentialId: { in: [...credentialIds] } }, orderBy: SEQUENCE_ORDER };
    if (fields === undefined) return (await this.prisma.provider.findMany(query)).map(toProvider);
    // The rows hold the selected columns only; toSelectedProvider reads no other.
    const rows = (await this.prisma.provider.findMany({ ...query, select: columnsFor(fields) })) as ProviderRow[];
    return rows.map((row) => toSelectedProvider(row, fields));
  }

  async page(organizationId: string, options: { first: number; after?: PageCursor }): Promise<Page<Provider>> {
    const rows = await this.prisma.provider.findMany({
      where: { organizationId, ...keysetAfter(options.after) },
      orderBy: SEQUENCE_ORDER,
      take: options.first + 1,
    });
    return pageOf(rows, options.first, toProvider);
  }

  async count(organizationId: string): Promise<number> {
    return this.prisma.provider.count({ where: { organizationId } });
  }

  /**
   * Applies changes only if the row is still at `expectedRevision` (compare-and-set), and moves
   * it to the next revision. Returns null when the row is gone or was written in between.
   */
  async update(
    organizationId: string,
    id: string,
    expectedRevision: number,
    changes: ProviderChanges,
    audit: AuditEntry,
  ): Promise<Provider | null> {
    try {
      const row = await this.prisma.$transaction(async (tx) => {
        const updated = await tx.provider.update({
          where: { id, organizationId, revision: expectedRevision },
          data: {
            ...(changes.name !== undefined ? { name: changes.name } : {}),
            ...(changes.settings !== undefined ? { settings: changes.settings as Prisma.InputJsonObject } : {}),
            ...(changes.backing ?? {}),
            revision: expectedRevision + 1,
            updatedAt: new Date(),
            updatedBy: changes.actor,
          },
        });
        await this.audit.append(tx, audit);
        return updated;
      });
      this.changes.announce('providers', id);
      return toProvider(row);
    } catch (error) {
      const constraint = violatedConstraint(error);
      if (constraint === 'unique') throw duplicateName(changes.name ?? '');
      // The new credential was deleted between the service's check and this write.
      const credentialId = changes.backing?.credentialId;
      if (constraint === 'foreign-key' && credentialId) throw new NotFoundError('Credential', credentialId);
      if (constraint === 'record-not-found') return null;
      throw error;
    }
  }

  async delete(organizationId: string, id: string, audit: AuditEntry): Promise<boolean> {
    const deleted = await this.prisma.$transaction(async (tx) => {
      const { count } = await tx.provider.deleteMany({ where: { id, organizationId } });
      if (count === 1) await this.audit.append(tx, audit);
      return count === 1;
    });
    if (deleted) this.changes.announce('providers', id);
    return deleted;
  }
}
