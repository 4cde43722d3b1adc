// Expiry refresh on the runtime route. The fakes issue credentials for the lifetime the vault asks
// (STS: DurationSeconds 3600; Google: ~1 hour for a JWT grant, 600 s for impersonation), and no
// fake can be told to issue shorter ones to this caller. So the clock moves instead: Date alone is
// faked (jest modern timers, every timer API left real) before the application starts, so the
// application, the fakes and the test share one clock that the test sets forward. A minted
// credential is handed out until shortly before it expires (5 minutes by default), then minted
// anew. Also on this clock: the audit line and lastUsedAt, written at most once a minute.
import type { FakeGoogleCloud, FakeServiceAccount } from '../fakes/fake-google-cloud';
import type { FakeSts } from '../fakes/fake-sts-server';
import { type CloudFakes, startCloudFakes } from '../support/cloud-fakes';
import { aCredentialInput, apiKeyAuth, type CredentialAuthInput, hex, TEST_PROJECT_ID } from '../support/factories';
import { anOrganization, type Member } from '../support/organizations';
import { runtimeClient, type RuntimeClient, type UpstreamAuthJson } from '../support/runtime-client';
import { sleep } from '../support/sleep';
import { logEvents, startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { dataOf } from '../support/vault-client';

const REGION = 'us-east-1';
const MINUTE = 60_000;

let database: TestDatabase;
let sts: FakeSts;
let google: FakeGoogleCloud;
let vault: TestApp;
let adcAccount: FakeServiceAccount;
let fakes: CloudFakes;

beforeAll(async () => {
  // Only Date: timers, hrtime, performance and microtasks stay real, so I/O and deadlines behave.
  jest.useFakeTimers({
    doNotFake: [
      'hrtime',
      'nextTick',
      'performance',
      'queueMicrotask',
      'requestAnimationFrame',
      'cancelAnimationFrame',
      'requestIdleCallback',
      'cancelIdleCallback',
      'setImmediate',
      'clearImmediate',
      'setInterval',
      'clearInterval',
      'setTimeout',
      'clearTimeout',
    ],
    advanceTimers: true,
  });
  database = await createTestDatabase('runtime_expiry_e2e');
  fakes = await startCloudFakes({ stsRegion: REGION, appRegion: REGION });
  ({ sts, google, adcAccount } = fakes);
  vault = await startTestApp({ databaseUrl: database.url, env: fakes.env });
});

afterAll(async () => {
  await vault?.stop();
  await fakes?.close();
  await database?.drop();
  jest.useRealTimers();
});

/** Sets the shared clock `ms` forward. */
function advanceClock(ms: number): void {
  jest.setSystemTime(Date.now() + ms);
}

interface Org {
  admin: Member;
  /** A client whose runtime token is minted on the current clock, for every call. */
  resolve(credentialId: string): Promise<UpstreamAuthJson>;
}

function anOrg(): Org {
  const org = anOrganization(vault);
  // Tokens expire after 10 minutes of the (moving) clock: each call gets a fresh one.
  const client = (): RuntimeClient => runtimeClient(vault, org.id);
  return {
    get admin() {
      // Admin tokens too are minted on the current clock.
      return anOrganization(vault, org.id).admin;
    },
    resolve: (credentialId) => client().credential(credentialId),
  };
}

async function created(org: Org, auth: CredentialAuthInput, modelProvider: 'BEDROCK' | 'VERTEX' | 'OPENAI') {
  return org.admin.created(
    aCredentialInput({ modelProvider, auth, ...(modelProvider === 'BEDROCK' ? { settings: { region: REGION } } : {}) }),
  );
}

function aRole(): { iamRoleArn: string; externalId: string } {
  const role = { iamRoleArn: `arn:aws:iam::123456789012:role/gateway-${hex(4)}`, externalId: `ext-${hex(8)}` };
  sts.addRole({ arn: role.iamRoleArn, externalId: role.externalId });
  return role;
}

function aServiceAccount(): FakeServiceAccount {
  return google.createServiceAccount(`sa-${hex(4)}@${TEST_PROJECT_ID}.iam.gserviceaccount.com`, TEST_PROJECT_ID);
}

function googleCalls(): number {
  return google.requests.filter((request) => request.service === 'oauth2' || request.service === 'iamcredentials').length;
}

describe('a minted credential near its expiry is minted anew', () => {
  test('aws_role: the session is reused 50 minutes in, and replaced 56 minutes in (4 minutes before it expires)', async () => {
    const org = anOrg();
    const credential = await created(org, { awsRole: aRole() }, 'BEDROCK');
    const before = sts.calls.AssumeRole;

    const first = await org.resolve(credential.id);
    const expiresAt = Date.parse(first.expires_at!);
    expect(expiresAt - Date.now()).toBeGreaterThan(55 * MINUTE);
    advanceClock(50 * MINUTE);
    const reused = await org.resolve(credential.id);
    advanceClock(6 * MINUTE);
    const renewed = await org.resolve(credential.id);
    const again = await org.resolve(credential.id);

    expect(reused.aws).toEqual(first.aws);
    expect(renewed.aws!.access_key_id).not.toBe(first.aws!.access_key_id);
    expect(Date.parse(renewed.expires_at!)).toBeGreaterThan(expiresAt);
    expect(again.aws).toEqual(renewed.aws);
    expect(sts.calls.AssumeRole - before).toBe(2);
  });

  test('aws_keys: GetSessionToken again once the session is within minutes of its expiry', async () => {
    const org = anOrg();
    const keys = sts.createUserKeys();
    const credential = await created(org, { awsKeys: { ...keys } }, 'BEDROCK');
    const before = sts.calls.GetSessionToken;

    const first = await org.resolve(credential.id);
    advanceClock(50 * MINUTE);
    await org.resolve(credential.id);
    expect(sts.calls.GetSessionToken - before).toBe(1);
    advanceClock(6 * MINUTE);
    const renewed = await org.resolve(credential.id);

    expect(renewed.aws!.session_token).not.toBe(first.aws!.session_token);
    expect(sts.calls.GetSessionToken - before).toBe(2);
  });

  test('google_service_account: the token is reused 50 minutes in, and replaced 56 minutes in', async () => {
    const org = anOrg();
    const account = aServiceAccount();
    const credential = await created(
      org,
      {
        googleServiceAccount: {
          clientEmail: account.clientEmail,
          privateKey: account.privateKeyPem,
          privateKeyId: account.privateKeyId,
          projectId: account.projectId,
        },
      },
      'VERTEX',
    );
    const before = googleCalls();

    const first = await org.resolve(credential.id);
    advanceClock(50 * MINUTE);
    const reused = await org.resolve(credential.id);
    advanceClock(6 * MINUTE);
    const renewed = await org.resolve(credential.id);

    expect(reused.google).toEqual(first.google);
    expect(renewed.google!.access_token).not.toBe(first.google!.access_token);
    expect(google.principalOf(renewed.google!.access_token)).toBe(account.clientEmail);
    expect(googleCalls() - before).toBe(2);
  });

  test('google_impersonation (a 10-minute token): reused 4 minutes in, replaced 6 minutes in', async () => {
    const org = anOrg();
    const target = aServiceAccount();
    google.grantTokenCreator(adcAccount.clientEmail, target.clientEmail);
    const credential = await created(org, { googleImpersonation: { targetPrincipal: target.clientEmail } }, 'VERTEX');

    const first = await org.resolve(credential.id);
    const afterFirst = googleCalls();
    advanceClock(4 * MINUTE);
    const reused = await org.resolve(credential.id);
    expect(googleCalls()).toBe(afterFirst);
    advanceClock(2 * MINUTE);
    const renewed = await org.resolve(credential.id);

    expect(reused.google).toEqual(first.google);
    expect(renewed.google!.access_token).not.toBe(first.google!.access_token);
    expect(google.principalOf(renewed.google!.access_token)).toBe(target.clientEmail);
    expect(googleCalls()).toBeGreaterThan(afterFirst);
  });
});

describe('usage is written at most once a minute per credential, and every resolve is counted', () => {
  test('three resolves in one minute, one more a minute later: two audit lines (1, then 3 resolves) and lastUsedAt moves', async () => {
    const org = anOrg();
    const credential = await created(org, apiKeyAuth(), 'OPENAI');
    const lines = () =>
      logEvents<{ credentialId?: string; resolves?: number }>(vault.logLines, 'credential.resolved').filter(
        (line) => line.credentialId === credential.id,
      );
    const lastUsedAt = async () =>
      dataOf(
        await vault.graphql<{ credential: { lastUsedAt: string | null } }>(
          `query($id: ID!) { credential(id: $id) { lastUsedAt } }`,
          { id: credential.id },
          { token: org.admin.token },
        ),
      ).credential.lastUsedAt;
    const lastUsedAtOnce = async (expected: (value: string | null) => boolean) => {
      let value = await lastUsedAt();
      for (let attempt = 0; attempt < 100 && !expected(value); attempt += 1) {
        await sleep(20);
        value = await lastUsedAt();
      }
      return value;
    };

    await org.resolve(credential.id);
    const firstUse = await lastUsedAtOnce((value) => value !== null);
    advanceClock(20_000);
    await org.resolve(credential.id);
    await org.resolve(credential.id);
    expect(lines().map((line) => line.resolves)).toEqual([1]);
    advanceClock(MINUTE);
    await org.resolve(credential.id);
    const secondUse = await lastUsedAtOnce((value) => value !== firstUse);

    expect(lines().map((line) => line.resolves)).toEqual([1, 3]);
    expect(Date.parse(secondUse!) - Date.parse(firstUse!)).toBeGreaterThanOrEqual(80_000);
  });
});
