// Changing a provider in place: updateProvider (GraphQL) and PUT /admin/providers/{id} (REST,
// under both mount points) rename, resettle and repoint a route with the checks of create; a refused
// update changes nothing; concurrent updates never lose one another silently (a compare-and-set
// on the row's revision, and If-Match on the REST door); and a credential whose providers were
// repointed can then be deleted, as the CONFLICT of deleting it advises.
import { randomUUID } from 'node:crypto';
import { ConflictError } from '../../src/errors/app-error';
import { ProviderRepository } from '../../src/providers/provider.repository';
import { aCredentialInput, type ModelProvider, uniqueName } from '../support/factories';
import { anOrganization, type Organization } from '../support/organizations';
import { aProviderInput, CREDENTIAL_PROVIDERS } from '../support/provider-client';
import {
  aRestOrganization,
  type ConnectionJson,
  expectRestError,
  keysOf,
  okBody,
  PROVIDER_FIELDS,
  type ProviderJson,
  REST_PREFIXES,
  type RestClient,
  type RestOrganization,
} from '../support/rest-client';
import { startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { type CredentialView, dataOf, expectBadUserInput, expectError } from '../support/vault-client';

let database: TestDatabase;
let vault: TestApp;

beforeAll(async () => {
  database = await createTestDatabase('provider_updates');
  vault = await startTestApp({ databaseUrl: database.url });
});

afterAll(async () => {
  await vault?.stop();
  await database?.drop();
});

/** The stored provider row as JSON: what a refused update must leave exactly as it was. */
async function providerRow(id: string): Promise<Record<string, unknown> | undefined> {
  const [row] = await database.query<{ row: Record<string, unknown> }>('SELECT row_to_json(p) AS row FROM providers p WHERE id = $1', [id]);
  return row?.row;
}

async function credentialOf(org: Organization, modelProvider: ModelProvider = 'OPENAI'): Promise<CredentialView> {
  return org.admin.created(aCredentialInput({ modelProvider }));
}

/** An OPENAI provider backed by a fresh OPENAI credential, with the stored row as it is now. */
async function aRoute(org: Organization, settings: Record<string, unknown> = {}) {
  const credential = await credentialOf(org);
  const provider = await org.admin.providers.created(aProviderInput(credential.id, { settings }));
  return { credential, provider, row: await providerRow(provider.id) };
}

describe('updateProvider', () => {
  test('renames the provider and keeps the rest; updatedAt moves, createdAt stays', async () => {
    const org = anOrganization(vault);
    const { provider } = await aRoute(org, { model: 'gpt-4o' });
    const name = uniqueName('renamed');

    const updated = await org.admin.providers.updated(provider.id, { name });

    expect(updated).toEqual({ ...provider, name, updatedAt: expect.any(String) });
    expect(Date.parse(updated.updatedAt)).toBeGreaterThanOrEqual(Date.parse(provider.createdAt));
    expect(dataOf(await org.admin.providers.get(provider.id)).provider?.name).toBe(name);
  });

  test('settings given replace the stored settings', async () => {
    const org = anOrganization(vault);
    const { provider } = await aRoute(org, { model: 'gpt-4o', weight: 3 });

    const updated = await org.admin.providers.updated(provider.id, { settings: { model: 'gpt-4.1' } });

    expect(updated.settings).toEqual({ model: 'gpt-4.1' });
  });

  test('every write moves the stored revision by one', async () => {
    const org = anOrganization(vault);
    const { provider, row } = await aRoute(org);

    await org.admin.providers.updated(provider.id, { name: uniqueName('one') });
    await org.admin.providers.updated(provider.id, { settings: { step: 2 } });

    expect(row?.revision).toBe(1);
    expect((await providerRow(provider.id))?.revision).toBe(3);
  });

  test('credentialId repoints the provider to another credential of the same model provider, and Credential.providers follows', async () => {
    const org = anOrganization(vault);
    const { credential, provider } = await aRoute(org);
    const replacement = await credentialOf(org);

    const updated = await org.admin.providers.updated(provider.id, { credentialId: replacement.id });

    expect(updated.credential).toEqual({ id: replacement.id, name: replacement.name, modelProvider: 'OPENAI', authType: 'API_KEY' });
    const providersOf = async (id: string) =>
      dataOf(await vault.graphql<{ credential: { providers: { id: string }[] } }>(CREDENTIAL_PROVIDERS, { id }, { token: org.admin.token }))
        .credential.providers;
    expect(await providersOf(credential.id)).toEqual([]);
    expect((await providersOf(replacement.id)).map((route) => route.id)).toEqual([provider.id]);
  });

  test('an upper-case credentialId is stored as the credential it names', async () => {
    const org = anOrganization(vault);
    const { provider } = await aRoute(org);
    const replacement = await credentialOf(org);

    const updated = await org.admin.providers.updated(provider.id, { credentialId: replacement.id.toUpperCase() });

    expect(updated.credential?.id).toBe(replacement.id);
    expect((await providerRow(provider.id))?.credential_id).toBe(replacement.id);
  });

  test('a CUSTOM credential may back an OpenAI-compatible provider after repointing', async () => {
    const org = anOrganization(vault);
    const { provider } = await aRoute(org);
    const custom = await credentialOf(org, 'CUSTOM');

    const updated = await org.admin.providers.updated(provider.id, { credentialId: custom.id });

    expect(updated.credential).toMatchObject({ id: custom.id, modelProvider: 'CUSTOM' });
  });

  test.each<ModelProvider>(['ANTHROPIC', 'GROQ'])(
    'a %s credential cannot back an OPENAI provider: BAD_USER_INPUT on input.credentialId, nothing changes',
    async (modelProvider) => {
      const org = anOrganization(vault);
      const { provider, row } = await aRoute(org);
      const other = await credentialOf(org, modelProvider);

      expectBadUserInput(
        await org.admin.providers.update(provider.id, { credentialId: other.id, name: uniqueName('no') }),
        'input.credentialId',
      );

      expect(await providerRow(provider.id)).toEqual(row);
    },
  );

  test('a credential of another organization is NOT_FOUND exactly like an id that names nothing, and nothing changes', async () => {
    const org = anOrganization(vault);
    const { provider, row } = await aRoute(org);
    const foreign = await credentialOf(anOrganization(vault));
    const missing = randomUUID();

    const foreignError = expectError(await org.admin.providers.update(provider.id, { credentialId: foreign.id }), { code: 'NOT_FOUND' });
    const missingError = expectError(await org.admin.providers.update(provider.id, { credentialId: missing }), { code: 'NOT_FOUND' });

    expect(foreignError.message.replace(foreign.id, '<id>')).toBe(missingError.message.replace(missing, '<id>'));
    expect(await providerRow(provider.id)).toEqual(row);
  });

  test.each(['not-a-uuid', `${randomUUID()}x`])(
    'a malformed credentialId (%s) is BAD_USER_INPUT on input.credentialId',
    async (credentialId) => {
      const org = anOrganization(vault);
      const { provider, row } = await aRoute(org);

      expectBadUserInput(await org.admin.providers.update(provider.id, { credentialId }), 'input.credentialId');

      expect(await providerRow(provider.id)).toEqual(row);
    },
  );

  test('oauthPassthrough: true turns an ANTHROPIC provider into OAuth passthrough, and a credentialId turns it back', async () => {
    const org = anOrganization(vault);
    const credential = await credentialOf(org, 'ANTHROPIC');
    const provider = await org.admin.providers.created(aProviderInput(credential.id, { modelProvider: 'ANTHROPIC' }));

    const passthrough = await org.admin.providers.updated(provider.id, { oauthPassthrough: true });
    const stored = await providerRow(provider.id);
    const backed = await org.admin.providers.updated(provider.id, { credentialId: credential.id });

    expect(passthrough).toMatchObject({ authType: 'OAUTH_PASSTHROUGH', credential: null });
    expect(stored).toMatchObject({ credential_id: null, oauth_passthrough: true });
    expect(backed).toMatchObject({ authType: 'API_KEY', credential: { id: credential.id } });
    expect(await providerRow(provider.id)).toMatchObject({ credential_id: credential.id, oauth_passthrough: false });
  });

  test('oauthPassthrough: true for an OPENAI provider is BAD_USER_INPUT on input.oauthPassthrough, nothing changes', async () => {
    const org = anOrganization(vault);
    const { provider, row } = await aRoute(org);

    expectBadUserInput(await org.admin.providers.update(provider.id, { oauthPassthrough: true }), 'input.oauthPassthrough', 'ANTHROPIC');

    expect(await providerRow(provider.id)).toEqual(row);
  });

  test('credentialId and oauthPassthrough: true together are BAD_USER_INPUT, nothing changes', async () => {
    const org = anOrganization(vault);
    const credential = await credentialOf(org, 'ANTHROPIC');
    const provider = await org.admin.providers.created(aProviderInput(credential.id, { modelProvider: 'ANTHROPIC' }));
    const row = await providerRow(provider.id);

    const response = await org.admin.providers.update(provider.id, { credentialId: credential.id, oauthPassthrough: true });

    expectBadUserInput(response, 'input.oauthPassthrough', /exactly one/i);
    expect(await providerRow(provider.id)).toEqual(row);
  });

  test('credentialId: null alone would leave a credential-backed provider with nothing: BAD_USER_INPUT on input.credentialId', async () => {
    const org = anOrganization(vault);
    const { provider, row } = await aRoute(org);

    expectBadUserInput(await org.admin.providers.update(provider.id, { credentialId: null }), 'input.credentialId', /exactly one/i);

    expect(await providerRow(provider.id)).toEqual(row);
  });

  test('oauthPassthrough: false alone would leave a passthrough provider with nothing: BAD_USER_INPUT on input.credentialId', async () => {
    const org = anOrganization(vault);
    const provider = await org.admin.providers.created({ name: uniqueName('oauth'), modelProvider: 'ANTHROPIC', oauthPassthrough: true });
    const row = await providerRow(provider.id);

    expectBadUserInput(await org.admin.providers.update(provider.id, { oauthPassthrough: false }), 'input.credentialId', /exactly one/i);

    expect(await providerRow(provider.id)).toEqual(row);
  });

  test('a null credentialId or a false oauthPassthrough that repeats what holds changes nothing but what else is given', async () => {
    const org = anOrganization(vault);
    const { credential, provider } = await aRoute(org);
    const name = uniqueName('same-backing');

    const updated = await org.admin.providers.updated(provider.id, { oauthPassthrough: false, name });

    expect(updated).toMatchObject({ name, credential: { id: credential.id }, authType: 'API_KEY' });
  });

  test.each<[string, unknown]>([
    ['blank', '   '],
    ['longer than 200 characters', 'n'.repeat(201)],
    ['with a control character', 'route\u0007'],
    ['null', null],
  ])('a name %s is BAD_USER_INPUT on input.name, nothing changes', async (_label, name) => {
    const org = anOrganization(vault);
    const { provider, row } = await aRoute(org);

    expectBadUserInput(await org.admin.providers.update(provider.id, { name, settings: { kept: false } }), 'input.name');

    expect(await providerRow(provider.id)).toEqual(row);
  });

  test.each<[string, unknown, string]>([
    ['null', null, 'input.settings'],
    ['a secret-looking key', { api_key: 'sk-canary' }, 'input.settings.api_key'],
    ['larger than 16 KiB', { blob: 'x'.repeat(16 * 1024 + 1) }, 'input.settings'],
  ])('settings %s are BAD_USER_INPUT naming the field, nothing changes', async (_label, settings, field) => {
    const org = anOrganization(vault);
    const { provider, row } = await aRoute(org);

    const response = await org.admin.providers.update(provider.id, { settings, name: uniqueName('not-stored') });

    expectBadUserInput(response, field);
    expect(JSON.stringify(response.body)).not.toContain('sk-canary');
    expect(await providerRow(provider.id)).toEqual(row);
  });

  test('a name another provider of the organization has, in any case, is CONFLICT on input.name, nothing changes', async () => {
    const org = anOrganization(vault);
    const { provider, row } = await aRoute(org);
    const taken = await org.admin.providers.created({ name: uniqueName('Taken'), modelProvider: 'ANTHROPIC', oauthPassthrough: true });

    for (const name of [taken.name, taken.name.toUpperCase()]) {
      expectError(await org.admin.providers.update(provider.id, { name }), { code: 'CONFLICT', field: 'input.name' });
    }

    expect(await providerRow(provider.id)).toEqual(row);
  });

  test('a provider may take its own name in another case, or a name another organization uses', async () => {
    const org = anOrganization(vault);
    const { provider } = await aRoute(org);
    const elsewhere = await anOrganization(vault).admin.providers.created({
      name: uniqueName('shared'),
      modelProvider: 'ANTHROPIC',
      oauthPassthrough: true,
    });

    expect((await org.admin.providers.updated(provider.id, { name: provider.name.toUpperCase() })).name).toBe(provider.name.toUpperCase());
    expect((await org.admin.providers.updated(provider.id, { name: elsewhere.name })).name).toBe(elsewhere.name);
  });

  test('a viewer is FORBIDDEN and nothing changes', async () => {
    const org = anOrganization(vault);
    const { provider, row } = await aRoute(org);

    expectError(await org.viewer.providers.update(provider.id, { name: uniqueName('viewer') }), { code: 'FORBIDDEN' });

    expect(await providerRow(provider.id)).toEqual(row);
  });

  test('a runtime token is FORBIDDEN, even with the admin role, and nothing changes', async () => {
    const org = anOrganization(vault);
    const { provider, row } = await aRoute(org);

    const response = await org.member(['admin', 'runtime']).providers.update(provider.id, { name: uniqueName('runtime') });

    expectError(response, { code: 'FORBIDDEN' });
    expect(await providerRow(provider.id)).toEqual(row);
  });

  test("another organization's provider is NOT_FOUND exactly like an id that names nothing, and nothing changes", async () => {
    const owner = anOrganization(vault);
    const stranger = anOrganization(vault);
    const { provider, row } = await aRoute(owner);
    const missing = randomUUID();

    const foreignError = expectError(await stranger.admin.providers.update(provider.id, { name: uniqueName('x') }), { code: 'NOT_FOUND' });
    const missingError = expectError(await stranger.admin.providers.update(missing, { name: uniqueName('x') }), { code: 'NOT_FOUND' });

    expect(foreignError.message.replace(provider.id, '<id>')).toBe(missingError.message.replace(missing, '<id>'));
    expect(await providerRow(provider.id)).toEqual(row);
  });

  test('a malformed id is BAD_USER_INPUT on id', async () => {
    expectBadUserInput(await anOrganization(vault).admin.providers.update('not-a-uuid', { name: 'x' }), 'id');
  });
});

describe('concurrent updates of one provider', () => {
  const WRITERS = 6;

  test(`${WRITERS} concurrent updates, each renaming: each answered one is a distinct revision, the last name stored is one of theirs`, async () => {
    const org = anOrganization(vault);
    const { provider } = await aRoute(org);
    const names = Array.from({ length: WRITERS }, () => uniqueName('racer'));

    const responses = await Promise.all(names.map((name) => org.admin.providers.update(provider.id, { name })));

    const codes = responses.map((response) => response.body.errors?.[0]?.extensions?.code ?? 'ok');
    expect(codes.every((code) => code === 'ok' || code === 'CONFLICT')).toBe(true);
    const succeeded = codes.filter((code) => code === 'ok').length;
    expect(succeeded).toBeGreaterThan(0);
    const row = await providerRow(provider.id);
    // One revision per write that was answered: none landed on top of another unseen.
    expect(row?.revision).toBe(1 + succeeded);
    expect(names).toContain(row?.name);
  });
});

describe.each(REST_PREFIXES)('PUT /providers/{id} under %s', (prefix) => {
  function anOrg(): RestOrganization {
    return aRestOrganization(vault, prefix);
  }

  async function aConnection(client: RestClient, modelProvider = 'openai'): Promise<ConnectionJson> {
    const body: Record<string, unknown> = { name: uniqueName(modelProvider), model_provider: modelProvider, api_key: `sk-${randomUUID()}` };
    return okBody(await client.post<ConnectionJson>('/connections', body));
  }

  async function aProvider(client: RestClient, settings: Record<string, unknown> = {}) {
    const connection = await aConnection(client);
    const created = await client.post<ProviderJson>('/providers', {
      name: uniqueName('route'),
      model_provider: 'openai',
      connection_id: connection.id,
      settings,
    });
    return { connection, provider: okBody(created), etag: created.headers.get('etag'), row: await providerRow(created.body.id) };
  }

  test('answers 200 with exactly the fields of a Provider and a new ETag; renames, merges settings, records who changed it', async () => {
    const org = anOrg();
    const { provider, etag } = await aProvider(org.admin, { model: 'gpt-4o', weight: 3 });
    const name = uniqueName('renamed');

    const response = await org.otherAdmin.put<ProviderJson>(`/providers/${provider.id}`, { name, settings: { weight: 5, region: 'eu' } });

    const updated = okBody(response);
    expect(keysOf(updated)).toEqual([...PROVIDER_FIELDS].sort());
    expect(updated).toEqual({
      ...provider,
      name,
      settings: { model: 'gpt-4o', weight: 5, region: 'eu' },
      updated_at: expect.any(String),
      last_modified_by_user_id: org.otherAdminUserId,
    });
    expect(Date.parse(updated.updated_at)).toBeGreaterThanOrEqual(Date.parse(provider.updated_at));
    expect(etag).toBe('"1"');
    expect(response.headers.get('etag')).toBe('"2"');
    expect((await org.admin.get(`/providers/${provider.id}`)).headers.get('etag')).toBe('"2"');
  });

  test('connection_id repoints the provider', async () => {
    const org = anOrg();
    const { provider } = await aProvider(org.admin);
    const replacement = await aConnection(org.admin);

    const updated = okBody(await org.admin.put<ProviderJson>(`/providers/${provider.id}`, { connection_id: replacement.id }));

    expect(updated).toMatchObject({ connection_id: replacement.id, auth_type: 'api_key', name: provider.name });
  });

  test('auth_type oauth_passthrough turns an anthropic provider into passthrough; connection_id turns it back', async () => {
    const org = anOrg();
    const connection = await aConnection(org.admin, 'anthropic');
    const provider = okBody(
      await org.admin.post<ProviderJson>('/providers', {
        name: uniqueName('claude'),
        model_provider: 'anthropic',
        connection_id: connection.id,
      }),
    );

    const passthrough = okBody(await org.admin.put<ProviderJson>(`/providers/${provider.id}`, { auth_type: 'oauth_passthrough' }));
    const backed = okBody(await org.admin.put<ProviderJson>(`/providers/${provider.id}`, { connection_id: connection.id }));

    expect(passthrough).toMatchObject({ auth_type: 'oauth_passthrough', connection_id: null });
    expect(backed).toMatchObject({ auth_type: 'api_key', connection_id: connection.id });
  });

  test.each<[string, string, (connectionId: string) => Record<string, unknown>]>([
    [
      'connection_id and auth_type oauth_passthrough together',
      'auth_type',
      (id) => ({ connection_id: id, auth_type: 'oauth_passthrough' }),
    ],
    ['auth_type oauth_passthrough for openai', 'auth_type', () => ({ auth_type: 'oauth_passthrough' })],
    ['a connection_id that is not a UUID', 'connection_id', () => ({ connection_id: 'not-a-uuid' })],
    ['connection_id null alone', 'connection_id', () => ({ connection_id: null })],
    ['a blank name', 'name', () => ({ name: ' ' })],
    ['settings null', 'settings', () => ({ settings: null })],
    ['a secret-looking settings key', 'settings.password', () => ({ settings: { password: 'hunter2-canary' } })],
    ['an unknown field', 'credential_id', () => ({ credential_id: randomUUID() })],
  ])('%s is 400 on %s and changes nothing', async (_label, param, bodyFor) => {
    const org = anOrg();
    const { provider, connection, row } = await aProvider(org.admin);

    const response = await org.admin.put(`/providers/${provider.id}`, bodyFor(connection.id));

    expectRestError(response, { status: 400, type: 'invalid_request_error', param, notEchoing: ['hunter2-canary'] });
    expect(await providerRow(provider.id)).toEqual(row);
  });

  test("a connection of another model provider is 400 on connection_id; another organization's is 404; nothing changes", async () => {
    const org = anOrg();
    const { provider, row } = await aProvider(org.admin);
    const mistral = await aConnection(org.admin, 'mistral');
    const foreign = await aConnection(anOrg().admin);

    expectRestError(await org.admin.put(`/providers/${provider.id}`, { connection_id: mistral.id }), {
      status: 400,
      type: 'invalid_request_error',
      param: 'connection_id',
    });
    expectRestError(await org.admin.put(`/providers/${provider.id}`, { connection_id: foreign.id }), {
      status: 404,
      type: 'not_found_error',
    });
    expect(await providerRow(provider.id)).toEqual(row);
  });

  test('a name the organization already uses is 409 conflict_error', async () => {
    const org = anOrg();
    const { provider, row } = await aProvider(org.admin);
    const { provider: other } = await aProvider(org.admin);

    expectRestError(await org.admin.put(`/providers/${provider.id}`, { name: other.name }), { status: 409, type: 'conflict_error' });
    expect(await providerRow(provider.id)).toEqual(row);
  });

  test('by a viewer is 403 permission_error and changes nothing', async () => {
    const org = anOrg();
    const { provider, row } = await aProvider(org.admin);

    expectRestError(await org.viewer.put(`/providers/${provider.id}`, { name: uniqueName('viewer') }), {
      status: 403,
      type: 'permission_error',
    });
    expect(await providerRow(provider.id)).toEqual(row);
  });

  test("another organization's provider, or none, is 404; an id that is not a UUID is 404", async () => {
    const { provider } = await aProvider(anOrg().admin);
    const stranger = anOrg();

    for (const id of [provider.id, randomUUID(), 'not-a-uuid']) {
      expectRestError(await stranger.admin.put(`/providers/${id}`, { name: uniqueName('x') }), { status: 404, type: 'not_found_error' });
    }
  });

  test('If-Match with the current ETag writes; with a stale one it is 412 conflict_error and changes nothing', async () => {
    const org = anOrg();
    const { provider, etag } = await aProvider(org.admin);
    const fresh = await org.admin.put(`/providers/${provider.id}`, { name: uniqueName('first') }, { headers: { 'If-Match': etag ?? '' } });
    okBody(fresh);
    const row = await providerRow(provider.id);

    const stale = await org.admin.put(`/providers/${provider.id}`, { name: uniqueName('second') }, { headers: { 'If-Match': etag ?? '' } });

    expectRestError(stale, { status: 412, type: 'conflict_error', param: 'If-Match' });
    expect(await providerRow(provider.id)).toEqual(row);
  });

  test('concurrent PUTs each merging a settings key of its own: every one answered 200 is stored, none is lost silently', async () => {
    const org = anOrg();
    const { provider } = await aProvider(org.admin);
    const keys = Array.from({ length: 6 }, (_, index) => `writer_${index}`);

    const responses = await Promise.all(keys.map((key) => org.admin.put(`/providers/${provider.id}`, { settings: { [key]: true } })));

    expect(responses.every((response) => response.status === 200 || response.status === 409)).toBe(true);
    const answered = keys.filter((_, index) => responses[index].status === 200);
    expect(answered.length).toBeGreaterThan(0);
    const stored = okBody(await org.admin.get<ProviderJson>(`/providers/${provider.id}`)).settings;
    expect(Object.keys(stored).sort()).toEqual([...answered].sort());
  });

  test('a connection providers use is 409 naming each provider with its id; once they are repointed with PUT it can be deleted', async () => {
    const org = anOrg();
    const { connection, provider } = await aProvider(org.admin);
    const replacement = await aConnection(org.admin);

    const refused = expectRestError(await org.admin.delete(`/connections/${connection.id}`), { status: 409, type: 'conflict_error' });
    okBody(await org.admin.put(`/providers/${provider.id}`, { connection_id: replacement.id }));

    expect(refused.message).toContain(`"${provider.name}" ${provider.id}`);
    expect(refused.message).toContain('PUT /admin/providers/{id}');
    expect(okBody(await org.admin.delete(`/connections/${connection.id}`))).toEqual({ deleted: true });
  });
});

describe('the runtime route hears of an update at once', () => {
  test('the provider repository announces the update through its change feed before it returns, and a refused one not at all', async () => {
    const org = anOrganization(vault);
    const { provider } = await aRoute(org);
    const taken = await org.admin.providers.created({ name: uniqueName('taken'), modelProvider: 'ANTHROPIC', oauthPassthrough: true });
    const announced: string[] = [];
    const repository = new ProviderRepository(vault.app.database.prisma, { announce: (table, id) => announced.push(`${table}:${id}`) });
    const entry = {
      organizationId: org.id,
      actor: 'test',
      action: 'provider.updated' as const,
      targetType: 'provider' as const,
      targetId: provider.id,
    };

    await expect(repository.update(org.id, provider.id, 1, { name: taken.name, actor: 'test' }, entry)).rejects.toBeInstanceOf(
      ConflictError,
    );
    const stale = await repository.update(org.id, provider.id, 2, { name: uniqueName('stale'), actor: 'test' }, entry);
    const announcedBeforeWrite = [...announced];
    await repository.update(org.id, provider.id, 1, { name: uniqueName('announced'), actor: 'test' }, entry);

    expect(stale).toBeNull();
    expect(announcedBeforeWrite).toEqual([]);
    expect(announced).toEqual([`providers:${provider.id}`]);
  });
});
