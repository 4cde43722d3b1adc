// SQL for credentials, through Prisma. Reads never select the sealed columns (the client omits
// them); writes store the sealed secret the service hands over. Prisma errors become AppErrors.
import { type AuthType, modelProviderFromSlug, slugOf, type ModelProvider } from '../catalog/model-provider-catalog';
import { keysetAfter, type Page, pageOf, SEQUENCE_ORDER } from '../pagination/connection';
import type { PageCursor } from '../pagination/page-cursor';
import { type AuditEntry, AuditLog } from '../audit/audit-log';
import { type ChangeFeed, NO_CHANGE_FEED } from '../db/change-feed';
import type { Database } from '../db/database';
import { violatedConstraint } from '../db/prisma-errors';
import { ConflictError } from '../errors/app-error';
import type { Prisma } from '../generated/prisma/client';
import type { SealedSecret } from '../secrets/envelope';
import { sealedColumns } from '../secrets/sealed-columns';
import type { AuthParameters, Credential } from './credential.model';

type CredentialRow = Awaited<ReturnType<Database['credential']['findFirstOrThrow']>>;

/** A credential to insert: its metadata, the sealed secret (null: no key material) and who adds it. */
export type NewCredential = Pick<
  Credential,
  'id' | 'organizationId' | 'name' | 'modelProvider' | 'authType' | 'baseUrl' | 'settings' | 'authParameters' | 'keyLast4'
> & { sealed: SealedSecret | null; actor: string; changeNote: string | null };

/** A provider that still uses a credential, named for the error that refuses the delete. */
export interface ProviderInUse {
  id: string;
  name: string;
}

export interface DeleteOutcome {
  deleted: boolean;
  /** Providers that still use the credential, oldest first; any means it was kept. */
  providersInUse: ProviderInUse[];
}

export interface CredentialChanges {
  name?: string;
  baseUrl?: string;
  settings?: Record<string, unknown>;
  /** A rotation: the new auth and its sealed secret, stored as `secretVersion`. */
  rotation?: {
    authType: AuthType;
    authParameters: AuthParameters;
    keyLast4: string | null;
    sealed: SealedSecret | null;
    secretVersion: number;
    rotatedAt: Date;
  };
  /** Replaces the stored note; null clears it (every write carries its own note or none). */
  changeNote: string | null;
  actor: string;
}

/** The stored JSON's known parameters; anything else in it is ignored. */
function authParametersOf(json: unknown): AuthParameters {
  const stored = typeof json === 'object' && json !== null ? (json as Record<string, unknown>) : {};
  const parameters: AuthParameters = {};
  if (typeof stored.quotaProjectId === 'string') parameters.quotaProjectId = stored.quotaProjectId;
  if (typeof stored.generatedExternalId === 'string') parameters.generatedExternalId = stored.generatedExternalId;
  return parameters;
}

function toCredential(row: CredentialRow): Credential {
  return {
    id: row.id,
    organizationId: row.organizationId,
    name: row.name,
    modelProvider: modelProviderFromSlug(row.modelProvider),
    authType: row.authType,
    baseUrl: row.baseUrl,
    settings: row.settings as Record<string, unknown>,
    authParameters: authParametersOf(row.authParameters),
    keyLast4: row.keyLast4,
    storesKeyMaterial: row.storesKeyMaterial,
    secretVersion: row.secretVersion,
    secretRotatedAt: row.secretRotatedAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    createdBy: row.createdBy,
    updatedBy: row.updatedBy,
    lastChangeNote: row.changeNote,
    revision: row.revision,
    lastUsedAt: row.lastUsedAt,
  };
}

function duplicateName(name: string): ConflictError {
  return new ConflictError(`A credential named "${name}" already exists in this organization.`, { field: 'input.name' });
}

export class CredentialRepository {
  /**
   * `changes` hears of every committed update and delete, before the caller goes on. Every write
   * takes the audit entry that records it, appended to `audit` in the same transaction.
   */
  constructor(
    private readonly prisma: Database,
    private readonly changes: Pick<ChangeFeed, 'announce'> = NO_CHANGE_FEED,
    private readonly audit: AuditLog = new AuditLog(prisma),
  ) {}

  async insert(credential: NewCredential, audit: AuditEntry): Promise<Credential> {
    try {
      const row = await this.prisma.$transaction(async (tx) => {
        const created = await tx.credential.create({
          data: {
            id: credential.id,
            organizationId: credential.organizationId,
            name: credential.name,
            modelProvider: slugOf(credential.modelProvider),
            authType: credential.authType,
            baseUrl: credential.baseUrl,
            settings: credential.settings as Prisma.InputJsonObject,
            authParameters: credential.authParameters as Prisma.InputJsonObject,
            keyLast4: credential.keyLast4,
            storesKeyMaterial: credential.sealed !== null,
            secretVersion: 1,
            createdBy: credential.actor,
            updatedBy: credential.actor,
            changeNote: credential.changeNote,
            ...sealedColumns(credential.sealed),
          },
        });
        await this.audit.append(tx, audit);
        return created;
      });
      return toCredential(row);
    } catch (error) {
      if (violatedConstraint(error) === 'unique') throw duplicateName(credential.name);
      throw error;
    }
  }

  async findById(organizationId: string, id: string): Promise<Credential | null> {
    const row = await this.prisma.credential.findFirst({ where: { id, organizationId } });
    return row ? toCredential(row) : null;
  }

  /** For DataLoaders: the organization's credentials among `ids`, in no particular order. */
  async findByIds(organizationId: string, ids: readonly string[]): Promise<Credential[]> {
    const rows = await this.prisma.credential.findMany({ where: { organizationId, id: { in: [...ids] } } });
    return rows.map(toCredential);
  }

  /** A page in insertion (seq) order, which is stable under inserts: a newcomer comes last. */
  async page(
    organizationId: string,
    options: { first: number; after?: PageCursor; modelProvider?: ModelProvider },
  ): Promise<Page<Credential>> {
    const where: Prisma.CredentialWhereInput = {
      organizationId,
      ...(options.modelProvider ? { modelProvider: slugOf(options.modelProvider) } : {}),
      ...keysetAfter(options.after),
    };
    const rows = await this.prisma.credential.findMany({ where, orderBy: SEQUENCE_ORDER, take: options.first + 1 });
    return pageOf(rows, options.first, toCredential);
  }

  async count(organizationId: string, modelProvider?: ModelProvider): Promise<number> {
    return this.prisma.credential.count({
      where: { organizationId, ...(modelProvider ? { modelProvider: slugOf(modelProvider) } : {}) },
    });
  }

  /**
   * Applies changes only if the row is still at `expectedRevision` (compare-and-set), and moves
   * it to the next revision. Returns null when the row is gone or was written in between.
   */
  async update(
    organizationId: string,
    id: string,
    expectedRevision: number,
    changes: CredentialChanges,
    audit: AuditEntry,
  ): Promise<Credential | null> {
    const rotation = changes.rotation;
    try {
      const row = await this.prisma.$transaction(async (tx) => {
        const updated = await tx.credential.update({
          where: { id, organizationId, revision: expectedRevision },
          data: {
            ...(changes.name !== undefined ? { name: changes.name } : {}),
            ...(changes.baseUrl !== undefined ? { baseUrl: changes.baseUrl } : {}),
            ...(changes.settings !== undefined ? { settings: changes.settings as Prisma.InputJsonObject } : {}),
            ...(rotation
              ? {
                  authType: rotation.authType,
                  authParameters: rotation.authParameters as Prisma.InputJsonObject,
                  keyLast4: rotation.keyLast4,
                  storesKeyMaterial: rotation.sealed !== null,
                  secretVersion: rotation.secretVersion,
                  secretRotatedAt: rotation.rotatedAt,
                  ...sealedColumns(rotation.sealed),
                }
              : {}),
            changeNote: changes.changeNote,
            revision: expectedRevision + 1,
            updatedAt: new Date(),
            updatedBy: changes.actor,
          },
        });
        await this.audit.append(tx, audit);
        return updated;
      });
      this.changes.announce('credentials', id);
      return toCredential(row);
    } catch (error) {
      const constraint = violatedConstraint(error);
      if (constraint === 'unique') throw duplicateName(changes.name ?? '');
      if (constraint === 'record-not-found') return null;
      throw error;
    }
  }

  /**
   * Records resolves by the runtime route: lastUsedAt and their audit event, together. Not a write
   * of the credential (no revision, no updatedAt); nothing is recorded for a credential gone since.
   */
  async touchLastUsed(organizationId: string, id: string, at: Date, audit: AuditEntry): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      const { count } = await tx.credential.updateMany({
        where: { id, organizationId, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: at } }] },
        data: { lastUsedAt: at },
      });
      // Another replica may have written a later time already: its resolves and these are both recorded.
      const exists = count === 1 || (await tx.credential.count({ where: { id, organizationId } })) === 1;
      if (exists) await this.audit.append(tx, audit);
    });
  }

  /**
   * Deletes a credential no provider uses. The row is locked first, so a provider created
   * concurrently either commits before the count (and is counted) or fails its foreign key.
   */
  async delete(organizationId: string, id: string, audit: AuditEntry): Promise<DeleteOutcome> {
    try {
      const outcome = await this.prisma.$transaction(async (tx): Promise<DeleteOutcome> => {
        const locked = await tx.$queryRaw<{ id: string }[]>`
          SELECT id FROM credentials WHERE id = ${id}::uuid AND organization_id = ${organizationId}::uuid FOR UPDATE`;
        if (locked.length === 0) return { deleted: false, providersInUse: [] };
        const providersInUse = await providersUsing(tx, organizationId, id);
        if (providersInUse.length > 0) return { deleted: false, providersInUse };
        await tx.credential.delete({ where: { id } });
        await this.audit.append(tx, audit);
        return { deleted: true, providersInUse: [] };
      });
      if (outcome.deleted) this.changes.announce('credentials', id);
      return outcome;
    } catch (error) {
      // The foreign key is the last word should anything slip past the check.
      if (violatedConstraint(error) === 'foreign-key') {
        return { deleted: false, providersInUse: await providersUsing(this.prisma, organizationId, id) };
      }
      throw error;
    }
  }
}

async function providersUsing(prisma: Pick<Database, 'provider'>, organizationId: string, credentialId: string): Promise<ProviderInUse[]> {
  return prisma.provider.findMany({
    where: { organizationId, credentialId },
    select: { id: true, name: true },
    orderBy: SEQUENCE_ORDER,
  });
}
