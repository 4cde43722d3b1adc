// Credential use cases. Owns authorization (every query is scoped to the caller's organization),
// input checks, sealing of secrets and the audit trail. Knows nothing of GraphQL or SQL.
import { randomUUID } from 'node:crypto';
import { acceptsAuthType, defaultAuthType, type ModelProvider, modelProviderEntry } from '../catalog/model-provider-catalog';
import { loadInKeyOrder } from '../ids/load-in-key-order';
import { requireUuid } from '../ids/uuid';
import type { AuditAction, AuditEntry } from '../audit/audit-log';
import { type Principal, requireReader, requireWriter } from '../auth/principal';
import { BadUserInputError, ConflictError, CredentialInUseError, NotFoundError, StaleRevisionError } from '../errors/app-error';
import type { BaseUrlPolicy } from '../fields/base-url-target';
import { checkBaseUrl, checkChangeNote, checkName, checkSettings } from '../fields/field-checks';
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
import type { Credential, SelectedCredential } from './credential.model';
import type { CredentialChanges, CredentialRepository } from './credential.repository';

/** What createCredential asks for, as the service receives it from any door (GraphQL, REST). */
export interface CreateCredentialRequest {
  name: string;
  modelProvider: ModelProvider;
  auth?: AuthRequest | null;
  baseUrl?: string | null;
  settings?: Record<string, unknown> | null;
  /** Why: trimmed, at most 500 characters, shown as lastChangeNote. */
  changeNote?: string | null;
}

/** What updateCredential asks for: a field given replaces the stored value; auth rotates the secret. */
export interface UpdateCredentialRequest {
  name?: string | null;
  baseUrl?: string | null;
  settings?: Record<string, unknown> | null;
  auth?: AuthRequest | null;
  expectedSecretVersion?: number | null;
  /** Compare-and-set on any write (REST's If-Match): CONFLICT (StaleRevisionError) when the row moved on. */
  expectedRevision?: number | null;
  /** `settings` is merged over the stored settings instead of replacing them (REST's PUT). */
  mergeSettings?: boolean;
  /** The note of this write; omitted or null clears the previous one. */
  changeNote?: string | null;
}

/** What the gateway's AWS role trust needs from an admin: the external id and the principal to trust. */
export interface AwsTrustInfo {
  /** The external id the vault generated for the credential; null when the admin supplied one. */
  externalId: string | null;
  /** AWS_PRINCIPAL_ARN: the identity the gateway assumes roles from; null when not configured. */
  principalArn: string | null;
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
  /** AWS_PRINCIPAL_ARN, for the trust information shown to admins. */
  awsPrincipalArn?: string;
  /** BASE_URL_ALLOW_PRIVATE: base URLs may use http and point at loopback or private addresses (unset: false). */
  baseUrlAllowPrivate?: boolean;
}

/** How often a rotation without expectedSecretVersion retries when a concurrent one wins. */
const ROTATION_ATTEMPTS = 3;

export class CredentialService {
  private readonly repository: CredentialServiceDependencies['repository'];
  private readonly secrets: CredentialServiceDependencies['secrets'];
  private readonly audit: Logger;
  private readonly googleTokenUrl: string;
  private readonly awsPrincipalArn: string | null;
  private readonly baseUrlPolicy: BaseUrlPolicy;

  constructor(dependencies: CredentialServiceDependencies) {
    this.repository = dependencies.repository;
    this.secrets = dependencies.secrets;
    this.audit = dependencies.audit;
    this.googleTokenUrl = dependencies.googleTokenUrl;
    this.awsPrincipalArn = dependencies.awsPrincipalArn ?? null;
    this.baseUrlPolicy = { allowPrivate: dependencies.baseUrlAllowPrivate === true };
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

  /** A page of the caller's credentials; with `fields`, each node holds only those (and its id and organization). */
  list(principal: Principal, args: CredentialListArgs): Promise<Connection<Credential>>;
  list(principal: Principal, args: CredentialListArgs & { fields: readonly (keyof Credential)[] }): Promise<Connection<SelectedCredential>>;
  async list(
    principal: Principal,
    args: CredentialListArgs & { fields?: readonly (keyof Credential)[] },
  ): Promise<Connection<SelectedCredential>> {
    requireReader(principal);
    const modelProvider = args.modelProvider ?? undefined;
    const fields = args.fields;
    return loadConnection(
      args,
      (window) =>
        fields === undefined
          ? this.repository.page(principal.orgId, { ...window, modelProvider })
          : this.repository.page(principal.orgId, { ...window, modelProvider, fields }),
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
        : checkBaseUrl('input.baseUrl', input.baseUrl, this.baseUrlPolicy);
    const auth = this.resolveAuthFor(modelProvider, input.auth, 'input.auth');
    const changeNote = checkChangeNote('input.changeNote', input.changeNote);

    const id = randomUUID();
    const sealed = await this.seal(auth, { organizationId: principal.orgId, credentialId: id, secretVersion: 1 });
    const fields = {
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
      changeNote,
    };
    const credential = await this.repository.insert(
      fields,
      auditEntry(principal, 'credential.created', id, {
        changedFields: ['name', 'modelProvider', 'auth', 'baseUrl', 'settings'],
        details: { name, modelProvider, authType: auth.authType, baseUrl, settings },
        secretVersion: 1,
        changeNote,
      }),
    );
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
    const expected = input.expectedSecretVersion ?? null;
    if (expected !== null && (!Number.isInteger(expected) || expected < 1)) {
      throw new BadUserInputError('input.expectedSecretVersion', 'expectedSecretVersion must be a positive integer.');
    }
    const expectedRevision = input.expectedRevision ?? null;
    const changeNote = checkChangeNote('input.changeNote', input.changeNote);

    for (let attempt = 1; ; attempt += 1) {
      const current = await this.repository.findById(principal.orgId, id);
      if (!current) throw new NotFoundError('Credential', id);
      if (expected !== null && expected !== current.secretVersion) throw staleVersion(expected, current.secretVersion);
      if (expectedRevision !== null && expectedRevision !== current.revision) throw new StaleRevisionError();
      const changes = await this.changesFor(principal, current, input, changeNote);
      const updated = await this.repository.update(
        principal.orgId,
        id,
        current.revision,
        changes,
        updateEntry(principal, current, changes),
      );
      if (updated) {
        this.record(changes.rotation ? 'credential.rotated' : 'credential.updated', principal, updated);
        return updated;
      }
      // The row was written or deleted between our read and write: the next read says which,
      // and an expected version or revision that no longer holds is refused there.
      if (expectedRevision !== null) {
        if (!(await this.repository.findById(principal.orgId, id))) throw new NotFoundError('Credential', id);
        throw new StaleRevisionError();
      }
      if (attempt >= ROTATION_ATTEMPTS) {
        throw new ConflictError('The credential changed concurrently; retry the update.', { field: 'input.expectedSecretVersion' });
      }
    }
  }

  async delete(principal: Principal, id: string): Promise<string> {
    requireWriter(principal);
    requireUuid('id', id);
    const outcome = await this.repository.delete(principal.orgId, id, auditEntry(principal, 'credential.deleted', id, {}));
    const inUse = outcome.providersInUse;
    if (inUse.length > 0) throw new CredentialInUseError(inUse);
    if (!outcome.deleted) throw new NotFoundError('Credential', id);
    this.audit.info(
      { event: 'credential.deleted', orgId: principal.orgId, actor: principal.userId, credentialId: id },
      'credential deleted',
    );
    return id;
  }

  /** The AWS role trust information of an AWS_ROLE credential (readers may see it: nothing in it is secret). */
  async awsTrustInfo(principal: Principal, id: string): Promise<AwsTrustInfo> {
    const credential = await this.get(principal, id);
    if (credential.authType !== 'AWS_ROLE') {
      throw new BadUserInputError(
        'id',
        `The credential is ${credential.authType}; trust information exists for AWS_ROLE credentials only.`,
      );
    }
    return { externalId: credential.authParameters.generatedExternalId ?? null, principalArn: this.awsPrincipalArn };
  }

  /** Whether this vault has an AWS identity configured for customers' role trust policies. */
  awsRoleConfig(principal: Principal): { configured: boolean; principalArn: string | null } {
    requireReader(principal);
    return { configured: this.awsPrincipalArn !== null, principalArn: this.awsPrincipalArn };
  }

  private async changesFor(
    principal: Principal,
    current: Credential,
    input: UpdateCredentialRequest,
    changeNote: string | null,
  ): Promise<CredentialChanges> {
    const changes: CredentialChanges = { actor: principal.userId, changeNote };
    if (input.name !== undefined && input.name !== null) changes.name = checkName('input.name', input.name);
    const given = input.settings !== undefined && input.settings !== null ? checkSettings('input.settings', input.settings) : undefined;
    const settings =
      given === undefined
        ? current.settings
        : input.mergeSettings
          ? checkSettings('input.settings', { ...current.settings, ...given })
          : given;
    if (input.settings !== undefined && input.settings !== null) {
      checkUrlParameter(current.modelProvider, settings, 'input.settings');
      changes.settings = settings;
    }
    if (input.baseUrl !== undefined && input.baseUrl !== null) {
      changes.baseUrl = checkBaseUrl('input.baseUrl', input.baseUrl, this.baseUrlPolicy);
    } else if (input.baseUrl === null || (changes.settings && hasDefaultBaseUrl(current))) {
      // null resets to the model provider's default; a default URL follows a new region or location.
      changes.baseUrl = resolveDefaultBaseUrl(current.modelProvider, settings, { baseUrl: 'input.baseUrl', settings: 'input.settings' });
    }
    if (input.auth) {
      const auth = this.resolveAuthFor(current.modelProvider, input.auth, 'input.auth', current.authParameters.generatedExternalId);
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

  private resolveAuthFor(
    modelProvider: ModelProvider,
    auth: AuthRequest | null | undefined,
    path: string,
    generatedExternalId?: string,
  ): ResolvedAuth {
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
    return resolveAuth(auth, path, { googleTokenUrl: this.googleTokenUrl, generatedExternalId });
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

/** The audit entry of a write to a credential by `principal`. */
function auditEntry(
  principal: Principal,
  action: AuditAction,
  credentialId: string,
  extras: Pick<AuditEntry, 'changedFields' | 'details' | 'secretVersion' | 'changeNote'>,
): AuditEntry {
  return {
    organizationId: principal.orgId,
    actor: principal.userId,
    action,
    targetType: 'credential',
    targetId: credentialId,
    origin: principal.origin ?? null,
    ...extras,
  };
}

/** An update's entry: the fields it changes, with their old and new values where none is secret. */
function updateEntry(principal: Principal, current: Credential, changes: CredentialChanges): AuditEntry {
  const changedFields: string[] = [];
  const details: Record<string, unknown> = {};
  if (changes.name !== undefined && changes.name !== current.name) {
    changedFields.push('name');
    details.name = { from: current.name, to: changes.name };
  }
  if (changes.baseUrl !== undefined && changes.baseUrl !== current.baseUrl) {
    changedFields.push('baseUrl');
    details.baseUrl = { from: current.baseUrl, to: changes.baseUrl };
  }
  if (changes.settings !== undefined && JSON.stringify(changes.settings) !== JSON.stringify(current.settings)) {
    changedFields.push('settings');
    details.settings = { from: current.settings, to: changes.settings };
  }
  if (changes.rotation) {
    // The secret itself never: only that it changed, and the auth type it has now.
    changedFields.push('auth');
    details.authType = { from: current.authType, to: changes.rotation.authType };
  }
  if (changes.changeNote !== current.lastChangeNote) changedFields.push('changeNote');
  return auditEntry(principal, changes.rotation ? 'credential.rotated' : 'credential.updated', current.id, {
    changedFields,
    details,
    secretVersion: changes.rotation?.secretVersion ?? current.secretVersion,
    changeNote: changes.changeNote,
  });
}
