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
import type { AuthParameters, Credential, SelectedCredential } from './credential.model';

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

/** Which page of an organization's credentials: `first` after the cursor, of one model provider or all. */
export interface PageOptions {
  first: number;
  after?: PageCursor;
  modelProvider?: ModelProvider;
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

/** The column each field of a credential is read from, and how. */
const FIELD_READERS: { [Field in keyof Credential]: { column: keyof CredentialRow; read(row: CredentialRow): Credential[Field] } } = {
  id: { column: 'id', read: (row) => row.id },
  organizationId: { column: 'organizationId', read: (row) => row.organizationId },
  name: { column: 'name', read: (row) => row.name },
  modelProvider: { column: 'modelProvider', read: (row) => modelProviderFromSlug(row.modelProvider) },
  authType: { column: 'authType', read: (row) => row.authType },
  baseUrl: { column: 'baseUrl', read: (row) => row.baseUrl },
  settings: { column: 'settings', read: (row) => row.settings as Record<string, unknown> },
  authParameters: { column: 'authParameters', read: (row) => authParametersOf(row.authParameters) },
  keyLast4: { column: 'keyLast4', read: (row) => row.keyLast4 },
  storesKeyMaterial: { column: 'storesKeyMaterial', read: (row) => row.storesKeyMaterial },
  secretVersion: { column: 'secretVersion', read: (row) => row.secretVersion },
  secretRotatedAt: { column: 'secretRotatedAt', read: (row) => row.secretRotatedAt },
  createdAt: { column: 'createdAt', read: (row) => row.createdAt },
  updatedAt: { column: 'updatedAt', read: (row) => row.updatedAt },
  createdBy: { column: 'createdBy', read: (row) => row.createdBy },
  updatedBy: { column: 'updatedBy', read: (row) => row.updatedBy },
  lastChangeNote: { column: 'changeNote', read: (row) => row.changeNote },
  revision: { column: 'revision', read: (row) => row.revision },
  lastUsedAt: { column: 'lastUsedAt', read: (row) => row.lastUsedAt },
};

/** Whether `name` is a field of Credential: one of FIELD_READERS, which names every field (a field added to Credential and not there fails to compile). */
export function isCredentialField(name: string): name is keyof Credential {
  return Object.hasOwn(FIELD_READERS, name);
}

/** The columns a page needs for `fields`: theirs, and always the id, the organization and the cursor's seq. */
function columnsFor(fields: readonly (keyof Credential)[]): Prisma.CredentialSelect {
  const select: Prisma.CredentialSelect = { id: true, organizationId: true, seq: true };
  for (const field of fields) select[FIELD_READERS[field].column] = true;
  return select;
}

/** A credential holding only `fields` (and its id and organization), from a row that has their columns. */
function toSelectedCredential(row: CredentialRow, fields: readonly (keyof Credential)[]): SelectedCredential {
  const credential: Record<string, unknown> = { id: row.id, organizationId: row.organizationId };
  for (const field of fields) credential[field] = FIELD_READERS[field].read(row);
  return credential as SelectedCredential;
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

  /**
   * A page in insertion (seq) order, which is stable under inserts: a newcomer comes last. With
   * `fields`, only their columns are read and each node holds only those fields (and its id and
   * organization): a list shows a few fields of many rows, and every column read costs on every row.
   */
  page(organizationId: string, options: PageOptions): Promise<Page<Credential>>;
  page(organizationId: string, options: PageOptions & { fields: readonly (keyof Credential)[] }): Promise<Page<SelectedCredential>>;
  async page(organizationId: string, options: PageOptions & { fields?: readonly (keyof Credential)[] }): Promise<Page<SelectedCredential>> {
    const where: Prisma.CredentialWhereInput = {
      organizationId,
      ...(options.modelProvider ? { modelProvider: slugOf(options.modelProvider) } : {}),
      ...keysetAfter(options.after),
    };
    const window = { where, orderBy: SEQUENCE_ORDER, take: options.first + 1 };
    const fields = options.fields;
    if (fields === undefined) return pageOf(await this.prisma.credential.findMany(window), options.first, toCredential);
    // The row holds the selected columns only; toSelectedCredential reads no other.
    const rows = (await this.prisma.credential.findMany({ ...window, select: columnsFor(fields) })) as CredentialRow[];
    return pageOf(rows, options.first, (row) => toSelectedCredential(row, fields));
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
