// The runtime route on Cloud KMS: the real application over HTTP and PostgreSQL, its real
// @google-cloud/kms client talking to the fake KMS gRPC server (Decrypts counted), its real STSClient
// talking to the fake STS. Steady traffic makes no Decrypt per request; a rotation is seen at once;
// a KMS that fails answers 503 KMS_UNAVAILABLE (never 500, never 502), and the listener stays up.
import * as grpc from '@grpc/grpc-js';
import { type FakeKms, startFakeKms } from '../fakes/fake-kms-server';
import { type FakeSts, startFakeSts } from '../fakes/fake-sts-server';
import { kmsEnv } from '../support/cloud-fakes';
import { aCredentialInput, anApiKey, apiKeyAuth, hex } from '../support/factories';
import { anOrganization, type Member } from '../support/organizations';
import { expectRuntimeError, materialOf, runtimeClient, type RuntimeClient, runtimeUrlOf } from '../support/runtime-client';
import { fetchJson, startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { useAwsIdentity } from '../support/validation-harness';
import { type CredentialView, dataOf } from '../support/vault-client';

const REGION = 'us-east-1';

let database: TestDatabase;
let kms: FakeKms;
let sts: FakeSts;
let vault: TestApp;
let restoreAwsEnv: () => void;

beforeAll(async () => {
  database = await createTestDatabase('runtime_kms_e2e');
  kms = await startFakeKms();
  sts = await startFakeSts({ region: REGION });
  restoreAwsEnv = useAwsIdentity(sts.caller);
  vault = await startTestApp({
    databaseUrl: database.url,
    env: { ...kmsEnv(kms), AWS_STS_ENDPOINT: sts.endpoint, AWS_REGION: REGION },
  });
});

afterAll(async () => {
  await vault?.stop();
  await sts?.close();
  await kms?.close();
  restoreAwsEnv?.();
  await database?.drop();
});

afterEach(() => {
  kms.setLatency(0);
  sts.setLatency(0);
});

function anOrg(): { admin: Member; runtime: RuntimeClient } {
  const org = anOrganization(vault);
  return { admin: org.admin, runtime: runtimeClient(vault, org.id) };
}

async function anApiKeyCredential(admin: Member, apiKey = anApiKey()): Promise<CredentialView> {
  return admin.created(aCredentialInput({ auth: apiKeyAuth(apiKey) }));
}

async function anAwsRoleCredential(admin: Member): Promise<CredentialView> {
  const role = { iamRoleArn: `arn:aws:iam::123456789012:role/gateway-${hex(4)}`, externalId: `ext-${hex(8)}` };
  sts.addRole({ arn: role.iamRoleArn, externalId: role.externalId });
  return admin.created(aCredentialInput({ modelProvider: 'BEDROCK', auth: { awsRole: role }, settings: { region: REGION } }));
}

const runtimeHealthz = async () => (await fetchJson(`${runtimeUrlOf(vault)}/healthz`)).status;

describe('steady traffic on Cloud KMS', () => {
  test('runs on the Cloud KMS key service', () => {
    expect(vault.app.keyService.name).toBe('gcp-kms');
  });

  test('25 resolves of one API key credential cost one Decrypt', async () => {
    const { admin, runtime } = anOrg();
    const apiKey = anApiKey();
    const credential = await anApiKeyCredential(admin, apiKey);
    kms.resetCalls();

    for (let i = 0; i < 25; i += 1) {
      expect((await runtime.credential(credential.id)).headers).toEqual({ authorization: `Bearer ${apiKey}` });
    }

    expect(kms.calls).toEqual({ encrypt: 0, decrypt: 1 });
  });

  test('50 concurrent resolves of a cold aws_role credential cost one Decrypt and one AssumeRole', async () => {
    const { admin, runtime } = anOrg();
    const credential = await anAwsRoleCredential(admin);
    kms.resetCalls();
    const before = sts.calls.AssumeRole;
    kms.setLatency(50);
    sts.setLatency(50);

    const answers = await Promise.all(Array.from({ length: 50 }, () => runtime.credential(credential.id)));

    expect(new Set(answers.map((answer) => answer.aws!.access_key_id)).size).toBe(1);
    expect(kms.calls.decrypt).toBe(1);
    expect(sts.calls.AssumeRole - before).toBe(1);
  });

  test('after a rotation the next resolve answers the new key, at the cost of one Decrypt', async () => {
    const { admin, runtime } = anOrg();
    const credential = await anApiKeyCredential(admin);
    for (let i = 0; i < 3; i += 1) await runtime.credential(credential.id);
    const newKey = anApiKey();
    dataOf(await admin.update(credential.id, { auth: apiKeyAuth(newKey) }));
    kms.resetCalls();

    for (let i = 0; i < 5; i += 1) {
      expect(await runtime.credential(credential.id)).toMatchObject({ secret_version: 2, headers: { authorization: `Bearer ${newKey}` } });
    }

    expect(kms.calls).toEqual({ encrypt: 0, decrypt: 1 });
  });
});

describe('KMS outages answer 503 KMS_UNAVAILABLE', () => {
  test('PERMISSION_DENIED on Decrypt: a cold credential is 503, a warm one still answers, and the next resolve recovers', async () => {
    const { admin, runtime } = anOrg();
    const warm = await anApiKeyCredential(admin);
    const cold = await anApiKeyCredential(admin);
    await runtime.credential(warm.id);
    kms.failNext(grpc.status.PERMISSION_DENIED, { method: 'decrypt' });

    const stillServed = await runtime.request({ credential_id: warm.id });
    const refused = await runtime.request({ credential_id: cold.id });

    expect(stillServed.status).toBe(200);
    expectRuntimeError(refused, { status: 503, type: 'service_unavailable_error', code: 'KMS_UNAVAILABLE', param: null });
    expect(await runtimeHealthz()).toBe(200);
    expect(materialOf(await runtime.credential(cold.id))).toBe('headers');
  });

  test('UNAVAILABLE on every attempt: 503 KMS_UNAVAILABLE', async () => {
    const { admin, runtime } = anOrg();
    const credential = await anApiKeyCredential(admin);
    kms.failNext(grpc.status.UNAVAILABLE, { count: 3, method: 'decrypt' });

    expectRuntimeError(await runtime.request({ credential_id: credential.id }), {
      status: 503,
      type: 'service_unavailable_error',
      code: 'KMS_UNAVAILABLE',
    });
    expect(materialOf(await runtime.credential(credential.id))).toBe('headers');
  });

  test('a cold aws_role credential while KMS fails: 503 KMS_UNAVAILABLE (not 502), and STS is not called', async () => {
    const { admin, runtime } = anOrg();
    const credential = await anAwsRoleCredential(admin);
    const before = { ...sts.calls };
    kms.failNext(grpc.status.PERMISSION_DENIED, { method: 'decrypt' });

    expectRuntimeError(await runtime.request({ credential_id: credential.id }), {
      status: 503,
      type: 'service_unavailable_error',
      code: 'KMS_UNAVAILABLE',
    });
    expect(sts.calls).toEqual(before);
    expect(materialOf(await runtime.credential(credential.id))).toBe('aws');
  });
});
