// The runtime route may hand a secret to the gateway, and only there: canary secrets (API keys, AWS
// key pairs, role ARNs and external ids, service-account private keys and emails) are stored, then
// resolved through the runtime route (successes, and every kind of refusal and upstream failure),
// while the admin surfaces read them back. Then every log line, every runtime error answer, every
// runtime header, every GraphQL and REST admin answer and every table of the database is searched
// for them (as is, hex, base64), together with the credentials the fake STS and the fake Google
// issued. A secret the gateway needs (an API key, a minted credential) may appear only in the
// runtime route's 200 bodies; what the gateway never needs (a long-lived AWS key pair, a private
// key, a role ARN, an external id) appears nowhere at all. The last tests prove the search sees.
import { randomUUID } from 'node:crypto';
import type { FakeGoogleCloud, FakeServiceAccount } from '../fakes/fake-google-cloud';
import type { FakeSts } from '../fakes/fake-sts-server';
import {
  accessKeyIdCanary,
  apiKeyCanary,
  type Canary,
  canary,
  dumpDatabase,
  emailCanary,
  findCanaries,
  findCanariesInFiles,
  type Haystack,
  logHaystacks,
  pemNeedle,
  privateKeyCanary,
  roleArnCanary,
  secretNeedle,
  Transcript,
} from '../support/canaries';
import { type CloudFakes, issuedCredentials, startCloudFakes } from '../support/cloud-fakes';
import { aCredentialInput, type CredentialAuthInput, hex, type ModelProvider, TEST_PROJECT_ID } from '../support/factories';
import { anOrganization, type Member } from '../support/organizations';
import { aProviderInput, LIST_PROVIDERS } from '../support/provider-client';
import { REST_PREFIXES, restClient } from '../support/rest-client';
import { runtimeClient, type RuntimeClient, type RuntimeExchange } from '../support/runtime-client';
import { startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { CREDENTIAL_FIELDS, dataOf, LIST_CREDENTIALS } from '../support/vault-client';

const REGION = 'us-east-1';

let database: TestDatabase;
let sts: FakeSts;
let google: FakeGoogleCloud;
let vault: TestApp;
let adcAccount: FakeServiceAccount;
let fakes: CloudFakes;

/** Secrets the gateway is given by the runtime route: allowed in its 200 bodies, nowhere else. */
const forTheGateway: Canary[] = [];
/** Secrets nobody outside the vault (and the cloud they belong to) ever sees, the gateway included. */
const neverOut: Canary[] = [];
/** Every runtime exchange. */
const runtimeExchanges: RuntimeExchange[] = [];
/** Every GraphQL and REST admin answer. */
const admin = new Transcript();
/** Each request of the exercise: the statuses it should get, and the one it got. */
const outcomes: Array<{ request: number; expected: number[]; got: number }> = [];

async function outcome(expected: number | number[], response: Promise<{ status: number }>): Promise<void> {
  const { status } = await response;
  outcomes.push({ request: outcomes.length, expected: Array.isArray(expected) ? expected : [expected], got: status });
}

/** The Google identities the gateway got a token of. */
const googlePrincipals: string[] = [];

function gatewaySecret<T extends Canary>(value: T): T {
  forTheGateway.push(value);
  return value;
}

function hidden<T extends Canary>(value: T): T {
  neverOut.push(value);
  return value;
}

const runtimeOk = () => runtimeExchanges.filter((exchange) => exchange.status === 200);
const runtimeRefused = () => runtimeExchanges.filter((exchange) => exchange.status !== 200);

function haystacksOf(exchanges: RuntimeExchange[], part: 'body' | 'headers' | 'both'): Haystack[] {
  return exchanges.map((exchange) => ({
    source: `runtime ${exchange.status} ${exchange.label}`,
    text: [part !== 'body' ? JSON.stringify(exchange.headers) : '', part !== 'headers' ? exchange.text : ''].join('\n'),
  }));
}

interface Stored {
  member: Member;
  runtime: RuntimeClient;
  credentialId: string;
  providerId: string;
}

/** Stores a credential of `modelProvider` with `auth`, and a provider on it; its reads go to the transcript. */
async function stored(member: Member, modelProvider: ModelProvider, auth: CredentialAuthInput): Promise<Stored> {
  const response = await admin.graphql<{ createCredential: { id: string } }>(
    vault,
    'createCredential',
    `mutation($input: CreateCredentialInput!) { createCredential(input: $input) { ${CREDENTIAL_FIELDS} } }`,
    { input: aCredentialInput({ modelProvider, auth, ...(modelProvider === 'BEDROCK' ? { settings: { region: REGION } } : {}) }) },
    member.token,
  );
  const credentialId = dataOf(response).createCredential.id;
  const provider = await member.providers.created(aProviderInput(credentialId, { modelProvider }));
  return {
    member,
    runtime: runtimeClient(vault, member.orgId, { record: (exchange) => runtimeExchanges.push(exchange) }),
    credentialId,
    providerId: provider.id,
  };
}

beforeAll(async () => {
  database = await createTestDatabase('runtime_leak_scan');
  fakes = await startCloudFakes({ stsRegion: REGION, appRegion: REGION });
  ({ sts, google, adcAccount } = fakes);
  hidden(pemNeedle('ADC private key', adcAccount.privateKeyPem));
  vault = await startTestApp({ databaseUrl: database.url, env: fakes.env });
});

afterAll(async () => {
  await vault?.stop();
  await fakes?.close();
  await database?.drop();
});

describe('secrets leave the vault only in the runtime route’s 200 bodies', () => {
  beforeAll(async () => {
    const org = anOrganization(vault);
    const stranger = runtimeClient(vault, randomUUID(), { record: (exchange) => runtimeExchanges.push(exchange) });
    const credentials: Stored[] = [];

    // API keys, one per header style.
    for (const [modelProvider, member] of [
      ['OPENAI', 'apiKey'],
      ['ANTHROPIC', 'apiKey'],
      ['AZURE_OPENAI', 'apiKey'],
      ['GOOGLE_AI', 'apiKey'],
      ['BEDROCK', 'bedrockApiKey'],
    ] as const) {
      const apiKey = gatewaySecret(apiKeyCanary(`${member}-${modelProvider}`));
      const credential = await stored(org.admin, modelProvider, { [member]: { apiKey: apiKey.value } });
      credentials.push(credential);
    }

    // An AWS role: its ARN and external id stay in the vault and STS.
    const roleArn = hidden(roleArnCanary('ROLE-ARN'));
    const externalId = hidden(canary('EXTERNAL-ID'));
    sts.addRole({ arn: roleArn.value, externalId: externalId.value });
    const role = await stored(org.admin, 'BEDROCK', { awsRole: { iamRoleArn: roleArn.value, externalId: externalId.value } });
    credentials.push(role);

    // A long-lived key pair: only its session credentials leave.
    const accessKeyId = hidden(accessKeyIdCanary('AWS-ACCESS-KEY-ID'));
    const secretAccessKey = hidden(canary('AWS-SECRET-ACCESS-KEY'));
    sts.registerKeys(accessKeyId.value, secretAccessKey.value);
    const keys = await stored(org.admin, 'BEDROCK', {
      awsKeys: { accessKeyId: accessKeyId.value, secretAccessKey: secretAccessKey.value },
    });
    credentials.push(keys);

    // A stored temporary pair: STS cannot exchange it, so the gateway gets it as stored.
    const temporarySecret = gatewaySecret(canary('AWS-TEMPORARY-SECRET'));
    const temporaryToken = gatewaySecret(canary('AWS-TEMPORARY-SESSION-TOKEN'));
    const temporary = await stored(org.admin, 'BEDROCK', {
      awsKeys: { accessKeyId: `ASIA${hex(8).toUpperCase()}`, secretAccessKey: temporarySecret.value, sessionToken: temporaryToken.value },
    });
    credentials.push(temporary);

    // A service account Google knows: its private key and email stay in the vault.
    const clientEmail = hidden(emailCanary('SA-EMAIL'));
    const account = google.createServiceAccount(clientEmail.value, TEST_PROJECT_ID);
    hidden(pemNeedle('service-account private key', account.privateKeyPem));
    const privateKeyId = hidden(secretNeedle('service-account private key id', account.privateKeyId));
    const serviceAccount = await stored(org.admin, 'VERTEX', {
      googleServiceAccount: {
        clientEmail: account.clientEmail,
        privateKey: account.privateKeyPem,
        privateKeyId: privateKeyId.value,
        projectId: account.projectId,
      },
    });
    credentials.push(serviceAccount);

    // An impersonation target this service may impersonate.
    const target = hidden(emailCanary('TARGET'));
    google.createServiceAccount(target.value, TEST_PROJECT_ID);
    google.grantTokenCreator(adcAccount.clientEmail, target.value);
    credentials.push(await stored(org.admin, 'VERTEX', { googleImpersonation: { targetPrincipal: target.value } }));
    credentials.push(await stored(org.admin, 'VERTEX', { googleAdc: {} }));
    googlePrincipals.push(account.clientEmail, target.value, adcAccount.clientEmail);

    // Successes: every credential, by credential_id and by provider_id.
    for (const credential of credentials) {
      await outcome(200, credential.runtime.request({ credential_id: credential.credentialId }));
      await outcome(200, credential.runtime.request({ provider_id: credential.providerId }));
    }

    // Refusals of every kind, about every credential.
    const runtime = credentials[0].runtime;
    const adminToken = org.admin.token;
    const viewerToken = org.viewer.token;
    for (const credential of credentials) {
      for (const token of [adminToken, viewerToken, null, 'not-a-jwt']) {
        await outcome([401, 403], runtime.request({ credential_id: credential.credentialId }, { token }));
      }
      await outcome(404, stranger.request({ credential_id: credential.credentialId }));
      await outcome(404, stranger.request({ provider_id: credential.providerId }));
      await outcome(400, runtime.request({ credential_id: credential.credentialId, provider_id: credential.providerId }));
    }
    // Secrets sent where an id belongs are not echoed either.
    for (const secret of [...forTheGateway, ...neverOut]) {
      await outcome(400, runtime.request({ credential_id: secret.value }));
      await outcome(400, runtime.request({ provider_id: secret.value }));
      await outcome(400, runtime.request(undefined, { rawBody: `{"credential_id": "${secret.value.replace(/\n/g, '\\n')}"` }));
    }

    // Upstream failures: STS down, STS refusing (with an error text naming the external id), keys disabled,
    // a private key Google does not know, a target this service may not impersonate.
    const coldRole = await stored(org.admin, 'BEDROCK', { awsRole: { iamRoleArn: roleArn.value, externalId: externalId.value } });
    sts.failNext(1, { action: 'AssumeRole' });
    await outcome(502, coldRole.runtime.request({ credential_id: coldRole.credentialId }));
    sts.failNext(1, {
      status: 403,
      code: 'AccessDenied',
      message: `not authorized with ExternalId ${externalId.value} on ${roleArn.value}`,
    });
    await outcome(502, coldRole.runtime.request({ credential_id: coldRole.credentialId }));
    const disabledPair = hidden(canary('DISABLED-SECRET-ACCESS-KEY'));
    const disabledId = hidden(accessKeyIdCanary('DISABLED-ACCESS-KEY-ID'));
    sts.registerKeys(disabledId.value, disabledPair.value);
    sts.disableKeys(disabledId.value);
    const disabled = await stored(org.admin, 'BEDROCK', {
      awsKeys: { accessKeyId: disabledId.value, secretAccessKey: disabledPair.value },
    });
    await outcome(502, disabled.runtime.request({ provider_id: disabled.providerId }));
    const unknownKey = hidden(privateKeyCanary('UNKNOWN-PRIVATE-KEY'));
    const unknownEmail = hidden(emailCanary('UNKNOWN-SA'));
    google.createServiceAccount(unknownEmail.value, TEST_PROJECT_ID);
    const rejected = await stored(org.admin, 'VERTEX', {
      googleServiceAccount: {
        clientEmail: unknownEmail.value,
        privateKey: unknownKey.value,
        privateKeyId: hex(20),
        projectId: TEST_PROJECT_ID,
      },
    });
    await outcome(502, rejected.runtime.request({ credential_id: rejected.credentialId }));
    const forbiddenTarget = hidden(emailCanary('FORBIDDEN-TARGET'));
    google.createServiceAccount(forbiddenTarget.value, TEST_PROJECT_ID);
    const notAllowed = await stored(org.admin, 'VERTEX', { googleImpersonation: { targetPrincipal: forbiddenTarget.value } });
    await outcome(502, notAllowed.runtime.request({ credential_id: notAllowed.credentialId }));

    // The admin surfaces, after all that: every credential and provider read back through both doors.
    for (const credential of credentials) {
      await admin.graphql(
        vault,
        'credential',
        `query($id: ID!) { credential(id: $id) { ${CREDENTIAL_FIELDS} lastUsedAt } }`,
        { id: credential.credentialId },
        adminToken,
      );
    }
    await admin.graphql(vault, 'credentials', LIST_CREDENTIALS, { first: 50 }, adminToken);
    await admin.graphql(vault, 'providers', LIST_PROVIDERS, { first: 50 }, viewerToken);
    for (const prefix of REST_PREFIXES) {
      const rest = restClient(vault, {
        prefix,
        token: adminToken,
        record: (exchange) =>
          admin.received.push({
            source: `REST ${exchange.method} ${exchange.url}`,
            text: `${JSON.stringify(exchange.headers)}\n${exchange.text}`,
          }),
      });
      await rest.get('/connections?limit=100');
      await rest.get('/providers');
      for (const credential of credentials) await rest.get(`/connections/${credential.credentialId}`);
    }
  });

  test('the exercise resolved every credential and was refused in every way', () => {
    expect(outcomes.filter((each) => !each.expected.includes(each.got))).toEqual([]);
    expect(runtimeOk().length).toBeGreaterThanOrEqual(22);
    expect(new Set(runtimeRefused().map((exchange) => exchange.status))).toEqual(new Set([400, 401, 403, 404, 502]));
  });

  test('no log line holds a secret or a minted credential', () => {
    expect(findCanaries([...forTheGateway, ...neverOut, ...issuedCredentials(fakes)], logHaystacks([vault]))).toEqual([]);
  });

  test('no runtime error answer (body or headers) holds a secret or a minted credential', () => {
    expect(findCanaries([...forTheGateway, ...neverOut, ...issuedCredentials(fakes)], haystacksOf(runtimeRefused(), 'both'))).toEqual([]);
  });

  test('no runtime 200 header holds a secret; no 200 body holds a key pair, private key, role ARN, external id or email', () => {
    expect(findCanaries([...forTheGateway, ...neverOut, ...issuedCredentials(fakes)], haystacksOf(runtimeOk(), 'headers'))).toEqual([]);
    expect(findCanaries(neverOut, haystacksOf(runtimeOk(), 'body'))).toEqual([]);
  });

  test('no GraphQL or REST admin answer holds a secret or a minted credential', () => {
    expect(admin.received.length).toBeGreaterThan(20);
    expect(findCanaries([...forTheGateway, ...neverOut, ...issuedCredentials(fakes)], admin.received)).toEqual([]);
  });

  test('no table of the database holds a secret or a minted credential, as text', async () => {
    expect(findCanaries([...forTheGateway, ...neverOut, ...issuedCredentials(fakes)], await dumpDatabase(database))).toEqual([]);
  });

  test('no file under the data directory holds a secret or a minted credential', () => {
    expect(findCanariesInFiles([...forTheGateway, ...neverOut, ...issuedCredentials(fakes)], vault.dataDir)).toEqual([]);
  });

  test('the search sees: every secret for the gateway, every STS session and a token of every Google identity are in runtime 200 bodies', () => {
    const bodies = haystacksOf(runtimeOk(), 'body');
    const found = (secret: Canary) => findCanaries([secret], bodies).length > 0;
    expect(forTheGateway.filter((secret) => !found(secret)).map((secret) => secret.label)).toEqual([]);
    const sessions = sts.issued.map((issued, index) => secretNeedle(`STS sessionToken ${index}`, issued.sessionToken));
    expect(sessions.length).toBeGreaterThanOrEqual(2);
    expect(sessions.filter((secret) => !found(secret)).map((secret) => secret.label)).toEqual([]);
    // Impersonation also mints a token of this service's own identity for IAM Credentials: that one stays inside.
    const principals = new Set(
      google.issuedTokens.filter((token) => found(secretNeedle('Google access token', token))).map((token) => google.principalOf(token)),
    );
    expect([...principals].sort()).toEqual([...googlePrincipals].sort());
  });
});
