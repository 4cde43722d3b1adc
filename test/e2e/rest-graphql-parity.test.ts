// REST is a second door into the same services: a connection written through REST and a
// credential written through GraphQL with the equivalent input are the same stored row (and
// the same sealed secret once opened), for every auth type, for updates and rotations; a secret
// written through one door rotates through the other; and a provider changed through PUT
// /admin/providers/{id} is the same stored row as one changed through updateProvider.
//
// Rows are compared column by column except what must differ between two writes: the id, the
// name (unique per organization), the timestamps and the sealed bytes (fresh data key and nonce
// on every seal: compared as present or null). A generated AWS external id is random: its
// presence is compared, not its value.
import { randomUUID } from 'node:crypto';
import {
  anApiKey,
  DEFAULT_GOOGLE_TOKEN_URI,
  hex,
  sharedRsaPrivateKeyPem,
  TEST_PROJECT_ID,
  TEST_ROLE_ARN,
  uniqueName,
} from '../support/factories';
import { type ConnectionJson, okBody, restRequest } from '../support/rest-client';
import { startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { clientWithToken, dataOf, openSecret, type VaultClient } from '../support/vault-client';

type Json = Record<string, unknown>;

/**
 * The columns every write renews (name_key is generated from the name, seq is the row's place in
 * insertion order), and the sealed bytes (compared as present or null).
 */
const RENEWED_COLUMNS = ['id', 'name', 'name_key', 'created_at', 'updated_at', 'secret_rotated_at', 'seq'];
const SEALED_BYTES = ['secret_ciphertext', 'secret_nonce', 'secret_wrapped_key'];
const ACTOR = 'parity-admin';

let database: TestDatabase;
let vault: TestApp;
let orgId: string;
let token: string;
let graphql: VaultClient;

beforeAll(async () => {
  database = await createTestDatabase('rest_graphql_parity');
  vault = await startTestApp({ databaseUrl: database.url });
  orgId = randomUUID();
  token = vault.token({ orgId, roles: ['admin'], sub: ACTOR });
  graphql = clientWithToken(vault, token);
});

afterAll(async () => {
  await vault?.stop();
  await database?.drop();
});

// ---------------------------------------------------------------------------------------------
// The two doors

async function restCreated(body: Json): Promise<string> {
  const response = await restRequest<ConnectionJson>(vault, 'POST', '/connections', { token, body: { name: uniqueName('rest'), ...body } });
  return okBody(response).id;
}

async function graphqlCreated(input: Json): Promise<string> {
  return dataOf(await graphql.create({ name: uniqueName('graphql'), ...input })).createCredential.id;
}

async function restUpdated(id: string, body: Json): Promise<void> {
  okBody(await restRequest<ConnectionJson>(vault, 'PUT', `/connections/${id}`, { token, body }));
}

async function graphqlUpdated(id: string, input: Json): Promise<void> {
  dataOf(await graphql.update(id, input));
}

// ---------------------------------------------------------------------------------------------
// What is stored

async function rowOf(id: string): Promise<Json> {
  const [row] = await database.query<Json>('SELECT * FROM credentials WHERE id = $1', [id]);
  if (!row) throw new Error(`no credentials row ${id}`);
  return row;
}

/** The row without what two writes never share; sealed bytes and a generated external id as their presence. */
function comparable(row: Json): Json {
  const kept = Object.fromEntries(Object.entries(row).filter(([column]) => !RENEWED_COLUMNS.includes(column)));
  for (const column of SEALED_BYTES) kept[column] = row[column] === null ? null : '<sealed>';
  const authParameters = { ...(row.auth_parameters as Json) };
  if (typeof authParameters.generatedExternalId === 'string') authParameters.generatedExternalId = '<generated>';
  kept.auth_parameters = authParameters;
  return kept;
}

/** The opened secret, a generated external id masked as above. */
async function openedSecretOf(id: string): Promise<unknown> {
  const opened = await openSecret(vault, orgId, id);
  if (!opened) throw new Error(`no secret for ${id}`);
  const generated = ((await rowOf(id)).auth_parameters as Json).generatedExternalId;
  const payload = opened.payload as Json | null;
  if (payload && typeof generated === 'string' && payload.externalId === generated) {
    return { ...opened, payload: { ...payload, externalId: '<generated>' } };
  }
  return opened;
}

// ---------------------------------------------------------------------------------------------
// Equivalent inputs

interface Pair {
  rest: Json;
  graphql: Json;
}

function aServiceAccountKeyFile(): Json {
  const clientEmail = `vault-${hex(3)}@${TEST_PROJECT_ID}.iam.gserviceaccount.com`;
  return {
    type: 'service_account',
    project_id: TEST_PROJECT_ID,
    private_key_id: hex(20),
    private_key: sharedRsaPrivateKeyPem(),
    client_email: clientEmail,
    client_id: '104857600123456789012',
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: DEFAULT_GOOGLE_TOKEN_URI,
    auth_provider_x509_cert_url: 'https://www.googleapis.com/oauth2/v1/certs',
    client_x509_cert_url: `https://www.googleapis.com/robot/v1/metadata/x509/${encodeURIComponent(clientEmail)}`,
    universe_domain: 'googleapis.com',
  };
}

/** GraphQL's GoogleServiceAccountInput with the fields of a key file. */
function serviceAccountFields(keyFile: Json): Json {
  return {
    clientEmail: keyFile.client_email,
    privateKey: keyFile.private_key,
    privateKeyId: keyFile.private_key_id,
    projectId: keyFile.project_id,
    clientId: keyFile.client_id,
    tokenUri: keyFile.token_uri,
  };
}

const serviceAccountEmail = () => `gateway-${hex(3)}@${TEST_PROJECT_ID}.iam.gserviceaccount.com`;
const accessKeyId = () => `AKIA${hex(8).toUpperCase()}`;

/** One equivalent create per auth type: the REST body and the GraphQL input (names are added by the doors). */
const CREATES: [string, () => Pair][] = [
  [
    'api_key (openai)',
    () => {
      const apiKey = anApiKey();
      return {
        rest: { model_provider: 'openai', api_key: apiKey, settings: { organization: 'org-parity' }, change_note: 'parity' },
        graphql: { modelProvider: 'OPENAI', auth: { apiKey: { apiKey } }, settings: { organization: 'org-parity' }, changeNote: 'parity' },
      };
    },
  ],
  [
    'aws_role (bedrock) with an external id',
    () => {
      const externalId = `ext-${hex(8)}`;
      return {
        rest: {
          model_provider: 'bedrock',
          auth_type: 'aws_role',
          credentials: { iam_role_arn: TEST_ROLE_ARN, external_id: externalId },
          settings: { region: 'us-west-2' },
          change_note: 'parity',
        },
        graphql: {
          modelProvider: 'BEDROCK',
          auth: { awsRole: { iamRoleArn: TEST_ROLE_ARN, externalId } },
          settings: { region: 'us-west-2' },
          changeNote: 'parity',
        },
      };
    },
  ],
  [
    'aws_role (bedrock) with the role given in REST settings',
    () => {
      const externalId = `ext-${hex(8)}`;
      return {
        rest: {
          model_provider: 'bedrock',
          auth_type: 'aws_role',
          settings: { region: 'us-west-2', iam_role_arn: TEST_ROLE_ARN, external_id: externalId },
        },
        graphql: {
          modelProvider: 'BEDROCK',
          auth: { awsRole: { iamRoleArn: TEST_ROLE_ARN, externalId } },
          settings: { region: 'us-west-2' },
        },
      };
    },
  ],
  [
    'aws_role (bedrock) with a generated external id',
    () => ({
      rest: { model_provider: 'bedrock', auth_type: 'aws_role', credentials: { iam_role_arn: TEST_ROLE_ARN } },
      graphql: { modelProvider: 'BEDROCK', auth: { awsRole: { iamRoleArn: TEST_ROLE_ARN } } },
    }),
  ],
  [
    'aws_keys (bedrock)',
    () => {
      const keys = { id: accessKeyId(), secret: hex(20), session: `session-${hex(12)}` };
      return {
        rest: {
          model_provider: 'bedrock',
          auth_type: 'aws_keys',
          credentials: { access_key_id: keys.id, secret_access_key: keys.secret, session_token: keys.session },
          settings: { region: 'eu-central-1' },
        },
        graphql: {
          modelProvider: 'BEDROCK',
          auth: { awsKeys: { accessKeyId: keys.id, secretAccessKey: keys.secret, sessionToken: keys.session } },
          settings: { region: 'eu-central-1' },
        },
      };
    },
  ],
  [
    'google_service_account: REST key file JSON, GraphQL fields',
    () => {
      const keyFile = aServiceAccountKeyFile();
      const settings = { project_id: TEST_PROJECT_ID, location: 'europe-west4' };
      return {
        rest: { model_provider: 'vertex', auth_type: 'google_service_account', credentials: keyFile, settings },
        graphql: { modelProvider: 'VERTEX', auth: { googleServiceAccount: serviceAccountFields(keyFile) }, settings },
      };
    },
  ],
  [
    'google_service_account: REST key file JSON, GraphQL googleServiceAccountKeyFile string',
    () => {
      const keyFile = aServiceAccountKeyFile();
      const settings = { project_id: TEST_PROJECT_ID, location: 'europe-west4' };
      return {
        rest: { model_provider: 'vertex', auth_type: 'google_service_account', credentials: keyFile, settings },
        graphql: { modelProvider: 'VERTEX', auth: { googleServiceAccountKeyFile: JSON.stringify(keyFile) }, settings },
      };
    },
  ],
  [
    'google_impersonation (vertex)',
    () => {
      const target = serviceAccountEmail();
      const delegate = serviceAccountEmail();
      return {
        rest: {
          model_provider: 'vertex',
          auth_type: 'google_impersonation',
          credentials: { target_service_account: target, delegates: [delegate] },
          settings: { location: 'us-east5' },
        },
        graphql: {
          modelProvider: 'VERTEX',
          auth: { googleImpersonation: { targetPrincipal: target, delegates: [delegate] } },
          settings: { location: 'us-east5' },
        },
      };
    },
  ],
  [
    'google_adc (vertex) with a quota project',
    () => ({
      rest: {
        model_provider: 'vertex',
        auth_type: 'google_adc',
        settings: { location: 'europe-west4', quota_project_id: 'quota-project-1' },
      },
      graphql: {
        modelProvider: 'VERTEX',
        auth: { googleAdc: { quotaProjectId: 'quota-project-1' } },
        settings: { location: 'europe-west4' },
      },
    }),
  ],
];

describe('create: the same input through each door stores the same credential', () => {
  test.each(CREATES)('%s: the same row', async (_label, pair) => {
    const { rest, graphql: input } = pair();

    const [restId, graphqlId] = [await restCreated(rest), await graphqlCreated(input)];

    const restRow = await rowOf(restId);
    expect(comparable(restRow)).toEqual(comparable(await rowOf(graphqlId)));
    expect(restRow).toMatchObject({ created_by: ACTOR, updated_by: ACTOR, revision: 1, secret_version: 1 });
  });

  test.each(CREATES)('%s: the same sealed secret', async (_label, pair) => {
    const { rest, graphql: input } = pair();

    const [restId, graphqlId] = [await restCreated(rest), await graphqlCreated(input)];

    expect(await openedSecretOf(restId)).toEqual(await openedSecretOf(graphqlId));
  });
});

// ---------------------------------------------------------------------------------------------
// Updates: both credentials start identical (created through GraphQL); one is updated through
// REST, the other through GraphQL with the equivalent input.

interface UpdateCase {
  /** The GraphQL input both credentials are created with. */
  create: () => Json;
  /** The equivalent updates. */
  update: () => Pair;
}

const UPDATES: [string, UpdateCase][] = [
  [
    'a rename with a settings change and a note',
    {
      create: () => ({ modelProvider: 'OPENAI', auth: { apiKey: { apiKey: anApiKey() } }, settings: { organization: 'org-one' } }),
      // REST merges settings over the stored ones; GraphQL replaces them.
      update: () => ({
        rest: { name: uniqueName('renamed-rest'), settings: { project: 'proj-two' }, change_note: 'renamed' },
        graphql: { name: uniqueName('renamed-graphql'), settings: { organization: 'org-one', project: 'proj-two' }, changeNote: 'renamed' },
      }),
    },
  ],
  [
    'an api_key rotation',
    {
      create: () => ({ modelProvider: 'OPENAI', auth: { apiKey: { apiKey: anApiKey() } }, changeNote: 'cleared by the rotation' }),
      update: () => {
        const apiKey = anApiKey();
        return { rest: { api_key: apiKey }, graphql: { auth: { apiKey: { apiKey } } } };
      },
    },
  ],
  [
    'an aws_keys rotation',
    {
      create: () => ({ modelProvider: 'BEDROCK', auth: { awsKeys: { accessKeyId: accessKeyId(), secretAccessKey: hex(20) } } }),
      update: () => {
        const keys = { id: accessKeyId(), secret: hex(20) };
        return {
          rest: { credentials: { access_key_id: keys.id, secret_access_key: keys.secret } },
          graphql: { auth: { awsKeys: { accessKeyId: keys.id, secretAccessKey: keys.secret } } },
        };
      },
    },
  ],
  [
    'an aws_role rotation keeping the generated external id',
    {
      create: () => ({ modelProvider: 'BEDROCK', auth: { awsRole: { iamRoleArn: TEST_ROLE_ARN } } }),
      update: () => {
        const iamRoleArn = `arn:aws:iam::123456789012:role/rotated-${hex(3)}`;
        return { rest: { credentials: { iam_role_arn: iamRoleArn } }, graphql: { auth: { awsRole: { iamRoleArn } } } };
      },
    },
  ],
  [
    'a google_service_account rotation (REST key file JSON, GraphQL fields)',
    {
      create: () => ({ modelProvider: 'VERTEX', auth: { googleServiceAccount: serviceAccountFields(aServiceAccountKeyFile()) } }),
      update: () => {
        const keyFile = aServiceAccountKeyFile();
        return { rest: { credentials: keyFile }, graphql: { auth: { googleServiceAccount: serviceAccountFields(keyFile) } } };
      },
    },
  ],
  [
    'a google_impersonation rotation',
    {
      create: () => ({ modelProvider: 'VERTEX', auth: { googleImpersonation: { targetPrincipal: serviceAccountEmail() } } }),
      update: () => {
        const target = serviceAccountEmail();
        return {
          rest: { credentials: { target_service_account: target } },
          graphql: { auth: { googleImpersonation: { targetPrincipal: target } } },
        };
      },
    },
  ],
  [
    'a change of auth type (aws_role to aws_keys)',
    {
      create: () => ({ modelProvider: 'BEDROCK', auth: { awsRole: { iamRoleArn: TEST_ROLE_ARN, externalId: `ext-${hex(8)}` } } }),
      update: () => {
        const keys = { id: accessKeyId(), secret: hex(20) };
        return {
          rest: { auth_type: 'aws_keys', credentials: { access_key_id: keys.id, secret_access_key: keys.secret } },
          graphql: { auth: { awsKeys: { accessKeyId: keys.id, secretAccessKey: keys.secret } } },
        };
      },
    },
  ],
  [
    'a quota project change (google_adc)',
    {
      create: () => ({ modelProvider: 'VERTEX', auth: { googleAdc: { quotaProjectId: 'quota-project-1' } } }),
      update: () => ({
        rest: { auth_type: 'google_adc', settings: { quota_project_id: 'quota-project-2' } },
        graphql: { auth: { googleAdc: { quotaProjectId: 'quota-project-2' } } },
      }),
    },
  ],
];

describe('update: the same change through each door stores the same credential', () => {
  test.each(UPDATES)('%s: the same row', async (_label, { create, update }) => {
    const start = create();
    const [restId, graphqlId] = [await graphqlCreated(start), await graphqlCreated(start)];
    const { rest, graphql: input } = update();

    await restUpdated(restId, rest);
    await graphqlUpdated(graphqlId, input);

    const restRow = await rowOf(restId);
    expect(comparable(restRow)).toEqual(comparable(await rowOf(graphqlId)));
    expect(restRow.revision).toBe(2);
  });

  test.each(UPDATES)('%s: the same sealed secret', async (_label, { create, update }) => {
    const start = create();
    const [restId, graphqlId] = [await graphqlCreated(start), await graphqlCreated(start)];
    const { rest, graphql: input } = update();

    await restUpdated(restId, rest);
    await graphqlUpdated(graphqlId, input);

    expect(await openedSecretOf(restId)).toEqual(await openedSecretOf(graphqlId));
  });
});

// ---------------------------------------------------------------------------------------------
// Across the doors: a secret written through one is rotated through the other.

describe('a secret written through one door rotates through the other', () => {
  test('an api_key created through REST rotates through GraphQL updateCredential', async () => {
    const id = await restCreated({ model_provider: 'openai', api_key: anApiKey() });
    const rotated = anApiKey();

    await graphqlUpdated(id, { auth: { apiKey: { apiKey: rotated } } });

    expect(await openSecret(vault, orgId, id)).toEqual({ authType: 'API_KEY', payload: { apiKey: rotated }, secretVersion: 2 });
    expect(await rowOf(id)).toMatchObject({ secret_version: 2, key_last4: rotated.slice(-4) });
  });

  test('an api_key created through GraphQL rotates through REST PUT', async () => {
    const id = await graphqlCreated({ modelProvider: 'OPENAI', auth: { apiKey: { apiKey: anApiKey() } } });
    const rotated = anApiKey();

    await restUpdated(id, { api_key: rotated });

    expect(await openSecret(vault, orgId, id)).toEqual({ authType: 'API_KEY', payload: { apiKey: rotated }, secretVersion: 2 });
    expect(await rowOf(id)).toMatchObject({ secret_version: 2, key_last4: rotated.slice(-4) });
  });

  test('an aws_role created through REST (generated external id) rotates through GraphQL, keeping its external id', async () => {
    const id = await restCreated({ model_provider: 'bedrock', auth_type: 'aws_role', credentials: { iam_role_arn: TEST_ROLE_ARN } });
    const generated = ((await rowOf(id)).auth_parameters as Json).generatedExternalId;
    const iamRoleArn = `arn:aws:iam::123456789012:role/rotated-${hex(3)}`;

    await graphqlUpdated(id, { auth: { awsRole: { iamRoleArn } } });

    expect(typeof generated).toBe('string');
    expect(await openSecret(vault, orgId, id)).toEqual({
      authType: 'AWS_ROLE',
      payload: { iamRoleArn, externalId: generated },
      secretVersion: 2,
    });
    expect(await rowOf(id)).toMatchObject({ secret_version: 2, auth_parameters: { generatedExternalId: generated } });
  });

  test('an aws_role created through GraphQL (generated external id) rotates through REST, keeping its external id', async () => {
    const id = await graphqlCreated({ modelProvider: 'BEDROCK', auth: { awsRole: { iamRoleArn: TEST_ROLE_ARN } } });
    const generated = ((await rowOf(id)).auth_parameters as Json).generatedExternalId;
    const iamRoleArn = `arn:aws:iam::123456789012:role/rotated-${hex(3)}`;

    await restUpdated(id, { credentials: { iam_role_arn: iamRoleArn } });

    expect(typeof generated).toBe('string');
    expect(await openSecret(vault, orgId, id)).toEqual({
      authType: 'AWS_ROLE',
      payload: { iamRoleArn, externalId: generated },
      secretVersion: 2,
    });
    expect(await rowOf(id)).toMatchObject({ secret_version: 2, auth_parameters: { generatedExternalId: generated } });
  });

  test('a google_service_account created through GraphQL (key file string) rotates through REST (key file JSON)', async () => {
    const id = await graphqlCreated({
      modelProvider: 'VERTEX',
      auth: { googleServiceAccountKeyFile: JSON.stringify(aServiceAccountKeyFile()) },
    });
    const keyFile = aServiceAccountKeyFile();

    await restUpdated(id, { credentials: keyFile });

    expect(await openSecret(vault, orgId, id)).toEqual({
      authType: 'GOOGLE_SERVICE_ACCOUNT',
      payload: serviceAccountFields(keyFile),
      secretVersion: 2,
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Providers: both start identical (created through GraphQL); one is changed through REST PUT, the
// other through GraphQL updateProvider with the equivalent input.

async function providerRowOf(id: string): Promise<Json> {
  const [row] = await database.query<Json>('SELECT * FROM providers WHERE id = $1', [id]);
  if (!row) throw new Error(`no providers row ${id}`);
  return row;
}

/** The provider row without what two writes never share. */
function comparableProvider(row: Json): Json {
  return Object.fromEntries(Object.entries(row).filter(([column]) => !RENEWED_COLUMNS.includes(column)));
}

async function graphqlCreatedProvider(input: Json): Promise<string> {
  const response = await vault.graphql<{ createProvider: { id: string } }>(
    'mutation Create($input: CreateProviderInput!) { createProvider(input: $input) { id } }',
    { input: { name: uniqueName('route'), ...input } },
    { token },
  );
  return dataOf(response).createProvider.id;
}

interface ProviderUpdateCase {
  /** The GraphQL input both providers are created with, given the two credentials of the case. */
  create: (credentials: { anthropic: string; other: string }) => Json;
  /** The equivalent updates. */
  update: (credentials: { anthropic: string; other: string }) => Pair;
}

const PROVIDER_UPDATES: [string, ProviderUpdateCase][] = [
  [
    'a rename with a settings change',
    {
      create: ({ anthropic }) => ({ modelProvider: 'ANTHROPIC', credentialId: anthropic, settings: { model: 'claude-sonnet' } }),
      // REST merges settings over the stored ones; GraphQL replaces them.
      update: () => ({
        rest: { name: uniqueName('renamed-rest'), settings: { weight: 2 } },
        graphql: { name: uniqueName('renamed-graphql'), settings: { model: 'claude-sonnet', weight: 2 } },
      }),
    },
  ],
  [
    'a repoint to another credential',
    {
      create: ({ anthropic }) => ({ modelProvider: 'ANTHROPIC', credentialId: anthropic }),
      update: ({ other }) => ({ rest: { connection_id: other }, graphql: { credentialId: other } }),
    },
  ],
  [
    'a switch to OAuth passthrough',
    {
      create: ({ anthropic }) => ({ modelProvider: 'ANTHROPIC', credentialId: anthropic }),
      update: () => ({ rest: { auth_type: 'oauth_passthrough' }, graphql: { oauthPassthrough: true } }),
    },
  ],
];

describe('provider update: the same change through each door stores the same provider', () => {
  test.each(PROVIDER_UPDATES)('%s: the same row', async (_label, { create, update }) => {
    const credentials = {
      anthropic: await graphqlCreated({ modelProvider: 'ANTHROPIC', auth: { apiKey: { apiKey: anApiKey() } } }),
      other: await graphqlCreated({ modelProvider: 'ANTHROPIC', auth: { apiKey: { apiKey: anApiKey() } } }),
    };
    const [restId, graphqlId] = [await graphqlCreatedProvider(create(credentials)), await graphqlCreatedProvider(create(credentials))];
    const { rest, graphql: input } = update(credentials);

    okBody(await restRequest(vault, 'PUT', `/providers/${restId}`, { token, body: rest }));
    dataOf(
      await vault.graphql(
        'mutation Update($id: ID!, $input: UpdateProviderInput!) { updateProvider(id: $id, input: $input) { id } }',
        {
          id: graphqlId,
          input,
        },
        { token },
      ),
    );

    const restRow = await providerRowOf(restId);
    expect(comparableProvider(restRow)).toEqual(comparableProvider(await providerRowOf(graphqlId)));
    expect(restRow).toMatchObject({ created_by: ACTOR, updated_by: ACTOR, revision: 2 });
  });
});
