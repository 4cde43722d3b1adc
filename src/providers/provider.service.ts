// Provider (route) use cases: a route uses one credential of the caller's organization, or,
// for Anthropic only, passes the caller's OAuth token through. Owns authorization and audit.
import { randomUUID } from 'node:crypto';
import { acceptsOauthPassthrough, credentialCanBack, type ModelProvider } from '../catalog/model-provider-catalog';
import { capitalizedIndefiniteArticle, indefiniteArticle } from '../catalog/model-provider-article';
import type { AuditEntry } from '../audit/audit-log';
import { type Principal, requireReader, requireWriter } from '../auth/principal';
import type { CredentialRepository } from '../credentials/credential.repository';
import { BadUserInputError, ConflictError, NotFoundError, StaleRevisionError } from '../errors/app-error';
import { checkName, checkSettings } from '../fields/field-checks';
import { loadGroupsInKeyOrder, loadInKeyOrder } from '../ids/load-in-key-order';
import { requireUuid } from '../ids/uuid';
import type { Logger } from '../logging/logger';
import { type Connection, loadConnection } from '../pagination/connection';
import type { Provider, SelectedProvider } from './provider.model';
import type { ProviderChanges, ProviderRepository } from './provider.repository';

/** What createProvider asks for, as the service receives it from any door (GraphQL, REST). */
export interface CreateProviderRequest {
  name: string;
  modelProvider: ModelProvider;
  credentialId?: string | null;
  oauthPassthrough?: boolean | null;
  settings?: Record<string, unknown> | null;
}

/**
 * What updateProvider asks for: a field given replaces the stored value. credentialId repoints the
 * route to that credential; oauthPassthrough: true turns it into OAuth passthrough (ANTHROPIC only).
 */
export interface UpdateProviderRequest {
  name?: string | null;
  settings?: Record<string, unknown> | null;
  credentialId?: string | null;
  oauthPassthrough?: boolean | null;
  /** Compare-and-set on the write (REST's If-Match): CONFLICT (StaleRevisionError) when the row moved on. */
  expectedRevision?: number | null;
  /** `settings` is merged over the stored settings instead of replacing them (REST's PUT). */
  mergeSettings?: boolean;
}

/** What the service uses, and only that. */
export interface ProviderServiceDependencies {
  providers: Pick<ProviderRepository, 'findById' | 'findByIds' | 'findByCredentialIds' | 'page' | 'count' | 'insert' | 'update' | 'delete'>;
  credentials: Pick<CredentialRepository, 'findById'>;
  audit: Logger;
}

/**
 * How often an update without an expected revision reads again and retries when a concurrent
 * write lands between its read and its write; after that it is a CONFLICT, never a lost update.
 */
const UPDATE_ATTEMPTS = 3;

const EXACTLY_ONE_BACKING = 'Give exactly one of credentialId or oauthPassthrough: true.';

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

  /**
   * For DataLoaders: the providers using each credential, in key order; with `fields`, each holds
   * only those (and its id, organization and credential).
   */
  async usingCredentials(
    principal: Principal,
    credentialIds: readonly string[],
    fields?: readonly (keyof Provider)[],
  ): Promise<SelectedProvider[][]> {
    requireReader(principal);
    return loadGroupsInKeyOrder(
      credentialIds,
      (valid) =>
        fields === undefined
          ? this.providers.findByCredentialIds(principal.orgId, valid)
          : this.providers.findByCredentialIds(principal.orgId, valid, fields),
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
      throw new BadUserInputError(credentialId === null ? 'input.credentialId' : 'input.oauthPassthrough', EXACTLY_ONE_BACKING);
    }
    if (passthrough) this.requirePassthroughFor(input.modelProvider);
    if (credentialId !== null) {
      requireUuid('input.credentialId', credentialId);
      await this.requireCredentialFor(principal, credentialId, input.modelProvider);
    }
    const id = randomUUID();
    const backingId = credentialId?.toLowerCase() ?? null;
    const provider = await this.providers.insert(
      {
        id,
        organizationId: principal.orgId,
        name,
        modelProvider: input.modelProvider,
        credentialId: backingId,
        oauthPassthrough: passthrough,
        settings,
        actor: principal.userId,
      },
      providerEntry(principal, 'provider.created', id, {
        changedFields: ['credentialId', 'modelProvider', 'name', 'oauthPassthrough', 'settings'],
        details: { name, modelProvider: input.modelProvider, credentialId: backingId, oauthPassthrough: passthrough, settings },
      }),
    );
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

  /**
   * Renames, resettles or repoints a provider, with the checks of create. The write is a
   * compare-and-set on the row's revision: a concurrent write in between makes it read again and
   * apply the request on top (or, with expectedRevision, refuses it), so no update is lost.
   */
  async update(principal: Principal, id: string, input: UpdateProviderRequest): Promise<Provider> {
    requireWriter(principal);
    requireUuid('id', id);
    for (const field of ['name', 'settings'] as const) {
      if (input[field] === null) {
        throw new BadUserInputError(`input.${field}`, `${field} cannot be null; omit it to keep the stored value.`);
      }
    }
    const name = input.name === undefined || input.name === null ? undefined : checkName('input.name', input.name);
    const settings = input.settings === undefined || input.settings === null ? undefined : checkSettings('input.settings', input.settings);
    if (typeof input.credentialId === 'string') {
      if (input.oauthPassthrough === true) throw new BadUserInputError('input.oauthPassthrough', EXACTLY_ONE_BACKING);
      requireUuid('input.credentialId', input.credentialId);
    }
    const expectedRevision = input.expectedRevision ?? null;

    for (let attempt = 1; ; attempt += 1) {
      const current = await this.providers.findById(principal.orgId, id);
      if (!current) throw new NotFoundError('Provider', id);
      if (expectedRevision !== null && expectedRevision !== current.revision) throw new StaleRevisionError('provider');
      const changes: ProviderChanges = { actor: principal.userId };
      if (name !== undefined) changes.name = name;
      if (settings !== undefined) {
        changes.settings = input.mergeSettings ? checkSettings('input.settings', { ...current.settings, ...settings }) : settings;
      }
      const backing = await this.backingFor(principal, current, input);
      if (backing) changes.backing = backing;
      const updated = await this.providers.update(principal.orgId, id, current.revision, changes, updateEntry(principal, current, changes));
      if (updated) {
        this.audit.info(
          {
            event: 'provider.updated',
            orgId: principal.orgId,
            actor: principal.userId,
            providerId: id,
            credentialId: updated.credentialId,
            changedFields: Object.keys(changes).filter((field) => field !== 'actor'),
          },
          'provider updated',
        );
        return updated;
      }
      // Written or deleted between our read and write: the next read says which.
      if (expectedRevision !== null) {
        if (!(await this.providers.findById(principal.orgId, id))) throw new NotFoundError('Provider', id);
        throw new StaleRevisionError('provider');
      }
      if (attempt >= UPDATE_ATTEMPTS) throw new ConflictError('The provider changed concurrently; retry the update.');
    }
  }

  async delete(principal: Principal, id: string): Promise<string> {
    requireWriter(principal);
    requireUuid('id', id);
    if (!(await this.providers.delete(principal.orgId, id, providerEntry(principal, 'provider.deleted', id, {})))) {
      throw new NotFoundError('Provider', id);
    }
    this.audit.info({ event: 'provider.deleted', orgId: principal.orgId, actor: principal.userId, providerId: id }, 'provider deleted');
    return id;
  }

  /**
   * What backs the provider after an update, when the update changes it: the credential it names
   * (checked as at create), or OAuth passthrough. A null credentialId or a false oauthPassthrough
   * alone may only repeat what holds already: a provider is never left with neither.
   */
  private async backingFor(principal: Principal, current: Provider, input: UpdateProviderRequest): Promise<ProviderChanges['backing']> {
    if (typeof input.credentialId === 'string') {
      await this.requireCredentialFor(principal, input.credentialId, current.modelProvider);
      return { credentialId: input.credentialId.toLowerCase(), oauthPassthrough: false };
    }
    if (input.oauthPassthrough === true) {
      this.requirePassthroughFor(current.modelProvider);
      return { credentialId: null, oauthPassthrough: true };
    }
    const dropsCredential = input.credentialId === null && current.credentialId !== null;
    const dropsPassthrough = input.oauthPassthrough === false && current.oauthPassthrough;
    if (dropsCredential || dropsPassthrough) throw new BadUserInputError('input.credentialId', EXACTLY_ONE_BACKING);
    return undefined;
  }

  /** The credential exists in the caller's organization and may back a provider of this model provider. */
  private async requireCredentialFor(principal: Principal, credentialId: string, modelProvider: ModelProvider): Promise<void> {
    const credential = await this.credentials.findById(principal.orgId, credentialId);
    if (!credential) throw new NotFoundError('Credential', credentialId);
    if (!credentialCanBack(credential.modelProvider, modelProvider)) {
      throw new BadUserInputError(
        'input.credentialId',
        `${capitalizedIndefiniteArticle(credential.modelProvider)} ${credential.modelProvider} credential cannot back ` +
          `${indefiniteArticle(modelProvider)} ${modelProvider} provider; use a credential of the same model provider (or a CUSTOM credential for an OpenAI-compatible provider).`,
      );
    }
  }

  private requirePassthroughFor(modelProvider: ModelProvider): void {
    if (!acceptsOauthPassthrough(modelProvider)) {
      throw new BadUserInputError('input.oauthPassthrough', `OAuth passthrough is only available for ANTHROPIC, not ${modelProvider}.`);
    }
  }
}

/** The audit entry of a write to a provider by `principal`. */
function providerEntry(
  principal: Principal,
  action: 'provider.created' | 'provider.updated' | 'provider.deleted',
  providerId: string,
  extras: Pick<AuditEntry, 'changedFields' | 'details'>,
): AuditEntry {
  return {
    organizationId: principal.orgId,
    actor: principal.userId,
    action,
    targetType: 'provider',
    targetId: providerId,
    origin: principal.origin ?? null,
    ...extras,
  };
}

/** An update's entry: the fields it changes, with old and new values (nothing about a provider is secret). */
function updateEntry(principal: Principal, current: Provider, changes: ProviderChanges): AuditEntry {
  const changedFields: string[] = [];
  const details: Record<string, unknown> = {};
  const note = (field: string, from: unknown, to: unknown) => {
    if (JSON.stringify(from) === JSON.stringify(to)) return;
    changedFields.push(field);
    details[field] = { from, to };
  };
  if (changes.name !== undefined) note('name', current.name, changes.name);
  if (changes.settings !== undefined) note('settings', current.settings, changes.settings);
  if (changes.backing) {
    note('credentialId', current.credentialId, changes.backing.credentialId);
    note('oauthPassthrough', current.oauthPassthrough, changes.backing.oauthPassthrough);
  }
  return providerEntry(principal, 'provider.updated', current.id, { changedFields, details });
}
