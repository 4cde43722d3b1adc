// validateAwsRole end to end: the real application over HTTP and PostgreSQL, its real STSClient
// signing with this process's AWS identity (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, read by the
// SDK's default credential chain) and talking SigV4 to the fake STS on loopback (AWS_STS_ENDPOINT).
// The validator builds a new STSClient, hence a new credential chain, for every call: nothing is
// cached between calls, which the "unknown identity" test relies on.
import { randomUUID } from 'node:crypto';
import { canary, type Canary, findCanaries, type Haystack, logHaystacks, secretNeedle, Transcript } from '../support/canaries';
import { FAKE_STS_CALLER_ARN, type FakeSts, startFakeSts } from '../fakes/fake-sts-server';
import { aCredentialInput, apiKeyAuth, awsKeysAuth, hex } from '../support/factories';
import { closedPort, type SilentPeer, startSilentPeer } from '../support/loopback';
import { anAdmin, aViewer, type Member } from '../support/organizations';
import { logEvents, startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { dataOf, expectBadUserInput, expectError } from '../support/vault-client';
import {
  checkNamed,
  healthz,
  outcomes,
  requestsDuring,
  useAwsIdentity,
  VALIDATE_AWS_ROLE,
  type ValidationResultView,
  whileHealthChecked,
  withinDeadline,
} from '../support/validation-harness';

const ACCESS_DENIED_MESSAGE = 'this service is not allowed to assume the role; check the trust policy and external id';
const ACCOUNT = '123456789012';

let database: TestDatabase;
let sts: FakeSts;
let vault: TestApp;
let restoreAwsEnv: () => void;
const transcript = new Transcript();
/** Every external id a test handed to the service, inline or stored. */
const externalIds: Canary[] = [];
/** Every application this file started, for the log scans. */
const apps: TestApp[] = [];
/** Every fake STS this file started, for the issued-credential scans. */
const stsPeers: FakeSts[] = [];

/** The application in us-east-1, with `stsEndpoint` as its AWS_STS_ENDPOINT. */
async function startApp(stsEndpoint: string): Promise<TestApp> {
  const app = await startTestApp({
    databaseUrl: database.url,
    env: { AWS_STS_ENDPOINT: stsEndpoint, AWS_REGION: 'us-east-1', OUTBOUND_ALLOW_PRIVATE: 'true' },
  });
  apps.push(app);
  return app;
}

beforeAll(async () => {
  database = await createTestDatabase('validate_aws_e2e');
  sts = await startFakeSts();
  restoreAwsEnv = useAwsIdentity(sts.caller);
  vault = await startApp(sts.endpoint);
  stsPeers.push(sts);
});

afterAll(async () => {
  await vault?.stop();
  await sts?.close();
  restoreAwsEnv?.();
  await database?.drop();
});

interface Role {
  iamRoleArn: string;
  externalId: string;
}

/** A role the fake knows, trusting this service's caller when it presents the role's external id. */
function aRole(options: { trustsAnyone?: boolean } = {}): Role {
  const externalId = canary('EXTERNAL-ID');
  externalIds.push(externalId);
  const iamRoleArn = `arn:aws:iam::${ACCOUNT}:role/vault-bedrock-${hex(4)}`;
  sts.addRole({ arn: iamRoleArn, externalId: externalId.value, trustsAnyone: options.trustsAnyone });
  return { iamRoleArn, externalId: externalId.value };
}

function anExternalId(): string {
  const externalId = canary('OTHER-EXTERNAL-ID');
  externalIds.push(externalId);
  return externalId.value;
}

function validate(caller: { token?: string }, variables: Record<string, unknown>, app: TestApp = vault) {
  return transcript.graphql<{ validateAwsRole: ValidationResultView }>(app, 'validateAwsRole', VALIDATE_AWS_ROLE, variables, caller.token);
}

async function validated(caller: Member, variables: Record<string, unknown>, app: TestApp = vault): Promise<ValidationResultView> {
  return dataOf(await validate(caller, variables, app)).validateAwsRole;
}

async function storedAwsRole(caller: Member, role: Role, settings?: Record<string, unknown>) {
  const created = dataOf(
    await transcript.graphql<{ createCredential: { id: string } }>(
      vault,
      'createCredential',
      `mutation($input: CreateCredentialInput!) { createCredential(input: $input) { id authType } }`,
      { input: aCredentialInput({ modelProvider: 'BEDROCK', auth: { awsRole: role }, ...(settings ? { settings } : {}) }) },
      caller.token,
    ),
  );
  return created.createCredential.id;
}

describe('validateAwsRole with an inline role', () => {
  test('is ok for a role that trusts this service with the external id: assume-role ok, external-id-required ok', async () => {
    const result = await validated(anAdmin(vault), { input: { role: aRole() } });

    expect(result).toMatchObject({ ok: true, authType: 'AWS_ROLE', message: null });
    expect(outcomes(result)).toEqual([
      ['assume-role', true],
      ['external-id-required', true],
    ]);
    for (const check of result.checks) {
      expect(Number.isInteger(check.durationMs)).toBe(true);
      expect(check.durationMs).toBeGreaterThanOrEqual(0);
    }
  });

  test('reports the assumed-role ARN and the expiry of the discarded credentials in the assume-role detail', async () => {
    const caller = anAdmin(vault);
    const role = aRole();
    const before = Date.now();
    const { value: result, requests } = await requestsDuring(sts, () => validated(caller, { input: { role } }));
    const after = Date.now();

    const detail = checkNamed(result, 'assume-role').detail ?? '';
    const roleName = role.iamRoleArn.split('/').pop();
    expect(detail).toContain(`arn:aws:sts::${ACCOUNT}:assumed-role/${roleName}/${requests[0].RoleSessionName}`);
    const expiries: string[] = detail.match(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z/g) ?? [];
    expect(expiries).toHaveLength(1);
    const expiresAt = Date.parse(expiries[0]);
    // STS states the expiry to the second: 900 s after the request, give or take that second.
    expect(expiresAt).toBeGreaterThanOrEqual(before + 900_000 - 1000);
    expect(expiresAt).toBeLessThanOrEqual(after + 900_000 + 1000);
  });

  test('sends AssumeRole with the role ARN, the external id and DurationSeconds 900', async () => {
    const role = aRole();
    const { requests } = await requestsDuring(sts, () => validated(anAdmin(vault), { input: { role } }));

    expect(requests.length).toBeGreaterThanOrEqual(1);
    expect(requests[0]).toMatchObject({
      Action: 'AssumeRole',
      RoleArn: role.iamRoleArn,
      ExternalId: role.externalId,
      DurationSeconds: '900',
    });
  });

  test('probes with a second AssumeRole for the same role without an ExternalId', async () => {
    const role = aRole();
    const { requests } = await requestsDuring(sts, () => validated(anAdmin(vault), { input: { role } }));

    expect(requests).toHaveLength(2);
    expect(requests[1]).toMatchObject({ Action: 'AssumeRole', RoleArn: role.iamRoleArn, DurationSeconds: '900' });
    expect(requests[1]).not.toHaveProperty('ExternalId');
  });

  test('uses a RoleSessionName that names this service and the organization, fresh for every AssumeRole', async () => {
    const caller = anAdmin(vault);
    const role = aRole();
    const { requests } = await requestsDuring(sts, async () => {
      await validated(caller, { input: { role } });
      await validated(caller, { input: { role } });
    });

    const names = requests.map((request) => request.RoleSessionName);
    expect(names).toHaveLength(4);
    for (const name of names) {
      expect(name).toMatch(/^[\w+=,.@-]{2,64}$/);
      expect(name).toContain(caller.orgId);
      expect(name).toMatch(/vault/);
    }
    expect(new Set(names).size).toBe(names.length);
  });

  test('is not ok with a wrong external id: only the assume-role check, failing with the AccessDenied sentence', async () => {
    const role = aRole();
    const { value: result, requests } = await requestsDuring(sts, () =>
      validated(anAdmin(vault), { input: { role: { iamRoleArn: role.iamRoleArn, externalId: anExternalId() } } }),
    );

    expect(result).toMatchObject({ ok: false, authType: 'AWS_ROLE', message: ACCESS_DENIED_MESSAGE });
    expect(outcomes(result)).toEqual([['assume-role', false]]);
    expect(result.checks[0].detail).toBe(ACCESS_DENIED_MESSAGE);
    // No probe after a failed AssumeRole.
    expect(requests).toHaveLength(1);
  });

  test("does not pass on STS's own AccessDenied text (it names this service's IAM user)", async () => {
    const role = aRole();
    const response = await validate(anAdmin(vault), { input: { role: { iamRoleArn: role.iamRoleArn, externalId: anExternalId() } } });

    expect(dataOf(response).validateAwsRole.ok).toBe(false);
    expect(response.text).not.toContain(FAKE_STS_CALLER_ARN);
    expect(response.text).not.toContain('is not authorized to perform');
  });

  test('is not ok for a role STS does not know: AccessDenied', async () => {
    const result = await validated(anAdmin(vault), {
      input: { role: { iamRoleArn: `arn:aws:iam::${ACCOUNT}:role/never-created-${hex(4)}`, externalId: anExternalId() } },
    });

    expect(result).toMatchObject({ ok: false, message: ACCESS_DENIED_MESSAGE });
    expect(outcomes(result)).toEqual([['assume-role', false]]);
  });

  test('is not ok for a role that trusts anyone: external-id-required fails and says the trust policy must require sts:ExternalId', async () => {
    const role = aRole({ trustsAnyone: true });
    const { value: result, requests } = await requestsDuring(sts, () => validated(anAdmin(vault), { input: { role } }));

    expect(result.ok).toBe(false);
    expect(outcomes(result)).toEqual([
      ['assume-role', true],
      ['external-id-required', false],
    ]);
    const probe = checkNamed(result, 'external-id-required');
    expect(probe.detail).toMatch(/trust policy must require sts:ExternalId/);
    expect(result.message).toBe(probe.detail);
    expect(requests).toHaveLength(2);
    expect(requests[1]).not.toHaveProperty('ExternalId');
  });

  test("is not ok when STS does not know this service's own AWS identity (read from the default chain at call time)", async () => {
    const role = aRole();
    const saved = process.env.AWS_ACCESS_KEY_ID;
    process.env.AWS_ACCESS_KEY_ID = `AKIA${hex(8).toUpperCase()}`;
    let result: ValidationResultView;
    try {
      result = await validated(anAdmin(vault), { input: { role } });
    } finally {
      process.env.AWS_ACCESS_KEY_ID = saved;
    }

    expect(result).toMatchObject({ ok: false, message: "STS rejected this service's own AWS identity (invalid or expired credentials)" });
    expect(outcomes(result)).toEqual([['assume-role', false]]);
    // And the real identity works again on the very next call: nothing was cached.
    expect((await validated(anAdmin(vault), { input: { role } })).ok).toBe(true);
  });
});

describe('validateAwsRole by credentialId', () => {
  test('validates a stored AWS_ROLE credential with its stored ARN and external id', async () => {
    const caller = anAdmin(vault);
    const role = aRole();
    const id = await storedAwsRole(caller, role);
    const { value: result, requests } = await requestsDuring(sts, () => validated(caller, { input: { credentialId: id } }));

    expect(result).toMatchObject({ ok: true, authType: 'AWS_ROLE', message: null });
    expect(outcomes(result)).toEqual([
      ['assume-role', true],
      ['external-id-required', true],
    ]);
    expect(requests[0]).toMatchObject({ RoleArn: role.iamRoleArn, ExternalId: role.externalId, DurationSeconds: '900' });
  });

  test('each run is an audit event: credential.validated for a stored credential, validation.run for an inline role', async () => {
    const caller = anAdmin(vault);
    const id = await storedAwsRole(caller, aRole());
    await validated(caller, { input: { credentialId: id } });
    await validated(caller, { input: { role: aRole() } });

    const events = await database.query<{
      action: string;
      target_id: string | null;
      actor: string;
      details: { ok: boolean; validation: string };
    }>(
      `SELECT action, target_id, actor, details FROM audit_events WHERE organization_id = $1 AND action <> 'credential.created' ORDER BY position`,
      [caller.orgId],
    );
    expect(events).toEqual([
      {
        action: 'credential.validated',
        target_id: id,
        actor: 'test-user',
        details: expect.objectContaining({ ok: true, validation: 'aws_role' }),
      },
      {
        action: 'validation.run',
        target_id: null,
        actor: 'test-user',
        details: expect.objectContaining({ ok: true, validation: 'aws_role' }),
      },
    ]);
  });

  test('reports a stored role whose external id the trust policy refuses as not ok', async () => {
    const caller = anAdmin(vault);
    const role = aRole();
    const id = await storedAwsRole(caller, { iamRoleArn: role.iamRoleArn, externalId: anExternalId() });
    const result = await validated(caller, { input: { credentialId: id } });

    expect(result).toMatchObject({ ok: false, message: ACCESS_DENIED_MESSAGE });
    expect(outcomes(result)).toEqual([['assume-role', false]]);
  });

  test("is NOT_FOUND for another organization's credential, and STS is not called", async () => {
    const id = await storedAwsRole(anAdmin(vault), aRole());
    const { value: response, requests } = await requestsDuring(sts, () => validate(anAdmin(vault), { input: { credentialId: id } }));

    expectError(response, { code: 'NOT_FOUND' });
    expect(response.body.data).toBeNull();
    expect(requests).toEqual([]);
  });

  test('is NOT_FOUND for an id no credential has', async () => {
    expectError(await validate(anAdmin(vault), { input: { credentialId: randomUUID() } }), { code: 'NOT_FOUND' });
  });

  test('is BAD_USER_INPUT on input.credentialId for an id that is not a UUID', async () => {
    expectBadUserInput(await validate(anAdmin(vault), { input: { credentialId: 'not-a-uuid' } }), 'input.credentialId');
  });

  test('is BAD_USER_INPUT on input.credentialId for an API_KEY credential', async () => {
    const caller = anAdmin(vault);
    const created = await caller.created(aCredentialInput({ modelProvider: 'OPENAI', auth: apiKeyAuth() }));
    const { value: response, requests } = await requestsDuring(sts, () => validate(caller, { input: { credentialId: created.id } }));

    expectBadUserInput(response, 'input.credentialId');
    expect(requests).toEqual([]);
  });

  test('is BAD_USER_INPUT on input.credentialId for a Bedrock AWS_KEYS credential', async () => {
    const caller = anAdmin(vault);
    const created = await caller.created(aCredentialInput({ modelProvider: 'BEDROCK', auth: awsKeysAuth() }));

    expectBadUserInput(await validate(caller, { input: { credentialId: created.id } }), 'input.credentialId');
  });
});

describe('validateAwsRole input errors', () => {
  test('is BAD_USER_INPUT on input.role.iamRoleArn for a malformed ARN, and STS is not called', async () => {
    const { value: response, requests } = await requestsDuring(sts, () =>
      validate(anAdmin(vault), { input: { role: { iamRoleArn: 'arn:aws:iam::123:user/not-a-role', externalId: anExternalId() } } }),
    );

    expectBadUserInput(response, 'input.role.iamRoleArn');
    expect(requests).toEqual([]);
  });

  test('is BAD_USER_INPUT on input.role.externalId for an external id with a space, without repeating it', async () => {
    const externalId = `${anExternalId()} tail`;
    const { value: response, requests } = await requestsDuring(sts, () =>
      validate(anAdmin(vault), { input: { role: { iamRoleArn: `arn:aws:iam::${ACCOUNT}:role/some-role`, externalId } } }),
    );

    expectBadUserInput(response, 'input.role.externalId');
    expect(response.text).not.toContain(externalId.split(' ')[0]);
    expect(requests).toEqual([]);
  });

  test('is BAD_USER_INPUT on input when both role and credentialId are given', async () => {
    const { value: response, requests } = await requestsDuring(sts, () =>
      validate(anAdmin(vault), { input: { role: aRole(), credentialId: randomUUID() } }),
    );

    expectBadUserInput(response, 'input');
    expect(requests).toEqual([]);
  });

  test('is BAD_USER_INPUT on input when neither role nor credentialId is given', async () => {
    expectBadUserInput(await validate(anAdmin(vault), { input: {} }), 'input');
  });

  test('is BAD_USER_INPUT on region for a region that is not an AWS region, and STS is not called', async () => {
    const { value: response, requests } = await requestsDuring(sts, () =>
      validate(anAdmin(vault), { input: { role: aRole() }, region: 'evil.example.com/' }),
    );

    expectBadUserInput(response, 'region');
    expect(requests).toEqual([]);
  });
});

describe('validateAwsRole authorization', () => {
  test('is FORBIDDEN for a viewer, and STS is not called', async () => {
    const { value: response, requests } = await requestsDuring(sts, () => validate(aViewer(vault), { input: { role: aRole() } }));

    expectError(response, { code: 'FORBIDDEN' });
    expect(requests).toEqual([]);
  });

  test('is UNAUTHENTICATED without a token, and STS is not called', async () => {
    const { value: response, requests } = await requestsDuring(sts, () => validate({}, { input: { role: aRole() } }));

    expectError(response, { code: 'UNAUTHENTICATED' });
    expect(requests).toEqual([]);
  });
});

describe('validateAwsRole signing region', () => {
  let regionalSts: FakeSts;
  let regionalVault: TestApp;
  let restoreRegionalEnv: () => void;

  beforeAll(async () => {
    // A second STS that only accepts requests signed for eu-west-1, behind an app whose AWS_REGION is us-east-1.
    regionalSts = await startFakeSts({ region: 'eu-west-1' });
    restoreRegionalEnv = useAwsIdentity(regionalSts.caller);
    regionalVault = await startApp(regionalSts.endpoint);
    stsPeers.push(regionalSts);
  });

  afterAll(async () => {
    await regionalVault?.stop();
    await regionalSts?.close();
    restoreRegionalEnv?.();
  });

  function aRegionalRole(): Role {
    const externalId = anExternalId();
    const iamRoleArn = `arn:aws:iam::${ACCOUNT}:role/vault-regional-${hex(4)}`;
    regionalSts.addRole({ arn: iamRoleArn, externalId });
    return { iamRoleArn, externalId };
  }

  test('signs for the region argument', async () => {
    const result = await validated(anAdmin(regionalVault), { input: { role: aRegionalRole() }, region: 'eu-west-1' }, regionalVault);

    expect(outcomes(result)).toEqual([
      ['assume-role', true],
      ['external-id-required', true],
    ]);
  });

  test('signs for AWS_REGION when no region is given (here the wrong one: STS refuses the signature)', async () => {
    const result = await validated(anAdmin(regionalVault), { input: { role: aRegionalRole() } }, regionalVault);

    expect(result).toMatchObject({ ok: false, message: "STS rejected this service's own AWS identity (invalid or expired credentials)" });
  });

  test("signs for a stored credential's settings.region when no region is given", async () => {
    const caller = anAdmin(regionalVault);
    const role = aRegionalRole();
    const created = await caller.created(
      aCredentialInput({ modelProvider: 'BEDROCK', auth: { awsRole: role }, settings: { region: 'eu-west-1' } }),
    );
    const result = await validated(caller, { input: { credentialId: created.id } }, regionalVault);

    expect(result.ok).toBe(true);
  });
});

describe('validateAwsRole when STS cannot be reached', () => {
  let silent: SilentPeer;
  let downVault: TestApp;
  let hangingVault: TestApp;

  beforeAll(async () => {
    silent = await startSilentPeer();
    downVault = await startApp(`http://127.0.0.1:${await closedPort()}`);
    hangingVault = await startApp(silent.base);
  });

  afterAll(async () => {
    // The silent peer first: closing it ends any AssumeRole still waiting on it, so the apps can stop.
    await silent?.close();
    await downVault?.stop();
    await hangingVault?.stop();
  });

  test('is not ok, quickly, when nothing listens at AWS_STS_ENDPOINT, and /healthz stays 200', async () => {
    const started = Date.now();
    const result = await validated(anAdmin(downVault), { input: { role: aRole() } }, downVault);

    expect(Date.now() - started).toBeLessThan(5000);
    expect(result).toMatchObject({ ok: false, authType: 'AWS_ROLE' });
    expect(outcomes(result)).toEqual([['assume-role', false]]);
    // A plain Node process gets 'could not reach STS' (the SDK keeps the ECONNREFUSED code). Under
    // jest the socket error comes from another realm than the sandboxed SDK, whose retry layer then
    // re-wraps it without its code, so the generic sentence is what this process can observe.
    expect(['could not reach STS', 'STS could not be asked (unexpected error)']).toContain(result.message);
    expect(await healthz(downVault)).toEqual({ status: 200, body: { status: 'ok' } });
  });

  test('is not ok within the request timeout when STS accepts the connection but never answers, and /healthz answers meanwhile', async () => {
    const {
      value: outcome,
      elapsedMs,
      health,
    } = await whileHealthChecked(hangingVault, () =>
      // The validator asks for a 10 s request timeout with a single attempt; 15 s is ample.
      withinDeadline(validated(anAdmin(hangingVault), { input: { role: aRole() } }, hangingVault), 15_000),
    );

    expect(silent.connections).toBeGreaterThanOrEqual(1);
    expect(health.length).toBeGreaterThan(3);
    expect(health.every((status) => status === 200)).toBe(true);
    expect(outcome.finished).toBe(true);
    if (!outcome.finished) return;
    expect(elapsedMs).toBeLessThan(15_000);
    expect(outcome.value).toMatchObject({ ok: false, message: 'STS did not answer in time' });
    expect(outcomes(outcome.value)).toEqual([['assume-role', false]]);
  }, 30_000);
});

describe('validateAwsRole keeps secrets out of responses and logs', () => {
  const haystacks = (): Haystack[] => [...transcript.received, ...logHaystacks(apps)];

  test('writes an audit line with the outcome of each check', async () => {
    const caller = anAdmin(vault);
    await validated(caller, { input: { role: aRole() } });
    const lines = logEvents(vault.logLines, 'validation.aws_role').filter((line) => line.orgId === caller.orgId);

    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ ok: true, checks: ['assume-role:ok', 'external-id-required:ok'] });
  });

  test('scans responses that carry validation results and log lines that carry audit events', () => {
    const texts = haystacks().map((haystack) => haystack.text);
    expect(texts.some((text) => text.includes(`arn:aws:sts::${ACCOUNT}:assumed-role/`))).toBe(true);
    expect(texts.some((text) => text.includes('"event":"validation.aws_role"'))).toBe(true);
  });

  test('never shows a temporary credential STS issued in a response or a log line', () => {
    expect(sts.issued.length).toBeGreaterThan(5);
    const issued = stsPeers
      .flatMap((peer) => peer.issued)
      .flatMap((credentials, index) => [
        secretNeedle(`issued[${index}].accessKeyId`, credentials.accessKeyId),
        secretNeedle(`issued[${index}].secretAccessKey`, credentials.secretAccessKey),
        secretNeedle(`issued[${index}].sessionToken`, credentials.sessionToken),
      ]);
    expect(findCanaries(issued, haystacks())).toEqual([]);
  });

  test("never shows an external id or this service's own secret access key in a response or a log line", () => {
    expect(externalIds.length).toBeGreaterThan(5);
    expect(transcript.received.length).toBeGreaterThan(10);
    expect(vault.logLines.length).toBeGreaterThan(10);
    const needles = [...externalIds, ...stsPeers.map((peer) => secretNeedle('caller secret access key', peer.caller.secretAccessKey))];
    expect(findCanaries(needles, haystacks())).toEqual([]);
  });
});
