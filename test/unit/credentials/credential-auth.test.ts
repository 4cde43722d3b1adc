// resolveAuth: what each member of CredentialAuthInput becomes, and every limit at its exact
// boundary. A rejection names the input path and never repeats the value it rejected.
import { generateKeyPairSync } from 'node:crypto';
import {
  AUTH_MEMBER_TYPES,
  type AuthRequest,
  chosenMember,
  LIMITS,
  OAUTH_PASSTHROUGH_MESSAGE,
  resolveAuth,
} from '../../../src/credentials/credential-auth';
import { BadUserInputError } from '../../../src/errors/app-error';
import { thrownBy } from '../../support/failures';

const TOKEN_URL = 'https://oauth2.googleapis.com/token';
const PATH = 'input.auth';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const RSA_PKCS8 = rsa.export({ type: 'pkcs8', format: 'pem' }) as string;
const RSA_PKCS1 = rsa.export({ type: 'pkcs1', format: 'pem' }) as string;
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const EC_PKCS8 = ec.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const EC_SEC1 = ec.privateKey.export({ type: 'sec1', format: 'pem' }) as string;
const RSA_PUBLIC = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }) as string;

const ARN = 'arn:aws:iam::123456789012:role/vault-reader';
const TARGET = 'vault@my-project.iam.gserviceaccount.com';

function resolve(auth: AuthRequest) {
  return resolveAuth(auth, PATH, { googleTokenUrl: TOKEN_URL });
}

/** Rejected on `field`, and neither the message nor the extensions repeat `value`. */
function expectRejected(auth: AuthRequest, field: string, value?: string): BadUserInputError {
  const error = thrownBy(() => resolve(auth), BadUserInputError);
  expect(error.field).toBe(field);
  expect(error.toExtensions()).toEqual({ code: 'BAD_USER_INPUT', field });
  if (value !== undefined && value.trim() !== '') {
    expect(error.message).not.toContain(value.trim());
    expect(JSON.stringify(error.toExtensions())).not.toContain(value.trim());
  }
  return error;
}

const serviceAccount = (overrides: Record<string, unknown> = {}) => ({
  googleServiceAccount: {
    clientEmail: 'vault@my-project.iam.gserviceaccount.com',
    privateKey: RSA_PKCS8,
    privateKeyId: 'a1b2c3d4e5f6',
    projectId: 'my-project',
    ...overrides,
  } as never,
});

describe('oneOf', () => {
  test('no member is rejected on the auth path, counting 0', () => {
    expect(expectRejected({}, PATH).message).toBe('Exactly one auth member must be given; got 0.');
  });

  test('two members are rejected on the auth path, counting 2', () => {
    const error = expectRejected({ apiKey: { apiKey: 'sk-0123456789' }, googleAdc: {} }, PATH);
    expect(error.message).toBe('Exactly one auth member must be given; got 2.');
  });

  test('every member at once is rejected, counting all of them', () => {
    const all = Object.fromEntries(Object.keys(AUTH_MEMBER_TYPES).map((member) => [member, {}])) as AuthRequest;
    expect(expectRejected(all, PATH).message).toBe(`Exactly one auth member must be given; got ${Object.keys(AUTH_MEMBER_TYPES).length}.`);
  });

  test('null members do not count', () => {
    expect(chosenMember({ apiKey: null, awsRole: null, googleAdc: {} }, PATH)).toBe('googleAdc');
  });

  test('the path given is the one reported', () => {
    expect(thrownBy(() => chosenMember({}, 'input.thing'))).toMatchObject({ field: 'input.thing' });
  });
});

describe('each member becomes its auth type', () => {
  test('apiKey → API_KEY, the key sealed, its last four characters kept', () => {
    expect(resolve({ apiKey: { apiKey: 'sk-live-0123456789abcd' } })).toEqual({
      authType: 'API_KEY',
      secretPayload: { apiKey: 'sk-live-0123456789abcd' },
      authParameters: {},
      keyLast4: 'abcd',
    });
  });

  test('bedrockApiKey → BEDROCK_API_KEY, the key sealed, its last four characters kept', () => {
    expect(resolve({ bedrockApiKey: { apiKey: 'ABSKbedrock-key-wxyz' } })).toEqual({
      authType: 'BEDROCK_API_KEY',
      secretPayload: { apiKey: 'ABSKbedrock-key-wxyz' },
      authParameters: {},
      keyLast4: 'wxyz',
    });
  });

  test('awsRole → AWS_ROLE, role ARN and external id both sealed, no last4', () => {
    expect(resolve({ awsRole: { iamRoleArn: ARN, externalId: 'ext-123' } })).toEqual({
      authType: 'AWS_ROLE',
      secretPayload: { iamRoleArn: ARN, externalId: 'ext-123' },
      authParameters: {},
      keyLast4: null,
    });
  });

  test('awsKeys → AWS_KEYS, without a session token when none is given', () => {
    expect(
      resolve({ awsKeys: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' } }),
    ).toEqual({
      authType: 'AWS_KEYS',
      secretPayload: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
      authParameters: {},
      keyLast4: null,
    });
  });

  test('awsKeys with a session token seals it too', () => {
    const resolved = resolve({
      awsKeys: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'secret', sessionToken: 'FwoGZXIvYXdzEBY' },
    });
    expect(resolved.secretPayload).toEqual({
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      secretAccessKey: 'secret',
      sessionToken: 'FwoGZXIvYXdzEBY',
    });
  });

  test('awsKeys with a null session token stores none', () => {
    const resolved = resolve({ awsKeys: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'secret', sessionToken: null } });
    expect(resolved.secretPayload).not.toHaveProperty('sessionToken');
  });

  test('googleAdc → GOOGLE_ADC with no secret at all', () => {
    expect(resolve({ googleAdc: {} })).toEqual({ authType: 'GOOGLE_ADC', secretPayload: null, authParameters: {}, keyLast4: null });
  });

  test('googleAdc keeps its quota project in clear, as an auth parameter', () => {
    expect(resolve({ googleAdc: { quotaProjectId: 'billing-project' } })).toEqual({
      authType: 'GOOGLE_ADC',
      secretPayload: null,
      authParameters: { quotaProjectId: 'billing-project' },
      keyLast4: null,
    });
  });

  test('googleServiceAccount → GOOGLE_SERVICE_ACCOUNT, the key file fields sealed', () => {
    expect(resolve(serviceAccount({ clientId: '123456789012345678901' }))).toEqual({
      authType: 'GOOGLE_SERVICE_ACCOUNT',
      secretPayload: {
        clientEmail: 'vault@my-project.iam.gserviceaccount.com',
        privateKey: RSA_PKCS8,
        privateKeyId: 'a1b2c3d4e5f6',
        projectId: 'my-project',
        clientId: '123456789012345678901',
      },
      authParameters: {},
      keyLast4: null,
    });
  });

  test('googleImpersonation → GOOGLE_IMPERSONATION, target only when nothing else is given', () => {
    expect(resolve({ googleImpersonation: { targetPrincipal: TARGET } })).toEqual({
      authType: 'GOOGLE_IMPERSONATION',
      secretPayload: { targetPrincipal: TARGET },
      authParameters: {},
      keyLast4: null,
    });
  });

  test('googleImpersonation keeps delegates and scopes', () => {
    const delegates = ['hop@my-project.iam.gserviceaccount.com'];
    const scopes = ['https://www.googleapis.com/auth/cloud-platform'];
    expect(resolve({ googleImpersonation: { targetPrincipal: TARGET, delegates, scopes } }).secretPayload).toEqual({
      targetPrincipal: TARGET,
      delegates,
      scopes,
    });
  });

  test("oauthPassthrough is refused with the contract's explanation", () => {
    const error = expectRejected({ oauthPassthrough: true }, `${PATH}.oauthPassthrough`);
    expect(error.message).toBe(OAUTH_PASSTHROUGH_MESSAGE);
    expect(error.message).toMatch(/Anthropic OAuth passthrough is configured on a provider/);
  });

  test('the member map covers every auth type, a service account by its fields or by its key file', () => {
    expect(Object.values(AUTH_MEMBER_TYPES).sort()).toEqual([
      'API_KEY',
      'AWS_KEYS',
      'AWS_ROLE',
      'BEDROCK_API_KEY',
      'GOOGLE_ADC',
      'GOOGLE_IMPERSONATION',
      'GOOGLE_SERVICE_ACCOUNT',
      'GOOGLE_SERVICE_ACCOUNT',
      'OAUTH_PASSTHROUGH',
    ]);
    expect(AUTH_MEMBER_TYPES.googleServiceAccountKeyFile).toBe('GOOGLE_SERVICE_ACCOUNT');
  });
});

describe('API keys', () => {
  const field = `${PATH}.apiKey.apiKey`;

  test(`${LIMITS.apiKeyMaxBytes} bytes are accepted`, () => {
    expect(resolve({ apiKey: { apiKey: 'k'.repeat(4096) } }).secretPayload).toEqual({ apiKey: 'k'.repeat(4096) });
  });

  test('4097 bytes are rejected', () => {
    const key = `canary${'k'.repeat(4091)}`;
    expect(expectRejected({ apiKey: { apiKey: key } }, field, 'canary').message).toBe('The API key must be at most 4096 bytes.');
  });

  test('two-byte characters are rejected whatever the length: API keys are printable ASCII', () => {
    expect(expectRejected({ apiKey: { apiKey: 'é'.repeat(2048) } }, field).message).toMatch(/printable ASCII/);
  });

  test('the limit counts UTF-8 bytes: 2048 two-byte characters and one more byte are rejected', () => {
    expect(expectRejected({ apiKey: { apiKey: `${'é'.repeat(2048)}k` } }, field).message).toBe('The API key must be at most 4096 bytes.');
  });

  test(`${LIMITS.apiKeyMinLength} characters are accepted`, () => {
    expect(resolve({ apiKey: { apiKey: 'sk-12345' } }).keyLast4).toBe('2345');
  });

  test('7 characters are rejected (keyLast4 would give most of it away)', () => {
    expect(expectRejected({ apiKey: { apiKey: 'sk-1234' } }, field, 'sk-1234').message).toBe('The API key must be at least 8 characters.');
  });

  test.each([
    ['empty', ''],
    ['blank', '   '],
  ])('an %s key is required', (_label, apiKey) => {
    expect(expectRejected({ apiKey: { apiKey } }, field).message).toBe('The API key is required.');
  });

  test.each([
    ['a space inside', 'sk-canary 0123456789'],
    ['a trailing newline', 'sk-canary0123456789\n'],
    ['a leading space', ' sk-canary0123456789'],
    ['a tab', 'sk-canary\t0123456789'],
    ['a NUL', 'sk-canary\u00000123456789'],
    ['a DEL', 'sk-canary\u007f0123456789'],
  ])('a key with %s is rejected without echoing it', (_label, apiKey) => {
    const error = expectRejected({ apiKey: { apiKey } }, field, 'canary');
    expect(error.message).toBe('The API key must not contain spaces, line breaks or control characters.');
  });

  test('bedrockApiKey has the same limits, on its own path', () => {
    expectRejected({ bedrockApiKey: { apiKey: 'k'.repeat(4097) } }, `${PATH}.bedrockApiKey.apiKey`);
  });
});

describe('AWS role', () => {
  const role = (iamRoleArn: string, externalId = 'ext-123') => ({ awsRole: { iamRoleArn, externalId } });

  test.each([
    ['the aws partition', 'arn:aws:iam::123456789012:role/vault'],
    ['the aws-cn partition', 'arn:aws-cn:iam::123456789012:role/vault'],
    ['the aws-us-gov partition', 'arn:aws-us-gov:iam::123456789012:role/vault'],
    ['a role path', 'arn:aws:iam::123456789012:role/service-role/gateway/vault'],
    ['every character IAM allows in a name', 'arn:aws:iam::123456789012:role/a_b+c=d,e.f@g-h'],
  ])('an ARN in %s is accepted', (_label, arn) => {
    expect(resolve(role(arn)).secretPayload).toEqual({ iamRoleArn: arn, externalId: 'ext-123' });
  });

  test.each([
    ['an 11-digit account', 'arn:aws:iam::12345678901:role/canary'],
    ['a 13-digit account', 'arn:aws:iam::1234567890123:role/canary'],
    ['a user instead of a role', 'arn:aws:iam::123456789012:user/canary'],
    ['an STS assumed-role ARN', 'arn:aws:sts::123456789012:assumed-role/canary/session'],
    ['another service', 'arn:aws:s3:::canary'],
    ['a region in an IAM ARN', 'arn:aws:iam:us-east-1:123456789012:role/canary'],
    ['no role name', 'arn:aws:iam::123456789012:role/'],
    ['no arn: prefix', 'aws:iam::123456789012:role/canary'],
    ['a space in the name', 'arn:aws:iam::123456789012:role/canary name'],
    ['a trailing newline', 'arn:aws:iam::123456789012:role/canary\n'],
    ['an upper-case partition', 'arn:AWS:iam::123456789012:role/canary'],
  ])('an ARN with %s is rejected without echoing it', (_label, arn) => {
    const error = expectRejected(role(arn), `${PATH}.awsRole.iamRoleArn`, 'canary');
    expect(error.message).toBe('iamRoleArn must look like arn:aws:iam::123456789012:role/name.');
  });

  test('a missing ARN is required', () => {
    expect(expectRejected({ awsRole: { externalId: 'ext' } as never }, `${PATH}.awsRole.iamRoleArn`).message).toBe(
      'iamRoleArn is required.',
    );
  });

  test(`an external id of ${LIMITS.externalIdMin} characters is accepted`, () => {
    expect(() => resolve(role(ARN, 'ab'))).not.toThrow();
  });

  test('an external id of 1 character is rejected', () => {
    expect(expectRejected(role(ARN, 'q'), `${PATH}.awsRole.externalId`).message).toBe('externalId must be 2 to 1224 characters.');
  });

  test(`an external id of ${LIMITS.externalIdMax} characters is accepted`, () => {
    expect(() => resolve(role(ARN, 'x'.repeat(1224)))).not.toThrow();
  });

  test('an external id of 1225 characters is rejected without echoing it', () => {
    const externalId = `canary${'x'.repeat(1219)}`;
    expect(expectRejected(role(ARN, externalId), `${PATH}.awsRole.externalId`, 'canary').message).toBe(
      'externalId must be 2 to 1224 characters.',
    );
  });

  test('an external id may use every character AWS allows', () => {
    expect(() => resolve(role(ARN, 'aZ09+=,.@:/-_'))).not.toThrow();
  });

  test.each([
    ['a space', 'canary id'],
    ['a semicolon', 'canary;id'],
    ['a quote', 'canary"id'],
  ])('an external id with %s is rejected without echoing it', (_label, externalId) => {
    const error = expectRejected(role(ARN, externalId), `${PATH}.awsRole.externalId`, 'canary');
    expect(error.message).toBe('externalId may contain only letters, digits and + = , . @ : / - _.');
  });

  test('a missing external id is generated: unguessable, sealed, and kept in clear as the generated one', () => {
    const first = resolve({ awsRole: { iamRoleArn: ARN } });
    const second = resolve({ awsRole: { iamRoleArn: ARN } });
    const generated = first.authParameters.generatedExternalId;
    expect(generated).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(second.authParameters.generatedExternalId).not.toBe(generated);
    expect(first.secretPayload).toEqual({ iamRoleArn: ARN, externalId: generated });
  });

  test('a rotation without an external id keeps the one generated before', () => {
    const kept = resolveAuth({ awsRole: { iamRoleArn: ARN, externalId: null } }, PATH, {
      googleTokenUrl: TOKEN_URL,
      generatedExternalId: 'vault-generated-0123456789abcdef',
    });
    expect(kept.secretPayload).toEqual({ iamRoleArn: ARN, externalId: 'vault-generated-0123456789abcdef' });
    expect(kept.authParameters).toEqual({ generatedExternalId: 'vault-generated-0123456789abcdef' });
  });

  test('an external id the admin gives is sealed and not kept in clear', () => {
    const given = resolve(role(ARN, 'ext-123'));
    expect(given.secretPayload).toEqual({ iamRoleArn: ARN, externalId: 'ext-123' });
    expect(given.authParameters).toEqual({});
  });
});

describe('AWS keys', () => {
  const keys = (overrides: Record<string, unknown>) => ({
    awsKeys: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG', ...overrides } as never,
  });

  test('an access key id of 16 and of 128 upper-case letters and digits is accepted', () => {
    expect(() => resolve(keys({ accessKeyId: 'A'.repeat(16) }))).not.toThrow();
    expect(() => resolve(keys({ accessKeyId: '7'.repeat(128) }))).not.toThrow();
  });

  test.each([
    ['15 characters', 'AKIACANARY12345'],
    ['129 characters', `AKIACANARY${'A'.repeat(119)}`],
    ['lower case', 'akiacanary1234567'],
    ['a space', 'AKIACANARY 1234567'],
  ])('an access key id of %s is rejected without echoing it', (_label, accessKeyId) => {
    expectRejected(keys({ accessKeyId }), `${PATH}.awsKeys.accessKeyId`, accessKeyId);
  });

  test('a secret access key of 1024 bytes is accepted', () => {
    expect(() => resolve(keys({ secretAccessKey: 's'.repeat(1024) }))).not.toThrow();
  });

  test('a secret access key of 1025 bytes is rejected without echoing it', () => {
    expectRejected(keys({ secretAccessKey: `canary${'s'.repeat(1019)}` }), `${PATH}.awsKeys.secretAccessKey`, 'canary');
  });

  test('a secret access key with a line break is rejected without echoing it', () => {
    expectRejected(keys({ secretAccessKey: 'canary-secret\n' }), `${PATH}.awsKeys.secretAccessKey`, 'canary-secret');
  });

  test(`a session token of ${LIMITS.sessionTokenMaxBytes} bytes is accepted`, () => {
    expect(() => resolve(keys({ sessionToken: 't'.repeat(8192) }))).not.toThrow();
  });

  test('a session token of 8193 bytes is rejected without echoing it', () => {
    expectRejected(keys({ sessionToken: `canary${'t'.repeat(8187)}` }), `${PATH}.awsKeys.sessionToken`, 'canary');
  });

  test('an empty session token is rejected', () => {
    expectRejected(keys({ sessionToken: '' }), `${PATH}.awsKeys.sessionToken`);
  });
});

describe('Google ADC quota project', () => {
  test.each([
    ['6 characters', 'abcdef'],
    ['30 characters', `a${'b'.repeat(28)}c`],
    ['hyphens and digits', 'my-project-42'],
  ])('a project id of %s is accepted', (_label, quotaProjectId) => {
    expect(resolve({ googleAdc: { quotaProjectId } }).authParameters).toEqual({ quotaProjectId });
  });

  test.each([
    ['5 characters', 'abcde'],
    ['31 characters', `a${'b'.repeat(29)}c`],
    ['a leading digit', '1project'],
    ['a trailing hyphen', 'project-'],
    ['upper case', 'My-Project'],
  ])('a project id of %s is rejected', (_label, quotaProjectId) => {
    expectRejected({ googleAdc: { quotaProjectId } }, `${PATH}.googleAdc.quotaProjectId`, quotaProjectId);
  });
});

describe('Google service account', () => {
  const field = `${PATH}.googleServiceAccount`;

  test('an RSA key in PKCS#1 PEM (BEGIN RSA PRIVATE KEY) is accepted', () => {
    expect(() => resolve(serviceAccount({ privateKey: RSA_PKCS1 }))).not.toThrow();
  });

  test('an EC private key is rejected: Google service accounts use RSA', () => {
    const error = expectRejected(serviceAccount({ privateKey: EC_PKCS8 }), `${field}.privateKey`);
    expect(error.message).toBe('privateKey must be an RSA key, as Google service accounts use.');
  });

  test('an EC key in SEC1 PEM (BEGIN EC PRIVATE KEY) is rejected as not a PEM private key', () => {
    expect(expectRejected(serviceAccount({ privateKey: EC_SEC1 }), `${field}.privateKey`).message).toBe(
      'privateKey must be a PEM private key (-----BEGIN PRIVATE KEY----- ...).',
    );
  });

  test('a public key is rejected', () => {
    expectRejected(serviceAccount({ privateKey: RSA_PUBLIC }), `${field}.privateKey`);
  });

  test('garbage that is not PEM is rejected without echoing it', () => {
    expectRejected(serviceAccount({ privateKey: 'canary-not-a-key' }), `${field}.privateKey`, 'canary-not-a-key');
  });

  test("garbage between PEM markers is rejected without the parser's message or the value", () => {
    const privateKey = '-----BEGIN PRIVATE KEY-----\nY2FuYXJ5IGdhcmJhZ2U=canarygarbage\n-----END PRIVATE KEY-----\n';
    const error = expectRejected(serviceAccount({ privateKey }), `${field}.privateKey`, 'canarygarbage');
    expect(error.message).toBe('privateKey is not a readable PEM private key.');
    expect(error.message).not.toContain('Y2FuYXJ5');
  });

  test('a valid key padded to exactly 16 KiB is accepted', () => {
    const privateKey = RSA_PKCS8 + '\n'.repeat(LIMITS.privateKeyMaxBytes - Buffer.byteLength(RSA_PKCS8));
    expect(Buffer.byteLength(privateKey)).toBe(16384);
    expect(() => resolve(serviceAccount({ privateKey }))).not.toThrow();
  });

  test('a valid key padded to 16 KiB and one byte is rejected', () => {
    const privateKey = RSA_PKCS8 + '\n'.repeat(16385 - Buffer.byteLength(RSA_PKCS8));
    expect(expectRejected(serviceAccount({ privateKey }), `${field}.privateKey`).message).toBe('privateKey must be at most 16384 bytes.');
  });

  test('a tokenUri equal to the configured token URL is accepted and kept', () => {
    expect(resolve(serviceAccount({ tokenUri: TOKEN_URL })).secretPayload).toMatchObject({ tokenUri: TOKEN_URL });
  });

  test('a different tokenUri is rejected, naming the configured URL and not the one given', () => {
    const tokenUri = 'https://canary.example/token';
    const error = expectRejected(serviceAccount({ tokenUri }), `${field}.tokenUri`, tokenUri);
    expect(error.message).toBe(`tokenUri must be the configured token URL (${TOKEN_URL}) or omitted.`);
  });

  test("a tokenUri is compared with the token URL configured, not with Google's", () => {
    const configured = 'http://127.0.0.1:9999/token';
    expect(() => resolveAuth(serviceAccount({ tokenUri: configured }), PATH, { googleTokenUrl: configured })).not.toThrow();
    expect(() => resolveAuth(serviceAccount({ tokenUri: TOKEN_URL }), PATH, { googleTokenUrl: configured })).toThrow(BadUserInputError);
  });

  test('an omitted tokenUri is not stored', () => {
    expect(resolve(serviceAccount()).secretPayload).not.toHaveProperty('tokenUri');
  });

  test.each([
    ['clientEmail', 'canary at example'],
    ['privateKeyId', 'canary key id'],
    ['projectId', 'Canary_Project'],
    ['clientId', 'canary-client'],
  ])('a malformed %s is rejected on its path without echoing it', (name, value) => {
    expectRejected(serviceAccount({ [name]: value }), `${field}.${name}`, value);
  });
});

describe('Google impersonation', () => {
  const field = `${PATH}.googleImpersonation`;
  const account = (index: number) => `hop-${index}@my-project.iam.gserviceaccount.com`;
  const scope = (index: number) => `https://www.googleapis.com/auth/scope-${index}`;

  test('a target that is not a service account is rejected without echoing it', () => {
    expectRejected({ googleImpersonation: { targetPrincipal: 'canary@gmail.com' } }, `${field}.targetPrincipal`, 'canary@gmail.com');
  });

  test('10 delegates are accepted', () => {
    const delegates = Array.from({ length: 10 }, (_, index) => account(index));
    expect(resolve({ googleImpersonation: { targetPrincipal: TARGET, delegates } }).secretPayload).toMatchObject({ delegates });
  });

  test('11 delegates are rejected', () => {
    const delegates = Array.from({ length: 11 }, (_, index) => account(index));
    expectRejected({ googleImpersonation: { targetPrincipal: TARGET, delegates } }, `${field}.delegates`);
  });

  test('a malformed delegate is rejected on its index', () => {
    expectRejected(
      { googleImpersonation: { targetPrincipal: TARGET, delegates: [account(0), 'canary@example.com'] } },
      `${field}.delegates.1`,
      'canary@example.com',
    );
  });

  test('an empty delegate list is accepted', () => {
    expect(() => resolve({ googleImpersonation: { targetPrincipal: TARGET, delegates: [] } })).not.toThrow();
  });

  test('20 scopes are accepted', () => {
    const scopes = Array.from({ length: 20 }, (_, index) => scope(index));
    expect(resolve({ googleImpersonation: { targetPrincipal: TARGET, scopes } }).secretPayload).toMatchObject({ scopes });
  });

  test('21 scopes are rejected', () => {
    const scopes = Array.from({ length: 21 }, (_, index) => scope(index));
    expectRejected({ googleImpersonation: { targetPrincipal: TARGET, scopes } }, `${field}.scopes`);
  });

  test('an empty scope list is rejected', () => {
    expectRejected({ googleImpersonation: { targetPrincipal: TARGET, scopes: [] } }, `${field}.scopes`);
  });

  test('a scope that is not a Google OAuth scope URL is rejected on its index', () => {
    expectRejected(
      { googleImpersonation: { targetPrincipal: TARGET, scopes: [scope(0), 'https://canary.example/auth/x'] } },
      `${field}.scopes.1`,
      'https://canary.example/auth/x',
    );
  });
});

describe('paths', () => {
  test('follow the path given to resolveAuth', () => {
    expect(thrownBy(() => resolveAuth({ apiKey: { apiKey: 'short' } }, 'input.rotation', { googleTokenUrl: TOKEN_URL }))).toMatchObject({
      field: 'input.rotation.apiKey.apiKey',
    });
  });
});

describe('a service-account key file as Google issues it', () => {
  const field = `${PATH}.googleServiceAccountKeyFile`;
  const keyFile = {
    type: 'service_account',
    project_id: 'vault-test-project',
    private_key_id: 'abc123def456',
    private_key: RSA_PKCS8,
    client_email: 'vault@vault-test-project.iam.gserviceaccount.com',
    client_id: '123456789012345678901',
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: TOKEN_URL,
    auth_provider_x509_cert_url: 'https://www.googleapis.com/oauth2/v1/certs',
    client_x509_cert_url: 'https://www.googleapis.com/robot/v1/metadata/x509/vault',
    universe_domain: 'googleapis.com',
  };
  const expected = {
    clientEmail: keyFile.client_email,
    privateKey: RSA_PKCS8,
    privateKeyId: keyFile.private_key_id,
    projectId: keyFile.project_id,
    clientId: keyFile.client_id,
    tokenUri: TOKEN_URL,
  };

  test('pasted as JSON text, it keeps only the fields a service account needs', () => {
    const resolved = resolve({ googleServiceAccountKeyFile: JSON.stringify(keyFile) });
    expect(resolved.authType).toBe('GOOGLE_SERVICE_ACCOUNT');
    expect(resolved.secretPayload).toEqual(expected);
  });

  test('sent as an object (REST), it gives the same payload', () => {
    expect(resolve({ googleServiceAccountKeyFile: keyFile }).secretPayload).toEqual(expected);
  });

  test('text that is not JSON is refused without quoting it', () => {
    const error = expectRejected(
      { googleServiceAccountKeyFile: `{"private_key": "${RSA_PKCS8.slice(0, 60)}` },
      field,
      RSA_PKCS8.slice(30, 60),
    );
    expect(error.message).toBe('The service-account key file is not valid JSON.');
  });

  test('a key file of another type is refused on its type field', () => {
    expectRejected({ googleServiceAccountKeyFile: { ...keyFile, type: 'authorized_user' } }, `${field}.type`);
  });

  test("its fields are named as the file names them: a token_uri other than Google's", () => {
    const error = expectRejected(
      { googleServiceAccountKeyFile: { ...keyFile, token_uri: 'https://token.example/steal' } },
      `${field}.token_uri`,
    );
    expect(error.message).toMatch(/^token_uri must be the configured token URL/);
  });

  test('a missing private key is named private_key', () => {
    const { private_key: _omitted, ...withoutKey } = keyFile;
    expect(expectRejected({ googleServiceAccountKeyFile: withoutKey }, `${field}.private_key`).message).toBe('private_key is required.');
  });
});
