// SQL for providers (routes), through Prisma. Prisma errors become AppErrors.
import { modelProviderFromSlug, slugOf } from '../catalog/model-provider-catalog';
import { type ChangeFeed, NO_CHANGE_FEED } from '../db/change-feed';
import type { Database } from '../db/database';
import { violatedConstraint } from '../db/prisma-errors';
import { ConflictError, NotFoundError } from '../errors/app-error';
import type { Prisma } from '../generated/prisma/client';
import { keysetAfter, type Page, pageOf } from '../pagination/connection';
import type { PageCursor } from '../pagination/page-cursor';
import type { Provider } from './provider.model';

type ProviderRow = Awaited<ReturnType<Database['provider']['findFirstOrThrow']>>;

/** A provider to insert, and who adds it. */
export type NewProvider = Omit<Provider, 'createdAt' | 'createdBy'> & { actor: string };

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
  };
}

export class ProviderRepository {
  /** `changes` hears of every committed update and delete, before the caller goes on. */
  constructor(
    private readonly prisma: Database,
    private readonly changes: Pick<ChangeFeed, 'announce'> = NO_CHANGE_FEED,
  ) {}

  async insert(provider: NewProvider): Promise<Provider> {
    try {
      const row = await this.prisma.provider.create({
        data: {
          id: provider.id,
          organizationId: provider.organizationId,
          name: provider.name,
          modelProvider: slugOf(provider.modelProvider),
          credentialId: provider.credentialId,
          oauthPassthrough: provider.oauthPassthrough,
          settings: provider.settings as Prisma.InputJsonObject,
          createdBy: provider.actor,
        },
      });
      return toProvider(row);
    } catch (error) {
      const constraint = violatedConstraint(error);
      if (constraint === 'unique') {
        throw new ConflictError(`A provider named "${provider.name}" already exists in this organization.`, { field: 'input.name' });
      }
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

  /** Every provider using any of these credentials, in (createdAt, id) order. */
  async findByCredentialIds(organizationId: string, credentialIds: readonly string[]): Promise<Provider[]> {
    const rows = await this.prisma.provider.findMany({
      where: { organizationId, credentialId: { in: [...credentialIds] } },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
    return rows.map(toProvider);
  }

  async page(organizationId: string, options: { first: number; after?: PageCursor }): Promise<Page<Provider>> {
    const rows = await this.prisma.provider.findMany({
      where: { organizationId, ...keysetAfter(options.after) },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      take: options.first + 1,
    });
    return pageOf(rows.map(toProvider), options.first);
  }

  async count(organizationId: string): Promise<number> {
    return this.prisma.provider.count({ where: { organizationId } });
  }

  async delete(organizationId: string, id: string): Promise<boolean> {
    const { count } = await this.prisma.provider.deleteMany({ where: { id, organizationId } });
    if (count === 1) this.changes.announce('providers', id);
    return count === 1;
  }
}
