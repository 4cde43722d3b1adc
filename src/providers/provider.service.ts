// Provider (route) use cases: a route uses one credential of the caller's organization, or,
// for Anthropic only, passes the caller's OAuth token through. Owns authorization and audit.
import { randomUUID } from 'node:crypto';
import { acceptsOauthPassthrough, credentialCanBack, type ModelProvider } from '../catalog/model-provider-catalog';
import { type Principal, requireReader, requireWriter } from '../auth/principal';
import type { CredentialRepository } from '../credentials/credential.repository';
import { BadUserInputError, NotFoundError } from '../errors/app-error';
import { checkName, checkSettings } from '../fields/field-checks';
import { loadGroupsInKeyOrder, loadInKeyOrder } from '../ids/load-in-key-order';
import { requireUuid } from '../ids/uuid';
import type { Logger } from '../logging/logger';
import { type Connection, loadConnection } from '../pagination/connection';
import type { Provider } from './provider.model';
import type { ProviderRepository } from './provider.repository';

/** What createProvider asks for, as the service receives it from any door (GraphQL, REST). */
export interface CreateProviderRequest {
  name: string;
  modelProvider: ModelProvider;
  credentialId?: string | null;
  oauthPassthrough?: boolean | null;
  settings?: Record<string, unknown> | null;
}

/** What the service uses, and only that. */
export interface ProviderServiceDependencies {
  providers: Pick<ProviderRepository, 'findById' | 'findByIds' | 'findByCredentialIds' | 'page' | 'count' | 'insert' | 'delete'>;
  credentials: Pick<CredentialRepository, 'findById'>;
  audit: Logger;
}

export class ProviderService {
  private readonly providers: ProviderServiceDependencies['providers'];
  private readonly credentials: ProviderServiceDependencies['credentials'];
  private readonly audit: Logger;

  constructor(dependencies: ProviderServiceDependencies) {
    this.providers = dependencies.providers;
    this.credentials = dependencies.credentials;
    this.audit = dependencies.audit;
  }

  async get(principal: Principal, id: string): Promise<Provider> {
    requireReader(principal);
    requireUuid('id', id);
    const provider = await this.providers.findById(principal.orgId, id);
    if (!provider) throw new NotFoundError('Provider', id);
    return provider;
  }

  /** For DataLoaders: the caller's providers in key order, null for misses and foreign ids. */
  async getMany(principal: Principal, ids: readonly string[]): Promise<(Provider | null)[]> {
    requireReader(principal);
    return loadInKeyOrder(ids, (valid) => this.providers.findByIds(principal.orgId, valid));
  }

  /** For DataLoaders: the providers using each credential, in key order. */
  async usingCredentials(principal: Principal, credentialIds: readonly string[]): Promise<Provider[][]> {
    requireReader(principal);
    return loadGroupsInKeyOrder(
      credentialIds,
      (valid) => this.providers.findByCredentialIds(principal.orgId, valid),
      (provider) => provider.credentialId,
    );
  }

  async list(principal: Principal, args: { first?: number | null; after?: string | null }): Promise<Connection<Provider>> {
    requireReader(principal);
    return loadConnection(
      args,
      (window) => this.providers.page(principal.orgId, window),
      () => this.providers.count(principal.orgId),
    );
  }

  async create(principal: Principal, input: CreateProviderRequest): Promise<Provider> {
    requireWriter(principal);
    const name = checkName('input.name', input.name);
    const settings = input.settings === undefined || input.settings === null ? {} : checkSettings('input.settings', input.settings);
    const passthrough = input.oauthPassthrough === true;
    const credentialId = input.credentialId ?? null;
    if (passthrough === (credentialId !== null)) {
      throw new BadUserInputError(
        credentialId === null ? 'input.credentialId' : 'input.oauthPassthrough',
        'Give exactly one of credentialId or oauthPassthrough: true.',
      );
    }
    if (passthrough && !acceptsOauthPassthrough(input.modelProvider)) {
      throw new BadUserInputError(
        'input.oauthPassthrough',
        `OAuth passthrough is only available for ANTHROPIC, not ${input.modelProvider}.`,
      );
    }
    if (credentialId !== null) {
      requireUuid('input.credentialId', credentialId);
      const credential = await this.credentials.findById(principal.orgId, credentialId);
      if (!credential) throw new NotFoundError('Credential', credentialId);
      if (!credentialCanBack(credential.modelProvider, input.modelProvider)) {
        throw new BadUserInputError(
          'input.credentialId',
          `A ${credential.modelProvider} credential cannot back a ${input.modelProvider} provider; use a credential of the same model provider (or a CUSTOM credential for an OpenAI-compatible provider).`,
        );
      }
    }
    const provider = await this.providers.insert({
      id: randomUUID(),
      organizationId: principal.orgId,
      name,
      modelProvider: input.modelProvider,
      credentialId: credentialId?.toLowerCase() ?? null,
      oauthPassthrough: passthrough,
      settings,
      actor: principal.userId,
    });
    this.audit.info(
      {
        event: 'provider.created',
        orgId: principal.orgId,
        actor: principal.userId,
        providerId: provider.id,
        credentialId: provider.credentialId,
      },
      'provider created',
    );
    return provider;
  }

  async delete(principal: Principal, id: string): Promise<string> {
    requireWriter(principal);
    requireUuid('id', id);
    if (!(await this.providers.delete(principal.orgId, id))) throw new NotFoundError('Provider', id);
    this.audit.info({ event: 'provider.deleted', orgId: principal.orgId, actor: principal.userId, providerId: id }, 'provider deleted');
    return id;
  }
}
