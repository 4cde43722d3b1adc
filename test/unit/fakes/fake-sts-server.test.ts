// The fake STS endpoint, driven by the real @aws-sdk/client-sts (never stubbed): AssumeRole success
// and its XML fields, external-id trust, the confused-deputy role, SigV4 verification (unknown key,
// wrong secret, tampered body, published AWS test vectors), parameter validation, latency, and the
// records a test scans for leaks; GetSessionToken signed by registered IAM user keys (disabled,
// deleted, unknown, session credentials, MFA, DurationSeconds bounds), credentials the fake issued
// used to sign (session token, expiry, role chaining), per-action counters and injected outages.
import { createHash } from 'node:crypto';
import {
  AssumeRoleCommand,
  GetSessionTokenCommand,
  STSClient,
  type AssumeRoleCommandInput,
  type Credentials,
  type GetSessionTokenCommandInput,
} from '@aws-sdk/client-sts';
import { FAKE_STS_CALLER_ARN, sigV4Signature, startFakeSts, type FakeSts } from '../../fakes/fake-sts-server';
import { rejectionOf } from '../../support/failures';

const ROLE = 'arn:aws:iam::123456789012:role/vault-reader';
const OPEN_ROLE = 'arn:aws:iam::123456789012:role/path/to/open-role';
const EXTERNAL_ID = 'vault-tenant-7f3a';

type Keys = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

function client(sts: FakeSts, credentials: Keys = sts.caller, region = 'us-east-1'): STSClient {
  return new STSClient({ endpoint: sts.endpoint, region, credentials, maxAttempts: 1 });
}

/** The key pair (and session token) of credentials STS answered. */
const keysOf = (credentials: Credentials | undefined): Keys => ({
  accessKeyId: credentials!.AccessKeyId!,
  secretAccessKey: credentials!.SecretAccessKey!,
  sessionToken: credentials!.SessionToken!,
});

const sha256 = (data: string) => createHash('sha256').update(data).digest('hex');

/** A Query API POST signed by hand with sigV4Signature (as the SDK signs), to look at the raw answer. */
async function signedPost(sts: FakeSts, keys: Keys, body: string): Promise<Response> {
  const amzDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    host: `127.0.0.1:${sts.port}`,
    'x-amz-date': amzDate,
  };
  if (keys.sessionToken !== undefined) headers['x-amz-security-token'] = keys.sessionToken;
  const signedHeaders = Object.keys(headers).sort();
  const scope = `${amzDate.slice(0, 8)}/us-east-1/sts/aws4_request`;
  const signature = sigV4Signature({
    method: 'POST',
    url: '/',
    headers,
    signedHeaders,
    payloadHash: sha256(body),
    amzDate,
    scope,
    secretAccessKey: keys.secretAccessKey,
  });
  const authorization = `AWS4-HMAC-SHA256 Credential=${keys.accessKeyId}/${scope}, SignedHeaders=${signedHeaders.join(';')}, Signature=${signature}`;
  return fetch(sts.endpoint, { method: 'POST', headers: { ...headers, authorization }, body });
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

  /** GetSessionToken signed with `keys` by a client of its own. */
  async function sessionToken(keys: Keys, input: GetSessionTokenCommandInput = {}) {
    const c = client(sts, keys);
    try {
      return await c.send(new GetSessionTokenCommand(input));
    } finally {
      c.destroy();
    }
  }

  /** AssumeRole of OPEN_ROLE signed with `keys` by a client of its own. */
  async function assumeWith(keys: Keys, input: Partial<AssumeRoleCommandInput> = {}) {
    const c = client(sts, keys);
    try {
      return await assume({ RoleArn: OPEN_ROLE, ...input }, c);
    } finally {
      c.destroy();
    }
  }

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
        action: 'AssumeRole',
        expiration: out.Credentials!.Expiration,
        issuedTo: sts.caller.accessKeyId,
      },
    ]);
    expect(sts.isIssued(out.Credentials!.AccessKeyId!)).toBe(true);
    expect(sts.isIssued(sts.caller.accessKeyId)).toBe(false);
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

  describe('GetSessionToken', () => {
    let user: Keys;

    beforeEach(() => {
      user = sts.createUserKeys({ userName: 'gateway-minter' });
    });

    test('creates active AKIA user key pairs', () => {
      expect(user.accessKeyId).toMatch(/^AKIA[A-Z2-7]{16}$/);
      expect(user.secretAccessKey).toHaveLength(40);
      expect(sts.createUserKeys().accessKeyId).not.toBe(user.accessKeyId);
    });

    test('gives registered user keys session credentials for twelve hours by default', async () => {
      const before = Date.now();
      const out = await sessionToken(user);

      expect(out.Credentials?.AccessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
      expect(out.Credentials?.SecretAccessKey).toHaveLength(40);
      expect(out.Credentials?.SessionToken?.length).toBeGreaterThan(100);
      expect(out.Credentials?.Expiration).toBeInstanceOf(Date);
      const expiresIn = out.Credentials!.Expiration!.getTime() - before;
      expect(expiresIn).toBeGreaterThan(43_195_000);
      expect(expiresIn).toBeLessThan(43_205_000);
      expect(out.$metadata.httpStatusCode).toBe(200);
      expect(out.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);

      expect(sts.issued).toEqual([
        {
          ...keysOf(out.Credentials),
          action: 'GetSessionToken',
          expiration: out.Credentials!.Expiration,
          issuedTo: user.accessKeyId,
        },
      ]);
      expect(sts.isIssued(out.Credentials!.AccessKeyId!)).toBe(true);
      expect(sts.isIssued(user.accessKeyId)).toBe(false);
      expect(sts.requests).toEqual([{ Action: 'GetSessionToken', Version: '2011-06-15' }]);
      expect(sts.requestsFor('GetSessionToken')).toHaveLength(1);
      expect(sts.requestsFor('AssumeRole')).toHaveLength(0);
    });

    test('answers the GetSessionToken XML STS sends', async () => {
      const response = await signedPost(sts, user, 'Action=GetSessionToken&Version=2011-06-15&DurationSeconds=900');
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/xml');
      const requestId = response.headers.get('x-amzn-requestid');
      const xml = await response.text();
      expect(xml).toMatch(
        new RegExp(
          '^<GetSessionTokenResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetSessionTokenResult><Credentials>' +
            '<AccessKeyId>ASIA[A-Z2-7]{16}</AccessKeyId><SecretAccessKey>[A-Za-z0-9]{40}</SecretAccessKey>' +
            '<SessionToken>FwoGZXIvYXdzE[A-Za-z0-9+/=]+</SessionToken><Expiration>\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ</Expiration>' +
            `</Credentials></GetSessionTokenResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>` +
            '</GetSessionTokenResponse>\n$',
        ),
      );
      const expiration = /<Expiration>([^<]+)<\/Expiration>/.exec(xml)![1];
      expect(new Date(expiration)).toEqual(sts.issued[0].expiration);
    });

    test('honours DurationSeconds from 900 to 129600 seconds', async () => {
      for (const seconds of [900, 3600, 129600]) {
        const before = Date.now();
        const out = await sessionToken(user, { DurationSeconds: seconds });
        const expiresIn = out.Credentials!.Expiration!.getTime() - before;
        expect(expiresIn).toBeGreaterThan(seconds * 1000 - 5000);
        expect(expiresIn).toBeLessThan(seconds * 1000 + 2000);
      }
      expect(sts.requestsFor('GetSessionToken').map((request) => request.DurationSeconds)).toEqual(['900', '3600', '129600']);
    });

    test.each([
      [899, 'Member must have value greater than or equal to 900'],
      [129601, 'Member must have value less than or equal to 129600'],
    ])('rejects DurationSeconds %p as ValidationError 400', async (seconds, constraint) => {
      const error = await failure(sessionToken(user, { DurationSeconds: seconds }));
      expect(error.name).toBe('ValidationError');
      expect(error.message).toBe(
        `1 validation error detected: Value '${seconds}' at 'durationSeconds' failed to satisfy constraint: ${constraint}`,
      );
      expect(error.$metadata?.httpStatusCode).toBe(400);
      expect(sts.issued).toHaveLength(0);
    });

    test('rejects a non-numeric DurationSeconds as MalformedInput', async () => {
      const response = await signedPost(sts, user, 'Action=GetSessionToken&Version=2011-06-15&DurationSeconds=12h');
      expect(response.status).toBe(400);
      expect(await response.text()).toContain('<Code>MalformedInput</Code>');
    });

    test('works for any registered key pair, the caller included', async () => {
      sts.registerKeys('AKIAIOSFODNN7EXAMPLE', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY');
      const registered = await sessionToken({
        accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
        secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      });
      expect(registered.Credentials?.AccessKeyId).toMatch(/^ASIA/);
      const fromCaller = await sessionToken(sts.caller);
      expect(fromCaller.Credentials?.AccessKeyId).toMatch(/^ASIA/);
      expect(sts.issued.map((issued) => issued.issuedTo)).toEqual(['AKIAIOSFODNN7EXAMPLE', sts.caller.accessKeyId]);
    });

    test('refuses to register a session key id or the same key twice', () => {
      expect(() => sts.registerKeys('ASIAIOSFODNN7EXAMPLE', 'secret')).toThrow(/AKIA/);
      expect(() => sts.registerKeys(user.accessKeyId, 'other')).toThrow(/already exists/);
      expect(() => sts.disableKeys('AKIAIOSFODNN7EXAMPLE')).toThrow(/no user key/);
    });

    test('rejects an unknown access key as InvalidClientTokenId 403', async () => {
      const error = await failure(sessionToken({ accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: user.secretAccessKey }));
      expect(error.name).toBe('InvalidClientTokenId');
      expect(error.message).toBe('The security token included in the request is invalid.');
      expect(error.$metadata?.httpStatusCode).toBe(403);
      expect(sts.issued).toHaveLength(0);
    });

    test('rejects a wrong secret as SignatureDoesNotMatch 403', async () => {
      const error = await failure(sessionToken({ ...user, secretAccessKey: sts.caller.secretAccessKey }));
      expect(error.name).toBe('SignatureDoesNotMatch');
      expect(error.$metadata?.httpStatusCode).toBe(403);
      expect(sts.issued).toHaveLength(0);
    });

    test('refuses a disabled key until it is enabled again, and a deleted key for good', async () => {
      sts.disableKeys(user.accessKeyId);
      const disabled = await failure(sessionToken(user));
      expect(disabled.name).toBe('InvalidClientTokenId');
      expect(disabled.$metadata?.httpStatusCode).toBe(403);

      sts.enableKeys(user.accessKeyId);
      await expect(sessionToken(user)).resolves.toBeDefined();

      sts.deleteKeys(user.accessKeyId);
      expect((await failure(sessionToken(user))).name).toBe('InvalidClientTokenId');
      expect((await failure(assumeWith(user))).name).toBe('InvalidClientTokenId');
      expect(sts.issued).toHaveLength(1);
    });

    test('refuses session credentials from GetSessionToken or AssumeRole with AccessDenied 403', async () => {
      const fromSession = keysOf((await sessionToken(user)).Credentials);
      const fromRole = keysOf((await assumeWith(user)).Credentials);
      for (const keys of [fromSession, fromRole]) {
        const error = await failure(sessionToken(keys));
        expect(error.name).toBe('AccessDenied');
        expect(error.message).toBe('Cannot call GetSessionToken with session credentials');
        expect(error.$metadata?.httpStatusCode).toBe(403);
      }
      expect(sts.issued).toHaveLength(2);
    });

    test('refuses MFA parameters (its users have no MFA device) and validates their shape', async () => {
      const mfa = await failure(sessionToken(user, { SerialNumber: 'arn:aws:iam::111122223333:mfa/gateway', TokenCode: '123456' }));
      expect(mfa.name).toBe('AccessDenied');
      expect(mfa.message).toMatch(/^MultiFactorAuthentication failed/);
      const badCode = await failure(sessionToken(user, { SerialNumber: 'arn:aws:iam::111122223333:mfa/gateway', TokenCode: '12ab56' }));
      expect(badCode.name).toBe('ValidationError');
      expect(badCode.message).toMatch(/at 'tokenCode' failed to satisfy constraint/);
      expect(sts.issued).toHaveLength(0);
    });
  });

  describe('signing with issued credentials', () => {
    test('accepts them with their session token, until they expire', async () => {
      const session = keysOf((await assumeWith(sts.createUserKeys())).Credentials);
      await expect(assumeWith(session)).resolves.toBeDefined();

      const withoutToken = await failure(assumeWith({ ...session, sessionToken: undefined }));
      expect(withoutToken.name).toBe('InvalidClientTokenId');
      const wrongToken = await failure(assumeWith({ ...session, sessionToken: `${session.sessionToken!.slice(0, -4)}AAA=` }));
      expect(wrongToken.name).toBe('InvalidClientTokenId');

      sts.expireCredentials(session.accessKeyId);
      const expired = await failure(assumeWith(session));
      expect(expired.name).toBe('ExpiredToken');
      expect(expired.$metadata?.httpStatusCode).toBe(403);
    });

    test('refuses a long-lived key sent with a session token', async () => {
      const error = await failure(assumeWith({ ...sts.caller, sessionToken: 'FwoGZXIvYXdzEnotatoken' }));
      expect(error.name).toBe('InvalidClientTokenId');
    });

    test('names the signing user in AccessDenied, and limits role chaining to one hour', async () => {
      const user = sts.createUserKeys({ userName: 'gateway', account: '444455556666' });
      const denied = await failure(assumeWith(user, { RoleArn: ROLE, ExternalId: 'wrong-id' }));
      expect(denied.message).toBe(
        `User: arn:aws:iam::444455556666:user/gateway is not authorized to perform: sts:AssumeRole on resource: ${ROLE}`,
      );

      sts.addRole({ arn: 'arn:aws:iam::123456789012:role/long', trustsAnyone: true, maxSessionDurationSeconds: 43200 });
      const long = { RoleArn: 'arn:aws:iam::123456789012:role/long', DurationSeconds: 7200 };
      const userSession = keysOf((await sessionToken(user)).Credentials);
      await expect(assumeWith(userSession, long)).resolves.toBeDefined();

      const roleSession = keysOf((await assumeWith(user)).Credentials);
      const chained = await failure(assumeWith(roleSession, long));
      expect(chained.name).toBe('ValidationError');
      expect(chained.message).toBe('The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.');
      const chainedDenied = await failure(assumeWith(roleSession, { RoleArn: ROLE }));
      expect(chainedDenied.message).toBe(
        `User: arn:aws:sts::123456789012:assumed-role/open-role/vault-session is not authorized to perform: sts:AssumeRole on resource: ${ROLE}`,
      );
      await expect(assumeWith(roleSession, { ...long, DurationSeconds: 3600 })).resolves.toBeDefined();
    });
  });

  describe('records', () => {
    test('counts calls per Action, failed ones included, until reset', async () => {
      const user = sts.createUserKeys();
      await sessionToken(user);
      await sessionToken(user);
      await failure(sessionToken({ ...user, secretAccessKey: sts.caller.secretAccessKey }));
      await assume({ RoleArn: OPEN_ROLE });
      await failure(assume({}));
      expect(sts.calls).toEqual({ AssumeRole: 2, GetSessionToken: 3 });
      expect(sts.requests.map((request) => request.Action)).toEqual([
        'GetSessionToken',
        'GetSessionToken',
        'GetSessionToken',
        'AssumeRole',
        'AssumeRole',
      ]);

      sts.resetCalls();
      expect(sts.calls).toEqual({ AssumeRole: 0, GetSessionToken: 0 });
      expect(sts.requests).toHaveLength(5);

      const unknown = await signedPost(sts, user, 'Action=GetCallerIdentity&Version=2011-06-15');
      expect(unknown.status).toBe(400);
      expect(await unknown.text()).toContain('<Code>InvalidAction</Code>');
      expect(sts.calls).toEqual({ AssumeRole: 0, GetSessionToken: 0, GetCallerIdentity: 1 });
      expect(sts.requests).toHaveLength(5);
    });

    test('logs each exchange with the signing key and the answer', async () => {
      const user = sts.createUserKeys();
      const ok = await sessionToken(user);
      await failure(sessionToken({ accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'x' }));
      expect(sts.exchanges).toEqual([
        { requestId: ok.$metadata.requestId, action: 'GetSessionToken', accessKeyId: user.accessKeyId, status: 200 },
        {
          requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
          action: 'GetSessionToken',
          accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
          status: 403,
          code: 'InvalidClientTokenId',
        },
      ]);
    });
  });

  describe('outages', () => {
    test('fails the next calls with 503 ServiceUnavailable, then recovers', async () => {
      sts.failNext(2);
      const first = await failure(assume({ RoleArn: OPEN_ROLE }));
      expect(first.name).toBe('ServiceUnavailable');
      expect(first.$metadata?.httpStatusCode).toBe(503);
      expect((await failure(sessionToken(sts.caller))).name).toBe('ServiceUnavailable');
      await expect(sessionToken(sts.caller)).resolves.toBeDefined();
      expect(sts.calls).toEqual({ AssumeRole: 1, GetSessionToken: 2 });
      expect(sts.requests).toHaveLength(3);
    });

    test('fails only the named Action, with the status and code asked for', async () => {
      sts.failNext(1, { action: 'GetSessionToken', status: 400, code: 'Throttling' });
      await expect(assume({ RoleArn: OPEN_ROLE })).resolves.toBeDefined();
      const throttled = await failure(sessionToken(sts.caller));
      expect(throttled.name).toBe('Throttling');
      expect(throttled.message).toBe('Rate exceeded');
      expect(throttled.$metadata?.httpStatusCode).toBe(400);
      await expect(sessionToken(sts.caller)).resolves.toBeDefined();
    });

    test('keeps failing through a lasting outage until the failures are cleared', async () => {
      sts.failNext(Infinity, { status: 500, code: 'InternalFailure' });
      for (let i = 0; i < 3; i += 1) expect((await failure(assume({ RoleArn: OPEN_ROLE }))).name).toBe('InternalFailure');
      sts.clearFailures();
      await expect(assume({ RoleArn: OPEN_ROLE })).resolves.toBeDefined();
      expect(() => sts.failNext(0)).toThrow(/failure count/);
    });

    test('never answers the next call when told to hang', async () => {
      sts.hangNext(1, { action: 'GetSessionToken' });
      const impatient = new STSClient({
        endpoint: sts.endpoint,
        region: 'us-east-1',
        credentials: sts.caller,
        maxAttempts: 1,
        requestHandler: { requestTimeout: 300, throwOnRequestTimeout: true },
      });
      try {
        const started = Date.now();
        const error = await failure(impatient.send(new GetSessionTokenCommand({})));
        expect(error.name).toBe('TimeoutError');
        expect(Date.now() - started).toBeGreaterThanOrEqual(290);
        expect(sts.exchanges[0]).toEqual({ requestId: expect.any(String), action: 'GetSessionToken' });
        await expect(impatient.send(new GetSessionTokenCommand({}))).resolves.toBeDefined();
      } finally {
        impatient.destroy();
      }
      expect(sts.issued).toHaveLength(1);
    });
  });
});
