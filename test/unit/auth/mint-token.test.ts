// The mint-token CLI's main(): which secret it signs with, what it prints where, and its refusals.
import fs from 'node:fs';
import path from 'node:path';
import { decode } from 'jsonwebtoken';
import { loadOrCreateDevelopmentSecret } from '../../../src/auth/development-secret';
import { DEFAULT_JWT_MAX_TTL_SECONDS, TokenVerifier } from '../../../src/auth/token-verifier';
import { DEFAULT_DEVELOPMENT_ORG_ID } from '../../../src/auth/development-secret';
import { main } from '../../../src/cli/mint-token';
import { captureIo } from '../../support/capture-io';
import { TempDirs } from '../../support/temp-dirs';

const SECRET = 'unit-test-secret-0123456789-abcdefghij';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(argv: string[], env: Record<string, string | undefined>): Run {
  const io = captureIo();
  const code = main(argv, env, io);
  return { code, stdout: io.out, stderr: io.err };
}

const tempDirs = new TempDirs('vault-mint-token-');
const freshDataDir = () => tempDirs.make();

afterAll(() => {
  tempDirs.removeAll();
});

describe('mint-token main', () => {
  test('without JWT settings it mints with the development secret, and the verifier accepts the token', async () => {
    const dataDir = freshDataDir();
    const { code, stdout } = run([], { DATA_DIR: dataDir });
    expect(code).toBe(0);
    const verifier = TokenVerifier.create({ secret: loadOrCreateDevelopmentSecret(dataDir) });
    await expect(verifier.verify(stdout.trim())).resolves.toEqual({
      userId: 'dev-user',
      orgId: DEFAULT_DEVELOPMENT_ORG_ID,
      roles: ['admin'],
    });
  });

  test('stdout holds the token alone and stderr says which org and role were used', () => {
    const { stdout, stderr } = run([], { DATA_DIR: freshDataDir() });
    expect(stdout).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\n$/);
    expect(stderr).toContain(`org ${DEFAULT_DEVELOPMENT_ORG_ID}`);
    expect(stderr).toContain('role admin');
    expect(stderr).not.toContain(stdout.trim());
  });

  test('--org, repeated --role, --sub and --ttl end up in the token', async () => {
    const dataDir = freshDataDir();
    const argv = ['--org', 'A1B2C3D4-E5F6-4A7B-8C9D-0E1F2A3B4C5D', '--role', 'viewer', '--role', 'admin', '--sub', 'carol', '--ttl', '60'];
    const { code, stdout } = run(argv, { DATA_DIR: dataDir });
    expect(code).toBe(0);
    const token = stdout.trim();
    const verifier = TokenVerifier.create({ secret: loadOrCreateDevelopmentSecret(dataDir) });
    await expect(verifier.verify(token)).resolves.toEqual({
      userId: 'carol',
      orgId: 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d',
      roles: ['viewer', 'admin'],
    });
    const claims = decode(token, { json: true });
    expect((claims?.exp ?? 0) - (claims?.iat ?? 0)).toBe(60);
  });

  test('JWT_SECRET is used when set, with JWT_ISSUER and JWT_AUDIENCE', async () => {
    const dataDir = freshDataDir();
    const env = { DATA_DIR: dataDir, JWT_SECRET: SECRET, JWT_ISSUER: 'https://issuer.example', JWT_AUDIENCE: 'credential-vault' };
    const { code, stdout, stderr } = run(['--role', 'viewer'], env);
    expect(code).toBe(0);
    expect(stderr).toContain('JWT_SECRET');
    const verifier = TokenVerifier.create({ secret: SECRET, issuer: 'https://issuer.example', audience: 'credential-vault' });
    await expect(verifier.verify(stdout.trim())).resolves.toMatchObject({ roles: ['viewer'] });
    // No development secret is created when a real one is configured.
    expect(fs.existsSync(path.join(dataDir, 'jwt-secret'))).toBe(false);
  });

  test('with only JWT_JWKS_URI set it explains that it cannot mint and exits 2', () => {
    const { code, stdout, stderr } = run([], { DATA_DIR: freshDataDir(), JWT_JWKS_URI: 'https://idp.example/.well-known/jwks.json' });
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/JWT_JWKS_URI is set.*cannot mint/);
  });

  test('an --org that is not a UUID exits 2', () => {
    const { code, stdout, stderr } = run(['--org', 'acme'], { DATA_DIR: freshDataDir() });
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('--org must be a UUID');
  });

  test('a --role other than admin or viewer exits 2', () => {
    const { code, stderr } = run(['--role', 'owner'], { DATA_DIR: freshDataDir() });
    expect(code).toBe(2);
    expect(stderr).toContain('--role must be one of admin, viewer');
  });

  test('a --ttl that is not a positive number of seconds exits 2', () => {
    const { code, stderr } = run(['--ttl', '1h'], { DATA_DIR: freshDataDir() });
    expect(code).toBe(2);
    expect(stderr).toContain('--ttl must be a whole number of seconds');
  });

  test('an unknown option exits 2', () => {
    const { code, stderr } = run(['--organisation', DEFAULT_DEVELOPMENT_ORG_ID], { DATA_DIR: freshDataDir() });
    expect(code).toBe(2);
    expect(stderr).toMatch(/Unknown option '--organisation'/);
  });

  test('an invalid configuration exits 2 and names the problem', () => {
    const { code, stderr } = run([], { DATA_DIR: freshDataDir(), JWT_SECRET: 'too-short' });
    expect(code).toBe(2);
    expect(stderr).toContain('JWT_SECRET must be at least 32 characters');
  });

  test('--help prints the usage and exits 0', () => {
    const { code, stdout, stderr } = run(['--help'], {});
    expect(code).toBe(0);
    expect(stdout).toBe('');
    expect(stderr).toContain('Usage: mint-token');
  });
});

describe('mint-token for the runtime route', () => {
  test('--role runtime mints a runtime token, with RUNTIME_JWT_AUDIENCE as its aud when set', async () => {
    const dataDir = freshDataDir();
    const { code, stdout } = run(['--role', 'runtime'], { DATA_DIR: dataDir, RUNTIME_JWT_AUDIENCE: 'gateway-runtime' });
    expect(code).toBe(0);
    const verifier = TokenVerifier.create({ secret: loadOrCreateDevelopmentSecret(dataDir), audience: 'gateway-runtime' });
    await expect(verifier.verify(stdout.trim())).resolves.toEqual({
      userId: 'dev-user',
      orgId: DEFAULT_DEVELOPMENT_ORG_ID,
      roles: ['runtime'],
    });
  });

  test('an admin token keeps JWT_AUDIENCE even when RUNTIME_JWT_AUDIENCE is set', async () => {
    const dataDir = freshDataDir();
    const { stdout } = run([], { DATA_DIR: dataDir, RUNTIME_JWT_AUDIENCE: 'gateway-runtime', JWT_AUDIENCE: 'vault-admin' });
    const verifier = TokenVerifier.create({ secret: loadOrCreateDevelopmentSecret(dataDir), audience: 'vault-admin' });
    await expect(verifier.verify(stdout.trim())).resolves.toMatchObject({ roles: ['admin'] });
  });
});

describe('mint-token and JWT_MAX_TTL', () => {
  const lifetimeOf = (token: string) => {
    const { iat, exp } = decode(token) as { iat: number; exp: number };
    return exp - iat;
  };

  test('the default lifetime (12 hours) is within the default JWT_MAX_TTL, and the service accepts the token', async () => {
    const dataDir = freshDataDir();
    const { code, stdout } = run([], { DATA_DIR: dataDir });
    expect(code).toBe(0);
    expect(lifetimeOf(stdout.trim())).toBe(12 * 60 * 60);
    expect(lifetimeOf(stdout.trim())).toBeLessThanOrEqual(DEFAULT_JWT_MAX_TTL_SECONDS);
    const verifier = TokenVerifier.create({ secret: loadOrCreateDevelopmentSecret(dataDir), maxTtlSeconds: DEFAULT_JWT_MAX_TTL_SECONDS });
    await expect(verifier.verify(stdout.trim())).resolves.toMatchObject({ roles: ['admin'] });
  });

  test('with a JWT_MAX_TTL shorter than the default lifetime, the token lives JWT_MAX_TTL and is accepted', async () => {
    const dataDir = freshDataDir();
    const { code, stdout } = run([], { DATA_DIR: dataDir, JWT_MAX_TTL: '90m' });
    expect(code).toBe(0);
    expect(lifetimeOf(stdout.trim())).toBe(90 * 60);
    const verifier = TokenVerifier.create({ secret: loadOrCreateDevelopmentSecret(dataDir), maxTtlSeconds: 90 * 60 });
    await expect(verifier.verify(stdout.trim())).resolves.toMatchObject({ roles: ['admin'] });
  });

  test('a --ttl longer than JWT_MAX_TTL exits 2 naming JWT_MAX_TTL and mints nothing; a longer JWT_MAX_TTL allows it', () => {
    const twoDays = String(2 * 24 * 60 * 60);
    const refused = run(['--ttl', twoDays], { DATA_DIR: freshDataDir() });
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain('--ttl must be at most 86400 seconds');
    expect(refused.stderr).toContain('JWT_MAX_TTL');

    const allowed = run(['--ttl', twoDays], { DATA_DIR: freshDataDir(), JWT_MAX_TTL: '3d' });
    expect(allowed.code).toBe(0);
    expect(lifetimeOf(allowed.stdout.trim())).toBe(2 * 24 * 60 * 60);
  });
});
