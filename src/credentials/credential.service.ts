// Credential use cases. Owns authorization (every query is scoped to the caller's organization),
// input checks, sealing of secrets and the audit trail. Knows nothing of GraphQL or SQL.
import { randomUUID } from 'node:crypto';
import { acceptsAuthType, defaultAuthType, type ModelProvider, modelProviderEntry } from '../catalog/model-provider-catalog';
import { loadInKeyOrder } from '../ids/load-in-key-order';
import { requireUuid } from '../ids/uuid';
import { type Principal, requireReader, requireWriter } from '../auth/principal';
import { BadUserInputError, ConflictError, NotFoundError } from '../errors/app-error';
import { checkBaseUrl, checkName, checkSettings } from '../fields/field-checks';
import type { Logger } from '../logging/logger';
import { type Connection, loadConnection } from '../pagination/connection';
import type { SealedSecret } from '../secrets/envelope';
import type { SecretStore } from '../secrets/secret-store';
import {
  AUTH_MEMBER_TYPES,
  type AuthRequest,
  chosenMember,
  OAUTH_PASSTHROUGH_MESSAGE,
  resolveAuth,
  type ResolvedAuth,
} from './credential-auth';
import { checkUrlParameter, hasDefaultBaseUrl, resolveDefaultBaseUrl } from './credential-base-url';
import type { Credential } from './credential.model';
import type { CredentialChanges, CredentialRepository } from './credential.repository';

/** What createCredential asks for, as the service receives it from any door (GraphQL, REST). */
export interface CreateCredentialRequest {
  name: string;
  modelProvider: ModelProvider;
  auth?: AuthRequest | null;
  baseUrl?: string | null;
  settings?: Record<string, unknown> | null;
}

/** What updateCredential asks for: a field given replaces the stored value; auth rotates the secret. */
export interface UpdateCredentialRequest {
  name?: string | null;
  baseUrl?: string | null;
  settings?: Record<string, unknown> | null;
  auth?: AuthRequest | null;
  expectedSecretVersion?: number | null;
}

export interface CredentialListArgs {
  first?: number | null;
  after?: string | null;
  modelProvider?: ModelProvider | null;
}

/** What the service uses, and only that: a test can hand it small real objects. */
export interface CredentialServiceDependencies {
  repository: Pick<CredentialRepository, 'findById' | 'findByIds' | 'page' | 'count' | 'insert' | 'update' | 'delete'>;
  secrets: Pick<SecretStore, 'seal'>;
  audit: Logger;
  /** The token URL a service account's tokenUri must equal. */
  googleTokenUrl: string;
}

/** How often a rotation without expectedSecretVersion retries when a concurrent one wins. */
const ROTATION_ATTEMPTS = 3;

export class CredentialService {
  private readonly repository: CredentialServiceDependencies['repository'];
  private readonly secrets: CredentialServiceDependencies['secrets'];
  private readonly audit: Logger;
  private readonly googleTokenUrl: string;

  constructor(dependencies: CredentialServiceDependencies) {
    this.repository = dependencies.repository;
    this.secrets = dependencies.secrets;
    this.audit = dependencies.audit;
    this.googleTokenUrl = dependencies.googleTokenUrl;
  }

  async get(principal: Principal, id: string): Promise<Credential> {
    requireReader(principal);
    requireUuid('id', id);
    const credential = await this.repository.findById(principal.orgId, id);
    if (!credential) throw new NotFoundError('Credential', id);
    return credential;
  }

  /** For DataLoaders: the caller's credentials in key order, null for misses and foreign ids. */
  async getMany(principal: Principal, ids: readonly string[]): Promise<(Credential | null)[]> {
    requireReader(principal);
    return loadInKeyOrder(ids, (valid) => this.repository.findByIds(principal.orgId, valid));
  }

  async list(principal: Principal, args: CredentialListArgs): Promise<Connection<Credential>> {
    requireReader(principal);
    const modelProvider = args.modelProvider ?? undefined;
    return loadConnection(
      args,
      (window) => this.repository.page(principal.orgId, { ...window, modelProvider }),
      () => this.repository.count(principal.orgId, modelProvider),
    );
  }

  async create(principal: Principal, input: CreateCredentialRequest): Promise<Credential> {
    requireWriter(principal);
    const name = checkName('input.name', input.name);
    const modelProvider = input.modelProvider;
    const settings = input.settings === undefined || input.settings === null ? {} : checkSettings('input.settings', input.settings);
    checkUrlParameter(modelProvider, settings, 'input.settings');
    const baseUrl =
      input.baseUrl === undefined || input.baseUrl === null
        ? resolveDefaultBaseUrl(modelProvider, settings, { baseUrl: 'input.baseUrl', settings: 'input.settings' })
        : checkBaseUrl('input.baseUrl', input.baseUrl);
    const auth = this.resolveAuthFor(modelProvider, input.auth, 'input.auth');

    const id = randomUUID();
    const sealed = await this.seal(auth, { organizationId: principal.orgId, credentialId: id, secretVersion: 1 });
    const credential = await this.repository.insert({
      id,
      organizationId: principal.orgId,
      name,
      modelProvider,
      authType: auth.authType,
      baseUrl,
      settings,
      authParameters: auth.authParameters,
      keyLast4: auth.keyLast4,
      sealed,
      actor: principal.userId,
    });
    this.record('credential.created', principal, credential);
    return credential;
  }

  async update(principal: Principal, id: string, input: UpdateCredentialRequest): Promise<Credential> {
    requireWriter(principal);
    requireUuid('id', id);
    for (const field of ['name', 'settings', 'auth'] as const) {
      if (input[field] === null) {
        throw new BadUserInputError(`input.${field}`, `${field} cannot be null; omit it to keep the stored value.`);
      }
    }
    const expected = input.expectedSecretVersion;
    if (expected !== undefined && expected !== null && (!Number.isInteger(expected) || expected < 1)) {
      throw new BadUserInputError('input.expectedSecretVersion', 'expectedSecretVersion must be a positive integer.');
    }

    for (let attempt = 1; ; attempt += 1) {
      const current = await this.repository.findById(principal.orgId, id);
      if (!current) throw new NotFoundError('Credential', id);
      if (expected !== undefined && expected !== null && expected !== current.secretVersion) {
        throw staleVersion(expected, current.secretVersion);
      }
      const changes = await this.changesFor(principal, current, input);
      const updated = await this.repository.update(principal.orgId, id, current.secretVersion, changes);
      if (updated) {
        this.record(changes.rotation ? 'credential.rotated' : 'credential.updated', principal, updated);
        return updated;
      }
      // The row was deleted or rotated between our read and write.
      if (expected !== undefined && expected !== null) {
        const now = await this.repository.findById(principal.orgId, id);
        if (!now) throw new NotFoundError('Credential', id);
        throw staleVersion(expected, now.secretVersion);
      }
      if (attempt >= ROTATION_ATTEMPTS) {
        throw new ConflictError('The credential changed concurrently; retry the update.', { field: 'input.expectedSecretVersion' });
      }
    }
  }

  async delete(principal: Principal, id: string): Promise<string> {
    requireWriter(principal);
    requireUuid('id', id);
    const outcome = await this.repository.delete(principal.orgId, id);
    if (outcome.providersInUse > 0) {
      const routes = outcome.providersInUse === 1 ? '1 provider uses' : `${outcome.providersInUse} providers use`;
      throw new ConflictError(`The credential cannot be deleted: ${routes} it. Delete or repoint those providers first.`, {
        providersInUse: outcome.providersInUse,
      });
    }
    if (!outcome.deleted) throw new NotFoundError('Credential', id);
    this.audit.info(
      { event: 'credential.deleted', orgId: principal.orgId, actor: principal.userId, credentialId: id },
      'credential deleted',
    );
    return id;
  }

  private async changesFor(principal: Principal, current: Credential, input: UpdateCredentialRequest): Promise<CredentialChanges> {
    const changes: CredentialChanges = { actor: principal.userId };
    if (input.name !== undefined && input.name !== null) changes.name = checkName('input.name', input.name);
    const settings =
      input.settings !== undefined && input.settings !== null ? checkSettings('input.settings', input.settings) : current.settings;
    if (input.settings !== undefined && input.settings !== null) {
      checkUrlParameter(current.modelProvider, settings, 'input.settings');
      changes.settings = settings;
    }
    if (input.baseUrl !== undefined && input.baseUrl !== null) {
      changes.baseUrl = checkBaseUrl('input.baseUrl', input.baseUrl);
    } else if (input.baseUrl === null || (changes.settings && hasDefaultBaseUrl(current))) {
      // null resets to the model provider's default; a default URL follows a new region or location.
      changes.baseUrl = resolveDefaultBaseUrl(current.modelProvider, settings, { baseUrl: 'input.baseUrl', settings: 'input.settings' });
    }
    if (input.auth) {
      const auth = this.resolveAuthFor(current.modelProvider, input.auth, 'input.auth');
      const secretVersion = current.secretVersion + 1;
      const sealed = await this.seal(auth, { organizationId: principal.orgId, credentialId: current.id, secretVersion });
      changes.rotation = {
        authType: auth.authType,
        authParameters: auth.authParameters,
        keyLast4: auth.keyLast4,
        sealed,
        secretVersion,
        rotatedAt: new Date(),
      };
    }
    return changes;
  }

  private resolveAuthFor(modelProvider: ModelProvider, auth: AuthRequest | null | undefined, path: string): ResolvedAuth {
    if (auth === undefined || auth === null) {
      const authType = defaultAuthType(modelProvider);
      if (authType !== 'GOOGLE_ADC') {
        throw new BadUserInputError(path, `auth is required for ${modelProvider}: its default auth type ${authType} needs key material.`);
      }
      return { authType, secretPayload: null, authParameters: {}, keyLast4: null };
    }
    const member = chosenMember(auth, path);
    const authType = AUTH_MEMBER_TYPES[member];
    if (authType === 'OAUTH_PASSTHROUGH') throw new BadUserInputError(`${path}.${member}`, OAUTH_PASSTHROUGH_MESSAGE);
    if (!acceptsAuthType(modelProvider, authType)) {
      const allowed = modelProviderEntry(modelProvider).authTypes.join(', ');
      throw new BadUserInputError(`${path}.${member}`, `${modelProvider} does not take ${authType}; it takes ${allowed}.`);
    }
    return resolveAuth(auth, path, { googleTokenUrl: this.googleTokenUrl });
  }

  private async seal(
    auth: ResolvedAuth,
    binding: { organizationId: string; credentialId: string; secretVersion: number },
  ): Promise<SealedSecret | null> {
    if (auth.secretPayload === null) return null;
    return this.secrets.seal(auth.secretPayload, { ...binding, authType: auth.authType });
  }

  private record(event: string, principal: Principal, credential: Credential): void {
    this.audit.info(
      {
        event,
        orgId: principal.orgId,
        actor: principal.userId,
        credentialId: credential.id,
        modelProvider: credential.modelProvider,
        authType: credential.authType,
        secretVersion: credential.secretVersion,
      },
      event.replace('.', ' '),
    );
  }
}

function staleVersion(expected: number, actual: number): ConflictError {
  return new ConflictError(`expectedSecretVersion ${expected} is stale; the credential is at version ${actual}.`, {
    field: 'input.expectedSecretVersion',
    currentSecretVersion: actual,
  });
}
