// Providers (routes): createProvider's rules (credential of the same organization and model
// provider, CUSTOM behind OpenAI-compatible routes, Anthropic OAuth passthrough), reading,
// listing and deleting, organization isolation, roles, deleteCredential while providers use the
// credential, the create/delete race, and the database constraints behind all of it.
import { randomUUID } from 'node:crypto';
import { aCredentialInput, apiKeyAuth, awsRoleAuth, googleAdcAuth, type ModelProvider, uniqueName } from '../support/factories';
import { anAdmin, anOrganization, type Organization } from '../support/organizations';
import { aProviderInput, countOrphanProviders, CREDENTIAL_PROVIDERS, type ProviderView } from '../support/provider-client';
import { startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { type CredentialView, dataOf, expectBadUserInput, expectError } from '../support/vault-client';

let database: TestDatabase;
let vault: TestApp;

beforeAll(async () => {
  database = await createTestDatabase('providers');
  vault = await startTestApp({ databaseUrl: database.url });
});

afterAll(async () => {
  await vault?.stop();
  await database?.drop();
});

async function countProviders(where = 'true', params: unknown[] = []): Promise<number> {
  const [row] = await database.query<{ count: number }>(`SELECT count(*)::int AS count FROM providers WHERE ${where}`, params);
  return row.count;
}

async function credentialOf(org: Organization, modelProvider: ModelProvider = 'OPENAI'): Promise<CredentialView> {
  return org.admin.created(aCredentialInput({ modelProvider }));
}

describe('createProvider', () => {
  test("with a credential of the organization and the same model provider returns the provider with the credential's auth type and the credential", async () => {
    const org = anOrganization(vault);
    const credential = await org.admin.created(aCredentialInput({ modelProvider: 'BEDROCK', auth: awsRoleAuth() }));

    const provider = await org.admin.providers.created({ name: 'bedrock-eu', modelProvider: 'BEDROCK', credentialId: credential.id });

    expect(provider).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      organizationId: org.id,
      name: 'bedrock-eu',
      modelProvider: 'BEDROCK',
      authType: 'AWS_ROLE',
      settings: {},
      createdAt: expect.any(String),
      credential: { id: credential.id, name: credential.name, modelProvider: 'BEDROCK', authType: 'AWS_ROLE' },
    });
  });

  test('stores the settings it is given', async () => {
    const org = anOrganization(vault);
    const credential = await credentialOf(org);

    const provider = await org.admin.providers.created(aProviderInput(credential.id, { settings: { model: 'gpt-4o', weight: 3 } }));

    expect(dataOf(await org.admin.providers.get(provider.id)).provider?.settings).toEqual({ model: 'gpt-4o', weight: 3 });
  });

  test('ANTHROPIC with oauthPassthrough: true has authType OAUTH_PASSTHROUGH and no credential', async () => {
    const org = anOrganization(vault);

    const provider = await org.admin.providers.created({ name: 'claude-oauth', modelProvider: 'ANTHROPIC', oauthPassthrough: true });

    expect(provider).toMatchObject({ name: 'claude-oauth', modelProvider: 'ANTHROPIC', authType: 'OAUTH_PASSTHROUGH', credential: null });
  });

  test.each<ModelProvider>(['OPENAI', 'BEDROCK', 'CUSTOM'])(
    'oauthPassthrough for %s is BAD_USER_INPUT on input.oauthPassthrough and stores nothing',
    async (modelProvider) => {
      const org = anOrganization(vault);

      const response = await org.admin.providers.create({ name: 'passthrough', modelProvider, oauthPassthrough: true });

      expectBadUserInput(response, 'input.oauthPassthrough', 'ANTHROPIC');
      expect(await countProviders('organization_id = $1', [org.id])).toBe(0);
    },
  );

  test('both credentialId and oauthPassthrough: true is BAD_USER_INPUT and stores nothing', async () => {
    const org = anOrganization(vault);
    const credential = await credentialOf(org, 'ANTHROPIC');

    const response = await org.admin.providers.create({
      name: 'both',
      modelProvider: 'ANTHROPIC',
      credentialId: credential.id,
      oauthPassthrough: true,
    });

    const errors = response.body.errors ?? [];
    expect(errors.map((error) => error.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    expect(errors[0].extensions?.field).toMatch(/^input\.(credentialId|oauthPassthrough)$/);
    expect(errors[0].message).toMatch(/exactly one/i);
    expect(await countProviders('organization_id = $1', [org.id])).toBe(0);
  });

  test.each<[string, Record<string, unknown>]>([
    ['both omitted', {}],
    ['credentialId null', { credentialId: null }],
    ['oauthPassthrough false', { oauthPassthrough: false }],
  ])('neither credentialId nor oauthPassthrough (%s) is BAD_USER_INPUT on input.credentialId', async (_label, choice) => {
    const org = anOrganization(vault);

    const response = await org.admin.providers.create({ name: 'neither', modelProvider: 'ANTHROPIC', ...choice });

    expectBadUserInput(response, 'input.credentialId');
    expect(await countProviders('organization_id = $1', [org.id])).toBe(0);
  });

  test('a credential of another organization is NOT_FOUND, exactly like an id that names nothing', async () => {
    const owner = anOrganization(vault);
    const stranger = anOrganization(vault);
    const foreign = await credentialOf(owner);
    const missing = randomUUID();

    const foreignResponse = await stranger.admin.providers.create(aProviderInput(foreign.id, { name: 'same-name' }));
    const missingResponse = await stranger.admin.providers.create(aProviderInput(missing, { name: 'same-name' }));

    const foreignError = expectError(foreignResponse, { code: 'NOT_FOUND' });
    const missingError = expectError(missingResponse, { code: 'NOT_FOUND' });
    expect(foreignError.message.replace(foreign.id, '<id>')).toBe(missingError.message.replace(missing, '<id>'));
    expect(await countProviders('organization_id = $1', [stranger.id])).toBe(0);
  });

  test.each(['not-a-uuid', '1234', `${randomUUID()}x`])(
    'a malformed credentialId (%s) is BAD_USER_INPUT on input.credentialId',
    async (credentialId) => {
      const org = anOrganization(vault);

      const response = await org.admin.providers.create(aProviderInput(credentialId));

      expectBadUserInput(response, 'input.credentialId');
    },
  );

  test('an OPENAI credential for an ANTHROPIC provider is BAD_USER_INPUT on input.credentialId and stores nothing', async () => {
    const org = anOrganization(vault);
    const credential = await credentialOf(org, 'OPENAI');

    const response = await org.admin.providers.create(aProviderInput(credential.id, { modelProvider: 'ANTHROPIC' }));

    expectBadUserInput(response, 'input.credentialId');
    expect(await countProviders('organization_id = $1', [org.id])).toBe(0);
  });

  test.each<ModelProvider>(['GROQ', 'OPENAI', 'MISTRAL', 'OPENROUTER'])(
    'a CUSTOM credential may back an OpenAI-compatible %s provider',
    async (modelProvider) => {
      const org = anOrganization(vault);
      const custom = await credentialOf(org, 'CUSTOM');

      const provider = await org.admin.providers.created(aProviderInput(custom.id, { modelProvider }));

      expect(provider).toMatchObject({ modelProvider, authType: 'API_KEY', credential: { id: custom.id, modelProvider: 'CUSTOM' } });
    },
  );

  test.each<ModelProvider>(['ANTHROPIC', 'BEDROCK', 'VERTEX'])(
    'a CUSTOM credential cannot back a %s provider: BAD_USER_INPUT on input.credentialId',
    async (modelProvider) => {
      const org = anOrganization(vault);
      const custom = await credentialOf(org, 'CUSTOM');

      const response = await org.admin.providers.create(aProviderInput(custom.id, { modelProvider }));

      expectBadUserInput(response, 'input.credentialId');
      expect(await countProviders('organization_id = $1', [org.id])).toBe(0);
    },
  );

  test('a GROQ credential cannot back an OPENAI provider (only CUSTOM crosses providers)', async () => {
    const org = anOrganization(vault);
    const groq = await credentialOf(org, 'GROQ');

    const response = await org.admin.providers.create(aProviderInput(groq.id, { modelProvider: 'OPENAI' }));

    expectBadUserInput(response, 'input.credentialId');
  });

  test.each<[ModelProvider, ModelProvider, string]>([
    ['OPENAI', 'ANTHROPIC', 'An OPENAI credential cannot back an ANTHROPIC provider;'],
    ['XAI', 'GROQ', 'An XAI credential cannot back a GROQ provider;'],
    ['GROQ', 'OPENAI', 'A GROQ credential cannot back an OPENAI provider;'],
  ])(
    'a %s credential for a %s provider is refused in a sentence with the right articles',
    async (credentialProvider, modelProvider, sentence) => {
      const org = anOrganization(vault);
      const credential = await credentialOf(org, credentialProvider);

      const response = await org.admin.providers.create(aProviderInput(credential.id, { modelProvider }));

      expectBadUserInput(response, 'input.credentialId', sentence);
    },
  );

  test('a duplicate provider name in the organization is CONFLICT and keeps the first', async () => {
    const org = anOrganization(vault);
    const credential = await credentialOf(org);
    const first = await org.admin.providers.created(aProviderInput(credential.id, { name: 'primary' }));

    const response = await org.admin.providers.create(aProviderInput(credential.id, { name: 'primary' }));

    expectError(response, { code: 'CONFLICT', field: 'input.name', message: 'primary' });
    const rows = await database.query<{ id: string }>('SELECT id FROM providers WHERE organization_id = $1', [org.id]);
    expect(rows.map((row) => row.id)).toEqual([first.id]);
  });

  test('the same provider name may exist in two organizations', async () => {
    const a = anOrganization(vault);
    const b = anOrganization(vault);

    await a.admin.providers.created({ name: 'shared-name', modelProvider: 'ANTHROPIC', oauthPassthrough: true });
    const other = await b.admin.providers.create({ name: 'shared-name', modelProvider: 'ANTHROPIC', oauthPassthrough: true });

    expect(dataOf(other).createProvider.name).toBe('shared-name');
  });

  test('one credential backs many providers, and Credential.providers lists them in creation order', async () => {
    const org = anOrganization(vault);
    const credential = await credentialOf(org, 'VERTEX');
    const other = await org.admin.created(aCredentialInput({ modelProvider: 'VERTEX', auth: googleAdcAuth() }));
    const created: ProviderView[] = [];
    for (const name of ['vertex-a', 'vertex-b', 'vertex-c']) {
      created.push(await org.admin.providers.created({ name, modelProvider: 'VERTEX', credentialId: credential.id }));
    }
    await org.admin.providers.created({ name: 'vertex-other', modelProvider: 'VERTEX', credentialId: other.id });

    const read = dataOf(
      await vault.graphql<{ credential: { providers: { id: string; name: string; authType: string; credential: { id: string } }[] } }>(
        CREDENTIAL_PROVIDERS,
        { id: credential.id },
        { token: org.admin.token },
      ),
    );

    expect(read.credential.providers).toEqual(
      created.map((provider) => ({
        id: provider.id,
        name: provider.name,
        authType: 'GOOGLE_SERVICE_ACCOUNT',
        credential: { id: credential.id },
      })),
    );
  });

  test('a credential no provider uses lists no providers', async () => {
    const org = anOrganization(vault);
    const credential = await credentialOf(org);

    const read = dataOf(
      await vault.graphql<{ credential: { providers: unknown[] } }>(
        CREDENTIAL_PROVIDERS,
        { id: credential.id },
        { token: org.admin.token },
      ),
    );

    expect(read.credential.providers).toEqual([]);
  });

  test('a viewer cannot createProvider: FORBIDDEN, nothing stored', async () => {
    const org = anOrganization(vault);
    const credential = await credentialOf(org);

    const response = await org.viewer.providers.create(aProviderInput(credential.id));

    expectError(response, { code: 'FORBIDDEN' });
    expect(await countProviders('organization_id = $1', [org.id])).toBe(0);
  });
});

describe('reading providers', () => {
  test('provider(id) returns the provider with its credential', async () => {
    const org = anOrganization(vault);
    const credential = await credentialOf(org);
    const created = await org.admin.providers.created(aProviderInput(credential.id));

    const read = dataOf(await org.admin.providers.get(created.id)).provider;

    expect(read).toEqual(created);
  });

  test('a viewer may read a provider', async () => {
    const org = anOrganization(vault);
    const created = await org.admin.providers.created({ name: uniqueName('oauth'), modelProvider: 'ANTHROPIC', oauthPassthrough: true });

    const read = dataOf(await org.viewer.providers.get(created.id)).provider;

    expect(read).toEqual(created);
  });

  test('provider(id) of an id that names nothing is NOT_FOUND', async () => {
    const response = await anAdmin(vault).providers.get(randomUUID());

    expectError(response, { code: 'NOT_FOUND' });
    expect(response.body.data?.provider ?? null).toBeNull();
  });

  test('provider(id) of a malformed id is BAD_USER_INPUT on id', async () => {
    expectBadUserInput(await anAdmin(vault).providers.get('not-a-uuid'), 'id');
  });

  describe('the providers connection', () => {
    let org: Organization;
    let ids: string[];

    beforeAll(async () => {
      org = anOrganization(vault);
      const credential = await credentialOf(org);
      ids = [];
      for (let index = 0; index < 5; index += 1) {
        ids.push((await org.admin.providers.created(aProviderInput(credential.id, { name: `route-${index}` }))).id);
      }
    });

    test('an organization without providers lists nothing', async () => {
      expect(await anAdmin(vault).providers.listed()).toEqual({
        edges: [],
        pageInfo: { hasNextPage: false, endCursor: null },
        totalCount: 0,
      });
    });

    test('lists every provider in creation order with totalCount', async () => {
      const page = await org.admin.providers.listed();

      expect(page.edges.map((edge) => edge.node.id)).toEqual(ids);
      expect(page.totalCount).toBe(5);
      expect(page.pageInfo.hasNextPage).toBe(false);
    });

    test('pages with first/after through every provider exactly once, totalCount on every page', async () => {
      const seen: string[] = [];
      const pages: { size: number; hasNextPage: boolean; totalCount: number }[] = [];
      let after: string | null = null;
      for (let guard = 0; guard < 10; guard += 1) {
        const page = await org.admin.providers.listed({ first: 2, after });
        seen.push(...page.edges.map((edge) => edge.node.id));
        pages.push({ size: page.edges.length, hasNextPage: page.pageInfo.hasNextPage, totalCount: page.totalCount });
        if (!page.pageInfo.hasNextPage) break;
        expect(page.pageInfo.endCursor).toBe(page.edges[page.edges.length - 1].cursor);
        after = page.pageInfo.endCursor;
      }

      expect(seen).toEqual(ids);
      expect(pages).toEqual([
        { size: 2, hasNextPage: true, totalCount: 5 },
        { size: 2, hasNextPage: true, totalCount: 5 },
        { size: 1, hasNextPage: false, totalCount: 5 },
      ]);
    });

    test('first: 0 returns no edges but the totalCount', async () => {
      const page = await org.admin.providers.listed({ first: 0 });

      expect(page.edges).toEqual([]);
      expect(page.totalCount).toBe(5);
    });

    test.each(['garbage', Buffer.from('{"t":"x","i":"y"}').toString('base64url'), ''.padEnd(8, '=')])(
      'a malformed after (%s) is BAD_USER_INPUT on after',
      async (after) => {
        expectBadUserInput(await org.admin.providers.list({ after }), 'after');
      },
    );

    test('a negative first is BAD_USER_INPUT on first', async () => {
      expectBadUserInput(await org.admin.providers.list({ first: -1 }), 'first');
    });
  });
});

describe('deleteProvider', () => {
  test('deletes the provider: then provider(id) and a second deleteProvider are NOT_FOUND', async () => {
    const org = anOrganization(vault);
    const credential = await credentialOf(org);
    const provider = await org.admin.providers.created(aProviderInput(credential.id));

    const deleted = await org.admin.providers.delete(provider.id);

    expect(dataOf(deleted).deleteProvider).toBe(provider.id);
    expectError(await org.admin.providers.get(provider.id), { code: 'NOT_FOUND' });
    expectError(await org.admin.providers.delete(provider.id), { code: 'NOT_FOUND' });
    expect(await countProviders('id = $1', [provider.id])).toBe(0);
  });

  test('deleting one provider leaves the credential and its other providers', async () => {
    const org = anOrganization(vault);
    const credential = await credentialOf(org);
    const keep = await org.admin.providers.created(aProviderInput(credential.id));
    const drop = await org.admin.providers.created(aProviderInput(credential.id));

    dataOf(await org.admin.providers.delete(drop.id));

    const read = dataOf(
      await vault.graphql<{ credential: { providers: { id: string }[] } }>(
        CREDENTIAL_PROVIDERS,
        { id: credential.id },
        { token: org.admin.token },
      ),
    );
    expect(read.credential.providers.map((provider) => provider.id)).toEqual([keep.id]);
  });

  test('an id that names nothing is NOT_FOUND', async () => {
    expectError(await anAdmin(vault).providers.delete(randomUUID()), { code: 'NOT_FOUND' });
  });

  test('a malformed id is BAD_USER_INPUT on id', async () => {
    expectBadUserInput(await anAdmin(vault).providers.delete('nope'), 'id');
  });

  test('a viewer cannot deleteProvider: FORBIDDEN, the provider survives', async () => {
    const org = anOrganization(vault);
    const provider = await org.admin.providers.created({ name: uniqueName('oauth'), modelProvider: 'ANTHROPIC', oauthPassthrough: true });

    expectError(await org.viewer.providers.delete(provider.id), { code: 'FORBIDDEN' });

    expect(await countProviders('id = $1', [provider.id])).toBe(1);
  });
});

describe("another organization's provider behaves as if it did not exist", () => {
  let owner: Organization;
  let stranger: Organization;
  let foreign: ProviderView;

  beforeAll(async () => {
    owner = anOrganization(vault);
    stranger = anOrganization(vault);
    const credential = await credentialOf(owner);
    foreign = await owner.admin.providers.created(aProviderInput(credential.id));
    await stranger.admin.providers.created({ name: uniqueName('own'), modelProvider: 'ANTHROPIC', oauthPassthrough: true });
  });

  test('provider(id) is NOT_FOUND with the same message as an id that names nothing', async () => {
    const missing = randomUUID();

    const foreignError = expectError(await stranger.admin.providers.get(foreign.id), { code: 'NOT_FOUND' });
    const missingError = expectError(await stranger.admin.providers.get(missing), { code: 'NOT_FOUND' });

    expect(foreignError.message.replace(foreign.id, '<id>')).toBe(missingError.message.replace(missing, '<id>'));
  });

  test('the providers list leaves it out, in edges and totalCount', async () => {
    const page = await stranger.admin.providers.listed();

    expect(page.edges.map((edge) => edge.node.id)).not.toContain(foreign.id);
    expect(page.totalCount).toBe(1);
  });

  test('deleteProvider is NOT_FOUND and the provider survives for its owner', async () => {
    expectError(await stranger.admin.providers.delete(foreign.id), { code: 'NOT_FOUND' });

    expect(dataOf(await owner.admin.providers.get(foreign.id)).provider?.id).toBe(foreign.id);
    expect(await countProviders('id = $1', [foreign.id])).toBe(1);
  });
});

describe('deleteCredential while providers use it', () => {
  test('is CONFLICT with extensions.providersInUse listing each provider as { id, name }, oldest first, and keeps the credential', async () => {
    const org = anOrganization(vault);
    const credential = await credentialOf(org);
    const first = await org.admin.providers.created(aProviderInput(credential.id));
    const second = await org.admin.providers.created(aProviderInput(credential.id));
    await org.admin.providers.created({ name: uniqueName('oauth'), modelProvider: 'ANTHROPIC', oauthPassthrough: true });

    const response = await org.admin.delete(credential.id);

    const error = expectError(response, { code: 'CONFLICT' });
    expect(error.message).toMatch(/\b2 providers\b/);
    expect(error.extensions?.providersInUse).toEqual([
      { id: first.id, name: first.name },
      { id: second.id, name: second.name },
    ]);
    expect((await org.admin.read(credential.id)).id).toBe(credential.id);
  });

  test('with one provider the message says 1 provider, names it and advises repointing it with updateProvider or deleting it', async () => {
    const org = anOrganization(vault);
    const credential = await credentialOf(org);
    const provider = await org.admin.providers.created(aProviderInput(credential.id));

    const error = expectError(await org.admin.delete(credential.id), { code: 'CONFLICT' });

    expect(error.message).toMatch(/\b1 provider\b/);
    expect(error.message).toContain(`"${provider.name}" ${provider.id}`);
    expect(error.message).toMatch(/Repoint those providers .*updateProvider.* or delete them/);
    expect(error.extensions?.providersInUse).toEqual([{ id: provider.id, name: provider.name }]);
  });

  test('succeeds once its providers are repointed with updateProvider, which the CONFLICT advised', async () => {
    const org = anOrganization(vault);
    const credential = await credentialOf(org);
    const replacement = await credentialOf(org);
    const provider = await org.admin.providers.created(aProviderInput(credential.id));
    const refused = expectError(await org.admin.delete(credential.id), { code: 'CONFLICT' });

    for (const { id } of refused.extensions?.providersInUse as { id: string }[]) {
      await org.admin.providers.updated(id, { credentialId: replacement.id });
    }

    expect(dataOf(await org.admin.delete(credential.id)).deleteCredential).toBe(credential.id);
    expect(dataOf(await org.admin.providers.get(provider.id)).provider?.credential?.id).toBe(replacement.id);
  });

  test('succeeds once its providers are deleted, and the credential is then NOT_FOUND', async () => {
    const org = anOrganization(vault);
    const credential = await credentialOf(org);
    const providers = [
      await org.admin.providers.created(aProviderInput(credential.id)),
      await org.admin.providers.created(aProviderInput(credential.id)),
    ];
    expectError(await org.admin.delete(credential.id), { code: 'CONFLICT' });

    for (const provider of providers) dataOf(await org.admin.providers.delete(provider.id));
    const deleted = await org.admin.delete(credential.id);

    expect(dataOf(deleted).deleteCredential).toBe(credential.id);
    expectError(await org.admin.get(credential.id), { code: 'NOT_FOUND' });
  });

  test('an OAuth passthrough provider does not hold any credential', async () => {
    const org = anOrganization(vault);
    const credential = await credentialOf(org, 'ANTHROPIC');
    await org.admin.providers.created({ name: uniqueName('oauth'), modelProvider: 'ANTHROPIC', oauthPassthrough: true });

    expect(dataOf(await org.admin.delete(credential.id)).deleteCredential).toBe(credential.id);
  });
});

describe('createProvider racing deleteCredential', () => {
  const ROUNDS = 20;

  test(`over ${ROUNDS} rounds no provider ever points at a missing credential`, async () => {
    const org = anOrganization(vault);
    for (let round = 0; round < ROUNDS; round += 1) {
      const credential = await org.admin.created(aCredentialInput({ modelProvider: 'OPENAI', auth: apiKeyAuth() }));
      const name = `race-${round}`;

      // Alternate which request leaves first, so that both sides get to win some rounds.
      const startCreate = () => org.admin.providers.create(aProviderInput(credential.id, { name }));
      const startDelete = () => org.admin.delete(credential.id);
      const [created, deleted] =
        round % 2 === 0
          ? await Promise.all([startCreate(), startDelete()])
          : await Promise.all([startDelete(), startCreate()]).then(([d, c]) => [c, d] as const);

      const codeOf = (response: typeof created | typeof deleted) =>
        response.body.errors ? response.body.errors.map((error) => error.extensions?.code).join(',') : 'ok';
      const [{ count: credentialRows }] = await database.query<{ count: number }>(
        'SELECT count(*)::int AS count FROM credentials WHERE id = $1',
        [credential.id],
      );
      const pointing = await database.query<{ credential_id: string }>(
        'SELECT credential_id FROM providers WHERE organization_id = $1 AND name = $2',
        [org.id, name],
      );
      const outcome = {
        round,
        create: codeOf(created),
        delete: codeOf(deleted),
        credentialExists: credentialRows === 1,
        providerCredentialIds: pointing.map((row) => row.credential_id),
        createdPointsAtCredential: created.body.data?.createProvider?.credential?.id === credential.id,
      };
      const providerWon = {
        round,
        create: 'ok',
        delete: 'CONFLICT',
        credentialExists: true,
        providerCredentialIds: [credential.id],
        createdPointsAtCredential: true,
      };
      const deleteWon = {
        round,
        create: 'NOT_FOUND',
        delete: 'ok',
        credentialExists: false,
        providerCredentialIds: [],
        createdPointsAtCredential: false,
      };
      // Which side wins is up to the scheduler; one of these two is all that may ever happen.
      expect([providerWon, deleteWon]).toContainEqual(outcome);
      expect(await countOrphanProviders(database)).toBe(0);
    }
  });
});

describe('the database enforces the provider rules itself', () => {
  let orgA: string;
  let orgB: string;
  let credentialOfA: string;

  beforeAll(async () => {
    const a = anOrganization(vault);
    orgA = a.id;
    orgB = randomUUID();
    credentialOfA = (await credentialOf(a)).id;
  });

  const insertProvider = (organizationId: string, credentialId: string | null, oauthPassthrough: boolean) =>
    database.query(
      `INSERT INTO providers (id, organization_id, name, model_provider, credential_id, oauth_passthrough, created_by)
       VALUES ($1, $2, $3, 'openai', $4, $5, 'sql-test')`,
      [randomUUID(), organizationId, uniqueName('sql'), credentialId, oauthPassthrough],
    );

  test('a row with a credential of its own organization is accepted (the statement below is valid)', async () => {
    await expect(insertProvider(orgA, credentialOfA, false)).resolves.toEqual([]);
  });

  test('a row with a credential of another organization fails the composite foreign key', async () => {
    await expect(insertProvider(orgB, credentialOfA, false)).rejects.toMatchObject({ code: '23503' });
  });

  test('a row naming no credential row at all fails the foreign key', async () => {
    await expect(insertProvider(orgA, randomUUID(), false)).rejects.toMatchObject({ code: '23503' });
  });

  test('a row with both a credential and oauth_passthrough fails the CHECK', async () => {
    await expect(insertProvider(orgA, credentialOfA, true)).rejects.toMatchObject({ code: '23514' });
  });

  test('a row with neither a credential nor oauth_passthrough fails the CHECK', async () => {
    await expect(insertProvider(orgA, null, false)).rejects.toMatchObject({ code: '23514' });
  });

  test('deleting a credential row that a provider uses fails (ON DELETE RESTRICT)', async () => {
    const org = anOrganization(vault);
    const credential = await credentialOf(org);
    await org.admin.providers.created(aProviderInput(credential.id));

    await expect(database.query('DELETE FROM credentials WHERE id = $1', [credential.id])).rejects.toMatchObject({ code: '23503' });
  });
});
