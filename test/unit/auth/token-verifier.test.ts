// TokenVerifier with an HS256 secret: signature, algorithm, time and claim checks, and the parsing
// of the Authorization header. JWKS mode is covered in token-verifier-jwks.test.ts.
import { generateKeyPairSync } from 'node:crypto';
import { sign, type SignOptions } from 'jsonwebtoken';
import { parseBearerToken, TokenVerifier } from '../../../src/auth/token-verifier';
import { expectUnauthenticated } from '../../support/expect-unauthenticated';
import { base64urlJson, handMadeToken } from '../../support/tokens';

const SECRET = 'unit-test-secret-0123456789-abcdefghij';
const ORG_ID = '6f1c2b9e-3a4d-4e5f-8a7b-1c2d3e4f5a6b';
const CLAIMS = { sub: 'alice', org_id: ORG_ID, roles: ['admin'] };

function now(): number {
  return Math.floor(Date.now() / 1000);
}

function hs256(payload: Record<string, unknown> = CLAIMS, options: SignOptions = {}, secret = SECRET): string {
  return sign(payload, secret, { algorithm: 'HS256', expiresIn: 600, ...options });
}

const verifier = TokenVerifier.create({ secret: SECRET });

describe('TokenVerifier (HS256 secret)', () => {
  test('a valid HS256 token yields the principal', async () => {
    await expect(verifier.verify(hs256())).resolves.toEqual({ userId: 'alice', orgId: ORG_ID, roles: ['admin'] });
  });

  test('org_id is lower-cased', async () => {
    const principal = await verifier.verify(hs256({ ...CLAIMS, org_id: ORG_ID.toUpperCase() }));
    expect(principal.orgId).toBe(ORG_ID);
  });

  test('unknown roles are kept and duplicate roles collapsed', async () => {
    const principal = await verifier.verify(hs256({ ...CLAIMS, roles: ['viewer', 'auditor', 'viewer'] }));
    expect(principal.roles).toEqual(['viewer', 'auditor']);
  });

  test('an empty roles array is accepted (it grants nothing)', async () => {
    await expect(verifier.verify(hs256({ ...CLAIMS, roles: [] }))).resolves.toMatchObject({ roles: [] });
  });

  test('an expired token is rejected', async () => {
    const token = sign({ ...CLAIMS, iat: now() - 120, exp: now() - 60 }, SECRET, { algorithm: 'HS256' });
    await expectUnauthenticated(verifier.verify(token), /expired/, token);
  });

  test('a token expired by less than the clock tolerance is accepted', async () => {
    const token = sign({ ...CLAIMS, iat: now() - 120, exp: now() - 2 }, SECRET, { algorithm: 'HS256' });
    await expect(verifier.verify(token)).resolves.toMatchObject({ userId: 'alice' });
  });

  test('a token whose nbf is in the future is rejected', async () => {
    const token = hs256(CLAIMS, { notBefore: 60 });
    await expectUnauthenticated(verifier.verify(token), /not valid yet/, token);
  });

  test('a token without exp is rejected', async () => {
    const token = sign(CLAIMS, SECRET, { algorithm: 'HS256' });
    await expectUnauthenticated(verifier.verify(token), /no expiry/, token);
  });

  test('an unsigned token (alg none) is rejected', async () => {
    const token = handMadeToken({ alg: 'none', typ: 'JWT' }, { ...CLAIMS, exp: now() + 600 });
    await expectUnauthenticated(verifier.verify(token), /Unsigned/, token);
  });

  test('an unsigned token spelling alg as "None" is rejected', async () => {
    const token = handMadeToken({ alg: 'None', typ: 'JWT' }, { ...CLAIMS, exp: now() + 600 });
    await expectUnauthenticated(verifier.verify(token), /Unsigned/, token);
  });

  test('an HS256 token with its signature stripped is rejected', async () => {
    const token = handMadeToken({ alg: 'HS256', typ: 'JWT' }, { ...CLAIMS, exp: now() + 600 });
    await expectUnauthenticated(verifier.verify(token), /signature is invalid/, token);
  });

  test('a token signed with another secret is rejected', async () => {
    const token = hs256(CLAIMS, {}, 'another-secret-0123456789-abcdefghijkl');
    await expectUnauthenticated(verifier.verify(token), /signature is invalid/, token);
  });

  test('a token whose payload was altered after signing is rejected', async () => {
    const [header, , signature] = hs256({ ...CLAIMS, roles: ['viewer'] }).split('.');
    const payload = base64urlJson({ ...CLAIMS, roles: ['admin'], exp: now() + 600 });
    const token = `${header}.${payload}.${signature}`;
    await expectUnauthenticated(verifier.verify(token), /signature is invalid/, token);
  });

  test('an RS256 token is rejected when only a secret is configured', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const token = sign(CLAIMS, privateKey, { algorithm: 'RS256', expiresIn: 600, keyid: 'k1' });
    await expectUnauthenticated(verifier.verify(token), /RS256 bearer tokens are not accepted/, token);
  });

  test('an HS512 token is rejected even when signed with the right secret', async () => {
    const token = sign(CLAIMS, SECRET, { algorithm: 'HS512', expiresIn: 600 });
    await expectUnauthenticated(verifier.verify(token), /algorithm are not accepted; accepted: HS256/, token);
  });

  test('a string that is not a JWT is rejected', async () => {
    await expectUnauthenticated(verifier.verify('not-a-jwt'), /malformed/);
  });

  test('a token with a header that is not JSON is rejected', async () => {
    const token = `${Buffer.from('{nope').toString('base64url')}.${Buffer.from('{}').toString('base64url')}.abc`;
    await expectUnauthenticated(verifier.verify(token), /header is not JSON/, token);
  });

  test('a token whose header has no alg is rejected', async () => {
    const token = handMadeToken({ typ: 'JWT' }, { ...CLAIMS, exp: now() + 600 }, SECRET);
    await expectUnauthenticated(verifier.verify(token), /no "alg"/, token);
  });

  test('an oversized token is rejected before parsing', async () => {
    const token = hs256({ ...CLAIMS, padding: 'x'.repeat(10_000) });
    await expectUnauthenticated(verifier.verify(token), /too long/);
  });

  test('a payload that is not a claims object is rejected', async () => {
    const token = handMadeToken({ alg: 'HS256', typ: 'JWT' }, 'just a string', SECRET);
    await expectUnauthenticated(verifier.verify(token), /must be a JSON object of claims/, token);
  });

  describe('claims', () => {
    test('org_id that is not a UUID is rejected', async () => {
      const token = hs256({ ...CLAIMS, org_id: 'acme' });
      await expectUnauthenticated(verifier.verify(token), /org_id claim must be a UUID/, token);
    });

    test('org_id UUID without dashes is rejected', async () => {
      const token = hs256({ ...CLAIMS, org_id: ORG_ID.replace(/-/g, '') });
      await expectUnauthenticated(verifier.verify(token), /org_id claim must be a UUID/, token);
    });

    test('missing org_id is rejected', async () => {
      const token = hs256({ sub: 'alice', roles: ['admin'] });
      await expectUnauthenticated(verifier.verify(token), /org_id claim must be a UUID/, token);
    });

    test('roles that is not an array is rejected', async () => {
      const token = hs256({ ...CLAIMS, roles: 'admin' });
      await expectUnauthenticated(verifier.verify(token), /roles claim must be an array of strings/, token);
    });

    test('roles containing a non-string is rejected', async () => {
      const token = hs256({ ...CLAIMS, roles: ['admin', 7] });
      await expectUnauthenticated(verifier.verify(token), /roles claim must be an array of strings/, token);
    });

    test('missing roles is rejected', async () => {
      const token = hs256({ sub: 'alice', org_id: ORG_ID });
      await expectUnauthenticated(verifier.verify(token), /roles claim must be an array of strings/, token);
    });

    test('missing sub is rejected', async () => {
      const token = hs256({ org_id: ORG_ID, roles: ['admin'] });
      await expectUnauthenticated(verifier.verify(token), /sub claim must be a non-empty string/, token);
    });

    test('empty sub is rejected', async () => {
      const token = hs256({ ...CLAIMS, sub: '  ' });
      await expectUnauthenticated(verifier.verify(token), /sub claim must be a non-empty string/, token);
    });

    test('sub longer than 256 characters is rejected', async () => {
      const token = hs256({ ...CLAIMS, sub: 'a'.repeat(257) });
      await expectUnauthenticated(verifier.verify(token), /at most 256 characters/, token);
    });

    test('sub of exactly 256 characters is accepted', async () => {
      await expect(verifier.verify(hs256({ ...CLAIMS, sub: 'a'.repeat(256) }))).resolves.toMatchObject({ userId: 'a'.repeat(256) });
    });

    test('sub containing a control character is rejected', async () => {
      const token = hs256({ ...CLAIMS, sub: 'alice\nFORGED LOG LINE' });
      await expectUnauthenticated(verifier.verify(token), /without control characters/, token);
    });

    test('sub that is not a string is rejected', async () => {
      const token = handMadeToken({ alg: 'HS256', typ: 'JWT' }, { ...CLAIMS, sub: 42, exp: now() + 600 }, SECRET);
      await expectUnauthenticated(verifier.verify(token), /sub claim must be a non-empty string/, token);
    });
  });

  describe('issuer and audience', () => {
    const strict = TokenVerifier.create({ secret: SECRET, issuer: 'https://issuer.example', audience: 'credential-vault' });
    const matching = { issuer: 'https://issuer.example', audience: 'credential-vault' };

    test('a token with the configured iss and aud is accepted', async () => {
      await expect(strict.verify(hs256(CLAIMS, matching))).resolves.toMatchObject({ userId: 'alice' });
    });

    test('a token whose aud list contains the configured audience is accepted', async () => {
      const token = hs256(CLAIMS, { ...matching, audience: ['other-service', 'credential-vault'] });
      await expect(strict.verify(token)).resolves.toMatchObject({ userId: 'alice' });
    });

    test('a token with another iss is rejected', async () => {
      const token = hs256(CLAIMS, { ...matching, issuer: 'https://evil.example' });
      await expectUnauthenticated(strict.verify(token), /issuer that is not accepted/, token);
    });

    test('a token without iss is rejected when an issuer is configured', async () => {
      const token = hs256(CLAIMS, { audience: 'credential-vault' });
      await expectUnauthenticated(strict.verify(token), /issuer that is not accepted/, token);
    });

    test('a token with another aud is rejected', async () => {
      const token = hs256(CLAIMS, { ...matching, audience: 'another-service' });
      await expectUnauthenticated(strict.verify(token), /not meant for this service/, token);
    });

    test('a token without aud is rejected when an audience is configured', async () => {
      const token = hs256(CLAIMS, { issuer: 'https://issuer.example' });
      await expectUnauthenticated(strict.verify(token), /not meant for this service/, token);
    });

    test('iss and aud are not required when not configured', async () => {
      await expect(verifier.verify(hs256(CLAIMS, { issuer: 'anyone', audience: 'anything' }))).resolves.toMatchObject({ userId: 'alice' });
    });
  });

  describe('create', () => {
    test('refuses to be created without a secret or a JWKS URI', () => {
      expect(() => TokenVerifier.create({})).toThrow(/secret, a JWKS URI, or both/);
    });

    test('refuses a secret shorter than 32 characters', () => {
      expect(() => TokenVerifier.create({ secret: 'short' })).toThrow(/at least 32 characters/);
    });

    test('refuses a JWKS URI that is not http(s)', () => {
      expect(() => TokenVerifier.create({ jwksUri: 'file:///etc/jwks.json' })).toThrow(/http\(s\) URL/);
    });
  });
});

describe('Authorization header', () => {
  test('"Bearer <token>" is authenticated', async () => {
    await expect(verifier.authenticate(`Bearer ${hs256()}`)).resolves.toMatchObject({ userId: 'alice', orgId: ORG_ID });
  });

  test('the scheme is case-insensitive', () => {
    expect(parseBearerToken('bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(parseBearerToken('BEARER abc.def.ghi')).toBe('abc.def.ghi');
  });

  test('surrounding whitespace is ignored', () => {
    expect(parseBearerToken('  Bearer   abc.def.ghi  ')).toBe('abc.def.ghi');
  });

  test('a missing header is rejected', async () => {
    await expectUnauthenticated(verifier.authenticate(undefined), /Missing Authorization header/);
  });

  test('an empty header is rejected', async () => {
    await expectUnauthenticated(verifier.authenticate('   '), /Missing Authorization header/);
  });

  test('another scheme is rejected', async () => {
    await expectUnauthenticated(verifier.authenticate('Basic YWxpY2U6c2VjcmV0'), /must use the Bearer scheme/);
  });

  test('a bare token without scheme is rejected', async () => {
    const token = hs256();
    await expectUnauthenticated(verifier.authenticate(token), /must use the Bearer scheme/, token);
  });

  test('"Bearer" without a token is rejected', async () => {
    await expectUnauthenticated(verifier.authenticate('Bearer'), /exactly one token/);
  });

  test('"Bearer" with two tokens is rejected', async () => {
    const token = hs256();
    await expectUnauthenticated(verifier.authenticate(`Bearer ${token} ${token}`), /exactly one token/, token);
  });

  test('a malformed bearer token is rejected', async () => {
    await expectUnauthenticated(verifier.authenticate('Bearer not-a-jwt'), /malformed/);
  });
});
