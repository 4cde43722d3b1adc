// loadConfig: the contract's defaults, "empty string = unset", every bad variable named in one
// ConfigError, and what production refuses. Secrets in bad values are never repeated.
import path from 'node:path';
import { loadConfig } from '../../../src/config/config';
import { GOOGLE_OAUTH_TOKEN_URL } from '../../../src/google/google-apis';
import { CONFIG_TEST_CWD, problemsOf } from '../../support/config-problems';

const CWD = CONFIG_TEST_CWD;
const SECRET = 'a-jwt-secret-that-is-long-enough-0123456789';
const KMS_KEY = 'projects/p/locations/global/keyRings/r/cryptoKeys/k';

describe('defaults', () => {
  const config = loadConfig({}, CWD);

  test('an empty environment is a valid development configuration', () => {
    expect(config.production).toBe(false);
  });

  test('listens on 127.0.0.1:4000', () => {
    expect({ host: config.host, port: config.port }).toEqual({ host: '127.0.0.1', port: 4000 });
  });

  test('uses the embedded database under ./.data, resolved against the working directory', () => {
    expect(config.databaseUrl).toBeUndefined();
    expect(config.dataDir).toBe(path.resolve(CWD, '.data'));
  });

  test('has no JWT secret, JWKS, issuer or audience (a development secret is made later), and a day as JWT_MAX_TTL', () => {
    expect(config.jwt).toEqual({ secret: undefined, jwksUri: undefined, issuer: undefined, audience: undefined, maxTtlSeconds: 86_400 });
  });

  test("uses the local key ring (no KMS key) and Google's endpoints", () => {
    expect(config.kmsKeyName).toBeUndefined();
    expect(config.kmsApiEndpoint).toBeUndefined();
    expect(config.google).toEqual({
      oauthTokenUrl: 'https://oauth2.googleapis.com/token',
      iamCredentialsEndpoint: undefined,
      vertexApiEndpoint: undefined,
      applicationCredentials: undefined,
    });
    expect(GOOGLE_OAUTH_TOKEN_URL).toBe('https://oauth2.googleapis.com/token');
  });

  test("uses us-east-1 and AWS's STS", () => {
    expect(config.aws).toEqual({ region: 'us-east-1', stsEndpoint: undefined });
  });

  test('does not let validation calls reach private addresses', () => {
    expect(config.outboundAllowPrivate).toBe(false);
  });

  test('logs at info', () => {
    expect(config.logLevel).toBe('info');
  });
});

describe('values given', () => {
  test('are used, trimmed', () => {
    const config = loadConfig(
      {
        PORT: ' 8080 ',
        HOST: '0.0.0.0',
        DATABASE_URL: 'postgresql://vault@db:5432/vault',
        DATA_DIR: '/var/lib/vault',
        JWT_SECRET: SECRET,
        JWT_ISSUER: 'https://issuer.example',
        JWT_AUDIENCE: 'vault',
        AWS_REGION: 'eu-west-1',
        LOG_LEVEL: 'debug',
      },
      CWD,
    );
    expect(config).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      databaseUrl: 'postgresql://vault@db:5432/vault',
      dataDir: '/var/lib/vault',
      jwt: { secret: SECRET, issuer: 'https://issuer.example', audience: 'vault' },
      aws: { region: 'eu-west-1' },
      logLevel: 'debug',
    });
  });

  test('a relative DATA_DIR is resolved against the working directory', () => {
    expect(loadConfig({ DATA_DIR: 'state' }, CWD).dataDir).toBe('/srv/vault/state');
  });

  test.each(['postgres://h/db', 'postgresql://h/db'])('DATABASE_URL %s is accepted', (url) => {
    expect(loadConfig({ DATABASE_URL: url }, CWD).databaseUrl).toBe(url);
  });

  test.each([
    ['0', 0],
    ['65535', 65535],
  ])('PORT %s is accepted', (text, port) => {
    expect(loadConfig({ PORT: text }, CWD).port).toBe(port);
  });

  test.each([
    ['true', true],
    ['TRUE', true],
    ['1', true],
    ['false', false],
    ['0', false],
  ])('OUTBOUND_ALLOW_PRIVATE=%s outside production is %s', (text, value) => {
    expect(loadConfig({ OUTBOUND_ALLOW_PRIVATE: text }, CWD).outboundAllowPrivate).toBe(value);
  });

  test('KMS_API_ENDPOINT accepts host:port and http://host:port outside production', () => {
    expect(loadConfig({ KMS_API_ENDPOINT: 'kms.example:443' }, CWD).kmsApiEndpoint).toBe('kms.example:443');
    expect(loadConfig({ KMS_API_ENDPOINT: 'http://127.0.0.1:8085' }, CWD).kmsApiEndpoint).toBe('http://127.0.0.1:8085');
  });

  test('the Google and AWS endpoint overrides are used', () => {
    const config = loadConfig(
      {
        GOOGLE_OAUTH_TOKEN_URL: 'http://127.0.0.1:1/token',
        GOOGLE_IAM_CREDENTIALS_ENDPOINT: 'http://127.0.0.1:2',
        VERTEX_API_ENDPOINT: 'http://127.0.0.1:3',
        AWS_STS_ENDPOINT: 'http://127.0.0.1:4',
        GOOGLE_APPLICATION_CREDENTIALS: '/etc/adc.json',
      },
      CWD,
    );
    expect(config.google).toEqual({
      oauthTokenUrl: 'http://127.0.0.1:1/token',
      iamCredentialsEndpoint: 'http://127.0.0.1:2',
      vertexApiEndpoint: 'http://127.0.0.1:3',
      applicationCredentials: '/etc/adc.json',
    });
    expect(config.aws.stsEndpoint).toBe('http://127.0.0.1:4');
  });
});

describe('an empty string counts as unset', () => {
  const EVERY_VARIABLE = [
    'NODE_ENV',
    'PORT',
    'HOST',
    'DATABASE_URL',
    'DATA_DIR',
    'JWT_SECRET',
    'JWT_JWKS_URI',
    'JWT_ISSUER',
    'JWT_AUDIENCE',
    'KMS_KEY_NAME',
    'KMS_API_ENDPOINT',
    'AWS_REGION',
    'AWS_STS_ENDPOINT',
    'GOOGLE_OAUTH_TOKEN_URL',
    'GOOGLE_IAM_CREDENTIALS_ENDPOINT',
    'VERTEX_API_ENDPOINT',
    'GOOGLE_APPLICATION_CREDENTIALS',
    'OUTBOUND_ALLOW_PRIVATE',
    'LOG_LEVEL',
  ];

  test('every variable set to "" gives exactly the defaults', () => {
    const empty = Object.fromEntries(EVERY_VARIABLE.map((name) => [name, '']));
    expect(loadConfig(empty, CWD)).toEqual(loadConfig({}, CWD));
  });

  test('every variable set to blanks gives exactly the defaults', () => {
    const blank = Object.fromEntries(EVERY_VARIABLE.map((name) => [name, '  ']));
    expect(loadConfig(blank, CWD)).toEqual(loadConfig({}, CWD));
  });

  test('DATABASE_URL="" means the embedded database', () => {
    expect(loadConfig({ DATABASE_URL: '' }, CWD).databaseUrl).toBeUndefined();
  });
});

describe('bad values', () => {
  const BAD = {
    PORT: 'eighty',
    DATABASE_URL: 'mysql://root:canary-db-password@db/vault',
    JWT_SECRET: 'canary-short',
    JWT_JWKS_URI: 'ftp://keys.example',
    KMS_KEY_NAME: 'canary-not-a-key-name',
    KMS_API_ENDPOINT: 'kms.example',
    AWS_STS_ENDPOINT: 'sts.example',
    AWS_PRINCIPAL_ARN: 'arn:aws:iam::12345:role/short-account',
    RUNTIME_PORT: 'sometimes',
    GOOGLE_OAUTH_TOKEN_URL: 'not a url',
    GOOGLE_IAM_CREDENTIALS_ENDPOINT: 'iam.example',
    VERTEX_API_ENDPOINT: 'vertex.example',
    OUTBOUND_ALLOW_PRIVATE: 'maybe',
  };

  test('are all named in one ConfigError, one problem per variable', () => {
    const problems = problemsOf(BAD);
    expect(problems).toHaveLength(Object.keys(BAD).length);
    for (const name of Object.keys(BAD)) {
      expect(problems.filter((problem) => problem.startsWith(`${name} `))).toHaveLength(1);
    }
  });

  test('the ConfigError message lists every problem', () => {
    let message = '';
    try {
      loadConfig(BAD, CWD);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message.startsWith('Invalid configuration:')).toBe(true);
    for (const name of Object.keys(BAD)) expect(message).toContain(`- ${name} `);
  });

  test('a short JWT_SECRET and a bad DATABASE_URL are not repeated (they hold secrets)', () => {
    const text = problemsOf(BAD).join('\n');
    expect(text).not.toContain('canary-short');
    expect(text).not.toContain('canary-db-password');
  });

  test.each([['65536'], ['-1'], ['80.5'], ['1e3']])('PORT=%s is rejected', (port) => {
    expect(problemsOf({ PORT: port })).toEqual([expect.stringMatching(/^PORT must be a port number \(0-65535\)/)]);
  });

  test('a JWT_SECRET of 31 characters is rejected, 32 accepted', () => {
    expect(problemsOf({ JWT_SECRET: 's'.repeat(31) })).toEqual(['JWT_SECRET must be at least 32 characters']);
    expect(loadConfig({ JWT_SECRET: 's'.repeat(32) }, CWD).jwt.secret).toHaveLength(32);
  });

  test('AWS_PRINCIPAL_ARN must be an IAM role, user or assumed-role ARN', () => {
    expect(problemsOf({ AWS_PRINCIPAL_ARN: 'gateway-runtime' })).toEqual([
      'AWS_PRINCIPAL_ARN must be an IAM role or user ARN (arn:aws:iam::123456789012:role/name)',
    ]);
    for (const arn of [
      'arn:aws:iam::123456789012:role/gateway-runtime',
      'arn:aws:iam::123456789012:user/gateway',
      'arn:aws:sts::123456789012:assumed-role/gateway-runtime/session',
    ]) {
      expect(loadConfig({ AWS_PRINCIPAL_ARN: arn }, CWD).aws.principalArn).toBe(arn);
    }
  });

  test('the runtime listener defaults to 127.0.0.1:4001, takes RUNTIME_HOST, RUNTIME_PORT and RUNTIME_JWT_AUDIENCE, and RUNTIME_PORT=off turns it off', () => {
    expect(loadConfig({}, CWD).runtime).toEqual({ host: '127.0.0.1', port: 4001, jwtAudience: undefined });
    expect(loadConfig({ RUNTIME_HOST: '0.0.0.0', RUNTIME_PORT: '9001', RUNTIME_JWT_AUDIENCE: 'gw' }, CWD).runtime).toEqual({
      host: '0.0.0.0',
      port: 9001,
      jwtAudience: 'gw',
    });
    expect(loadConfig({ RUNTIME_PORT: 'off' }, CWD).runtime).toBeNull();
    expect(problemsOf({ RUNTIME_PORT: '70000' })).toEqual(['RUNTIME_PORT must be a port number (0-65535) or off, got "70000"']);
  });

  test('the KMS data-key cache is on with its defaults, takes its limits, and KMS_DATA_KEY_CACHE=false turns it off', () => {
    expect(loadConfig({}, CWD).kmsDataKeyCache).toEqual({ maxAgeMs: 300_000, maxUses: 10_000, maxEntries: 1_000 });
    expect(
      loadConfig({ KMS_DATA_KEY_CACHE_MAX_AGE_MS: '1000', KMS_DATA_KEY_CACHE_MAX_USES: '5', KMS_DATA_KEY_CACHE_MAX_ENTRIES: '7' }, CWD)
        .kmsDataKeyCache,
    ).toEqual({ maxAgeMs: 1000, maxUses: 5, maxEntries: 7 });
    expect(loadConfig({ KMS_DATA_KEY_CACHE: 'false' }, CWD).kmsDataKeyCache).toBe(false);
    expect(problemsOf({ KMS_DATA_KEY_CACHE_MAX_USES: '0' })).toEqual(['KMS_DATA_KEY_CACHE_MAX_USES must be a positive integer, got "0"']);
  });

  test('AWS_PRINCIPAL_ARN is unset by default', () => {
    expect(loadConfig({}, CWD).aws.principalArn).toBeUndefined();
  });

  test('KMS_KEY_NAME must be a full CryptoKey resource name', () => {
    expect(problemsOf({ KMS_KEY_NAME: 'projects/p/locations/l/keyRings/r' })).toEqual([
      'KMS_KEY_NAME must be projects/P/locations/L/keyRings/R/cryptoKeys/K',
    ]);
  });
});

describe('SHUTDOWN_GRACE_MS', () => {
  test('defaults to 10 s, takes a positive number of milliseconds, and names itself when wrong', () => {
    expect(loadConfig({}, CWD).shutdownGraceMs).toBe(10_000);
    expect(loadConfig({ SHUTDOWN_GRACE_MS: '2500' }, CWD).shutdownGraceMs).toBe(2500);
    expect(problemsOf({ SHUTDOWN_GRACE_MS: '0' })).toEqual(['SHUTDOWN_GRACE_MS must be a positive integer, got "0"']);
    expect(problemsOf({ SHUTDOWN_GRACE_MS: '5s' })).toEqual(['SHUTDOWN_GRACE_MS must be a positive integer, got "5s"']);
  });
});

describe('production (NODE_ENV=production)', () => {
  const DATABASE_URL = 'postgresql://vault@db.internal:5432/vault';
  const PRODUCTION = { NODE_ENV: 'production', JWT_SECRET: SECRET, KMS_KEY_NAME: KMS_KEY, DATABASE_URL };

  test('with a token verifier and a KMS key is valid', () => {
    const config = loadConfig(PRODUCTION, CWD);
    expect(config.production).toBe(true);
    expect(config.kmsKeyName).toBe(KMS_KEY);
  });

  test('a JWKS URI over https is enough to verify tokens', () => {
    expect(
      loadConfig({ NODE_ENV: 'production', JWT_JWKS_URI: 'https://issuer.example/jwks', KMS_KEY_NAME: KMS_KEY, DATABASE_URL }, CWD).jwt
        .jwksUri,
    ).toBe('https://issuer.example/jwks');
  });

  test('requires DATABASE_URL, JWT_SECRET or JWT_JWKS_URI, and KMS_KEY_NAME, naming all at once', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toEqual([
      'DATABASE_URL is required when NODE_ENV=production: the embedded database lives on local disk, which a container loses (set ALLOW_EMBEDDED_DATABASE=true to run on it anyway)',
      'JWT_SECRET or JWT_JWKS_URI is required when NODE_ENV=production',
      'KMS_KEY_NAME is required when NODE_ENV=production (the local key ring is for development only)',
    ]);
  });

  test('an empty JWT_SECRET does not satisfy the requirement', () => {
    expect(problemsOf({ ...PRODUCTION, JWT_SECRET: '' })).toEqual(['JWT_SECRET or JWT_JWKS_URI is required when NODE_ENV=production']);
  });

  test('refuses a JWKS URI over plain http', () => {
    expect(problemsOf({ NODE_ENV: 'production', JWT_JWKS_URI: 'http://issuer.example/jwks', KMS_KEY_NAME: KMS_KEY, DATABASE_URL })).toEqual(
      ['JWT_JWKS_URI must use https in production'],
    );
  });

  test('refuses a plaintext KMS endpoint', () => {
    expect(problemsOf({ ...PRODUCTION, KMS_API_ENDPOINT: 'http://127.0.0.1:8085' })).toEqual([
      'KMS_API_ENDPOINT with http:// (no TLS, no auth) is refused when NODE_ENV=production',
    ]);
  });

  test('accepts a TLS KMS endpoint', () => {
    expect(loadConfig({ ...PRODUCTION, KMS_API_ENDPOINT: 'kms.internal:443' }, CWD).kmsApiEndpoint).toBe('kms.internal:443');
  });

  test('refuses OUTBOUND_ALLOW_PRIVATE=true', () => {
    expect(problemsOf({ ...PRODUCTION, OUTBOUND_ALLOW_PRIVATE: 'true' })).toEqual([
      'OUTBOUND_ALLOW_PRIVATE=true is refused when NODE_ENV=production',
    ]);
  });

  test('runs on the embedded database only when ALLOW_EMBEDDED_DATABASE says so', () => {
    const { DATABASE_URL: _url, ...embedded } = PRODUCTION;
    expect(problemsOf(embedded)).toEqual([expect.stringMatching(/^DATABASE_URL is required when NODE_ENV=production/)]);
    expect(problemsOf({ ...embedded, ALLOW_EMBEDDED_DATABASE: 'false' })).toEqual([
      expect.stringMatching(/^DATABASE_URL is required when NODE_ENV=production/),
    ]);
    expect(loadConfig({ ...embedded, ALLOW_EMBEDDED_DATABASE: 'true' }, CWD).databaseUrl).toBeUndefined();
    expect(problemsOf({ ...PRODUCTION, ALLOW_EMBEDDED_DATABASE: 'maybe' })).toEqual(['ALLOW_EMBEDDED_DATABASE must be true or false']);
  });

  test('any other NODE_ENV is not production', () => {
    expect(loadConfig({ NODE_ENV: 'staging' }, CWD).production).toBe(false);
  });
});
