// The fake STS endpoint, driven by the real @aws-sdk/client-sts (never stubbed): AssumeRole success
// and its XML fields, external-id trust, the confused-deputy role, SigV4 verification (unknown key,
// wrong secret, tampered body, published AWS test vectors), parameter validation, latency, and the
// records a test scans for leaks.
import { createHash } from 'node:crypto';
import { AssumeRoleCommand, STSClient, type AssumeRoleCommandInput } from '@aws-sdk/client-sts';
import { FAKE_STS_CALLER_ARN, sigV4Signature, startFakeSts, type FakeSts } from '../../fakes/fake-sts-server';
import { rejectionOf } from '../../support/failures';

const ROLE = 'arn:aws:iam::123456789012:role/vault-reader';
const OPEN_ROLE = 'arn:aws:iam::123456789012:role/path/to/open-role';
const EXTERNAL_ID = 'vault-tenant-7f3a';

function client(sts: FakeSts, credentials = sts.caller, region = 'us-east-1'): STSClient {
  return new STSClient({ endpoint: sts.endpoint, region, credentials, maxAttempts: 1 });
}

/** The error a call rejected with. */
const failure = async (promise: Promise<unknown>) => (await rejectionOf(promise)) as Error & { $metadata?: { httpStatusCode?: number } };

describe('fake STS', () => {
  let sts: FakeSts;
  let stsClient: STSClient;

  beforeEach(async () => {
    sts = await startFakeSts();
    sts.addRole({ arn: ROLE, externalId: EXTERNAL_ID });
    sts.addRole({ arn: OPEN_ROLE, trustsAnyone: true });
    stsClient = client(sts);
  });

  afterEach(async () => {
    stsClient.destroy();
    await sts.close();
  });

  const assume = (input: Partial<AssumeRoleCommandInput>, c: STSClient = stsClient) =>
    c.send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'vault-session', ...input }));

  test('listens on loopback with a caller key pair', () => {
    expect(sts.endpoint).toBe(`http://127.0.0.1:${sts.port}`);
    expect(sts.caller.accessKeyId).toMatch(/^AKIA[A-Z2-7]{16}$/);
    expect(sts.caller.secretAccessKey).toHaveLength(40);
  });

  test('assumes a role with the right external id and returns STS-shaped credentials', async () => {
    const before = Date.now();
    const out = await assume({ ExternalId: EXTERNAL_ID, DurationSeconds: 900 });

    expect(out.Credentials?.AccessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(out.Credentials?.SecretAccessKey).toHaveLength(40);
    expect(out.Credentials?.SessionToken?.length).toBeGreaterThan(100);
    expect(out.Credentials?.Expiration).toBeInstanceOf(Date);
    const expiresIn = out.Credentials!.Expiration!.getTime() - before;
    expect(expiresIn).toBeGreaterThan(895_000);
    expect(expiresIn).toBeLessThan(905_000);
    expect(out.AssumedRoleUser?.Arn).toBe('arn:aws:sts::123456789012:assumed-role/vault-reader/vault-session');
    expect(out.AssumedRoleUser?.AssumedRoleId).toMatch(/^AROA[A-Z2-7]{17}:vault-session$/);
    expect(out.$metadata.httpStatusCode).toBe(200);
    expect(out.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);

    expect(sts.issued).toEqual([
      {
        accessKeyId: out.Credentials!.AccessKeyId,
        secretAccessKey: out.Credentials!.SecretAccessKey,
        sessionToken: out.Credentials!.SessionToken,
      },
    ]);
    expect(sts.requests).toEqual([
      expect.objectContaining({
        Action: 'AssumeRole',
        Version: '2011-06-15',
        RoleArn: ROLE,
        RoleSessionName: 'vault-session',
        ExternalId: EXTERNAL_ID,
        DurationSeconds: '900',
      }),
    ]);
  });

  test('keeps the assumed role id stable per role and defaults to a one-hour session', async () => {
    const a = await assume({ ExternalId: EXTERNAL_ID });
    const b = await assume({ ExternalId: EXTERNAL_ID, RoleSessionName: 'other' });
    expect(a.AssumedRoleUser!.AssumedRoleId!.split(':')[0]).toBe(b.AssumedRoleUser!.AssumedRoleId!.split(':')[0]);
    expect(a.Credentials!.AccessKeyId).not.toBe(b.Credentials!.AccessKeyId);
    expect(a.Credentials!.Expiration!.getTime() - Date.now()).toBeGreaterThan(3_500_000);
    expect(sts.requests[0]).not.toHaveProperty('DurationSeconds');
  });

  test('denies a wrong external id', async () => {
    const error = await failure(assume({ ExternalId: 'someone-elses-id' }));
    expect(error.name).toBe('AccessDenied');
    expect(error.message).toBe(`User: ${FAKE_STS_CALLER_ARN} is not authorized to perform: sts:AssumeRole on resource: ${ROLE}`);
    expect(error.$metadata?.httpStatusCode).toBe(403);
    expect(sts.issued).toHaveLength(0);
  });

  test('denies a missing external id when the role requires one', async () => {
    const error = await failure(assume({}));
    expect(error.name).toBe('AccessDenied');
    expect(sts.requests[0]).not.toHaveProperty('ExternalId');
  });

  test('denies an unknown role', async () => {
    const error = await failure(assume({ RoleArn: 'arn:aws:iam::123456789012:role/nope', ExternalId: EXTERNAL_ID }));
    expect(error.name).toBe('AccessDenied');
  });

  test('lets anyone assume a role that trusts anyone, with or without an external id', async () => {
    const without = await assume({ RoleArn: OPEN_ROLE });
    expect(without.AssumedRoleUser?.Arn).toBe('arn:aws:sts::123456789012:assumed-role/open-role/vault-session');
    const withId = await assume({ RoleArn: OPEN_ROLE, ExternalId: 'anything-goes' });
    expect(withId.Credentials?.AccessKeyId).toMatch(/^ASIA/);
  });

  test('assumes a role that names no external id with or without one', async () => {
    sts.addRole({ arn: 'arn:aws:iam::123456789012:role/plain' });
    await expect(assume({ RoleArn: 'arn:aws:iam::123456789012:role/plain' })).resolves.toBeDefined();
    await expect(assume({ RoleArn: 'arn:aws:iam::123456789012:role/plain', ExternalId: 'xx' })).resolves.toBeDefined();
  });

  describe('SigV4', () => {
    test('rejects a wrong caller secret as SignatureDoesNotMatch', async () => {
      const wrong = client(sts, { ...sts.caller, secretAccessKey: `${sts.caller.secretAccessKey.slice(1)}x` });
      const error = await failure(assume({ ExternalId: EXTERNAL_ID }, wrong));
      wrong.destroy();
      expect(error.name).toBe('SignatureDoesNotMatch');
      expect(error.$metadata?.httpStatusCode).toBe(403);
      expect(sts.issued).toHaveLength(0);
    });

    test('rejects an unknown access key as InvalidClientTokenId', async () => {
      const stranger = client(sts, { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: sts.caller.secretAccessKey });
      const error = await failure(assume({ ExternalId: EXTERNAL_ID }, stranger));
      stranger.destroy();
      expect(error.name).toBe('InvalidClientTokenId');
      expect(error.$metadata?.httpStatusCode).toBe(403);
    });

    test('rejects a signature scoped to another region', async () => {
      const elsewhere = client(sts, sts.caller, 'eu-west-1');
      const error = await failure(assume({ ExternalId: EXTERNAL_ID }, elsewhere));
      elsewhere.destroy();
      expect(error.name).toBe('SignatureDoesNotMatch');
    });

    test('rejects a signature dated more than 15 minutes away', async () => {
      const skewed = new STSClient({
        endpoint: sts.endpoint,
        region: 'us-east-1',
        credentials: sts.caller,
        maxAttempts: 1,
        systemClockOffset: -20 * 60 * 1000,
      });
      const error = await failure(assume({ RoleArn: OPEN_ROLE }, skewed));
      skewed.destroy();
      expect(error.name).toBe('SignatureDoesNotMatch');
      expect(error.message).toMatch(/^Signature expired: /);
    });

    test('accepts the region it was started with', async () => {
      const regional = await startFakeSts({ region: 'eu-central-1' });
      regional.addRole({ arn: OPEN_ROLE, trustsAnyone: true });
      const c = client(regional, regional.caller, 'eu-central-1');
      try {
        await expect(assume({ RoleArn: OPEN_ROLE }, c)).resolves.toBeDefined();
      } finally {
        c.destroy();
        await regional.close();
      }
    });

    test('rejects a request without a signature, and a tampered body', async () => {
      const body = `Action=AssumeRole&Version=2011-06-15&RoleArn=${encodeURIComponent(OPEN_ROLE)}&RoleSessionName=s1`;
      const unsigned = await fetch(sts.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });
      expect(unsigned.status).toBe(403);
      expect(await unsigned.text()).toContain('<Code>MissingAuthenticationToken</Code>');

      // Replay the SDK's own signed headers with a different body: the payload hash no longer matches.
      let captured: Record<string, string> = {};
      stsClient.middlewareStack.add(
        (next) => async (args) => {
          captured = { ...(args.request as { headers: Record<string, string> }).headers };
          return next(args);
        },
        { step: 'finalizeRequest', priority: 'low' },
      );
      await assume({ RoleArn: OPEN_ROLE });
      const headers = Object.fromEntries(Object.entries(captured).filter(([k]) => k.toLowerCase() !== 'content-length'));
      const tampered = await fetch(sts.endpoint, {
        method: 'POST',
        headers,
        body: body.replace('s1', 's2'),
      });
      expect(tampered.status).toBe(403);
      expect(await tampered.text()).toContain('<Code>SignatureDoesNotMatch</Code>');

      // Declaring the new body's hash does not help: x-amz-content-sha256 is itself a signed header.
      const rehashed = await fetch(sts.endpoint, {
        method: 'POST',
        headers: { ...headers, 'x-amz-content-sha256': createHash('sha256').update(body.replace('s1', 's2')).digest('hex') },
        body: body.replace('s1', 's2'),
      });
      expect(rehashed.status).toBe(403);
      expect(await rehashed.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
      expect(sts.issued).toHaveLength(1);
    });

    test('computes the published AWS SigV4 test-suite signatures', () => {
      const base = {
        method: 'GET',
        headers: { host: 'example.amazonaws.com', 'x-amz-date': '20150830T123600Z' },
        signedHeaders: ['host', 'x-amz-date'],
        payloadHash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
        amzDate: '20150830T123600Z',
        scope: '20150830/us-east-1/service/aws4_request',
        secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      };
      // get-vanilla
      expect(sigV4Signature({ ...base, url: '/' })).toBe('5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31');
      // get-vanilla-query-order-key-case
      expect(sigV4Signature({ ...base, url: '/?Param2=value2&Param1=value1' })).toBe(
        'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500',
      );
    });
  });

  describe('validation', () => {
    test('rejects DurationSeconds below 900 as ValidationError 400', async () => {
      const error = await failure(assume({ ExternalId: EXTERNAL_ID, DurationSeconds: 899 }));
      expect(error.name).toBe('ValidationError');
      expect(error.message).toBe(
        "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900",
      );
      expect(error.$metadata?.httpStatusCode).toBe(400);
    });

    test("rejects DurationSeconds beyond the role's MaxSessionDuration", async () => {
      const error = await failure(assume({ ExternalId: EXTERNAL_ID, DurationSeconds: 7200 }));
      expect(error.name).toBe('ValidationError');
      expect(error.message).toMatch(/exceeds the MaxSessionDuration/);
      sts.addRole({ arn: 'arn:aws:iam::123456789012:role/long', trustsAnyone: true, maxSessionDurationSeconds: 43200 });
      await expect(assume({ RoleArn: 'arn:aws:iam::123456789012:role/long', DurationSeconds: 43200 })).resolves.toBeDefined();
    });

    test.each(['x', 'has space', 'semi;colon', 'a'.repeat(65)])('rejects RoleSessionName %p', async (name) => {
      const error = await failure(assume({ RoleArn: OPEN_ROLE, RoleSessionName: name }));
      expect(error.name).toBe('ValidationError');
      expect(error.$metadata?.httpStatusCode).toBe(400);
      expect(error.message).toMatch(/at 'roleSessionName' failed to satisfy constraint/);
    });

    test('accepts every RoleSessionName character STS allows', async () => {
      await expect(assume({ RoleArn: OPEN_ROLE, RoleSessionName: 'a_B+9=x,y.z@w-v' })).resolves.toBeDefined();
    });

    test('rejects a malformed external id', async () => {
      const error = await failure(assume({ RoleArn: OPEN_ROLE, ExternalId: 'bad id!' }));
      expect(error.name).toBe('ValidationError');
    });
  });

  test('delays responses by the configured latency', async () => {
    sts.setLatency(300);
    const started = Date.now();
    await assume({ RoleArn: OPEN_ROLE });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    sts.setLatency(0);
  });
});
