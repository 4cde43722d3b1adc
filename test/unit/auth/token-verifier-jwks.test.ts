// TokenVerifier with keys from a JWKS endpoint: a real HTTP server on 127.0.0.1 serves RSA and EC
// public keys, tokens are signed with the matching private keys.

// jwks-rsa depends on jose 6, which is ESM-only: the real jose is loaded with the host's own
// require (see host-require.ts).
jest.mock('jose', () => jest.requireActual<typeof HostRequire>('../../support/host-require').hostRequire('jose'));

import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type http from 'node:http';
import { sign, type SignOptions } from 'jsonwebtoken';
import { TokenVerifier } from '../../../src/auth/token-verifier';
import { expectUnauthenticated } from '../../support/expect-unauthenticated';
import type * as HostRequire from '../../support/host-require';
import { closedPort, closeHttpServer, startHttpServer } from '../../support/loopback';
import { handMadeToken } from '../../support/tokens';

const SECRET = 'unit-test-secret-0123456789-abcdefghij';
const ORG_ID = '0b6e1f2a-9c3d-4e8f-a1b2-c3d4e5f6a7b8';
const CLAIMS = { sub: 'service-account', org_id: ORG_ID, roles: ['viewer'] };

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const otherRsa = generateKeyPairSync('rsa', { modulusLength: 2048 });

function publicJwk(key: KeyObject, kid: string, alg: string): Record<string, unknown> {
  return { ...key.export({ format: 'jwk' }), kid, alg, use: 'sig' };
}

const jwks = {
  keys: [
    publicJwk(rsa.publicKey, 'rsa-1', 'RS256'),
    publicJwk(ec.publicKey, 'ec-1', 'ES256'),
    // Many providers omit alg; then only the key type tells which algorithm the key is for.
    { ...otherRsa.publicKey.export({ format: 'jwk' }), kid: 'rsa-no-alg', use: 'sig' },
  ],
};

let server: http.Server;
let jwksUri: string;
let jwksRequests = 0;
let failingServer: http.Server;
let failingJwksUri: string;
let downJwksUri: string;

const jwksUrl = (base: string) => `${base}/.well-known/jwks.json`;

beforeAll(async () => {
  const serving = await startHttpServer((_request, response) => {
    jwksRequests += 1;
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(jwks));
  });
  server = serving.server;
  jwksUri = jwksUrl(serving.base);
  const failing = await startHttpServer((_request, response) => {
    response.writeHead(500);
    response.end('boom');
  });
  failingServer = failing.server;
  failingJwksUri = jwksUrl(failing.base);
  // A port that was just free: nothing listens there any more.
  downJwksUri = jwksUrl(`http://127.0.0.1:${await closedPort()}`);
});

afterAll(async () => {
  await Promise.all([server, failingServer].filter((running) => running !== undefined).map(closeHttpServer));
});

function rs256(kid: string | undefined, privateKey: KeyObject = rsa.privateKey, options: SignOptions = {}): string {
  return sign(CLAIMS, privateKey, { algorithm: 'RS256', expiresIn: 600, ...(kid ? { keyid: kid } : {}), ...options });
}

function es256(kid: string): string {
  return sign(CLAIMS, ec.privateKey, { algorithm: 'ES256', expiresIn: 600, keyid: kid });
}

function exp(): number {
  return Math.floor(Date.now() / 1000) + 600;
}

describe('TokenVerifier (JWKS)', () => {
  let verifier: TokenVerifier;
  beforeAll(() => {
    verifier = TokenVerifier.create({ jwksUri });
  });

  test('a valid RS256 token yields the principal', async () => {
    await expect(verifier.verify(rs256('rsa-1'))).resolves.toEqual({ userId: 'service-account', orgId: ORG_ID, roles: ['viewer'] });
  });

  test('a valid ES256 token yields the principal', async () => {
    await expect(verifier.verify(es256('ec-1'))).resolves.toEqual({ userId: 'service-account', orgId: ORG_ID, roles: ['viewer'] });
  });

  test('keys are cached: verifying twice fetches the JWKS once', async () => {
    const fresh = TokenVerifier.create({ jwksUri });
    const before = jwksRequests;
    await fresh.verify(rs256('rsa-1'));
    await fresh.verify(rs256('rsa-1'));
    expect(jwksRequests - before).toBe(1);
  });

  test('a token with an unknown kid is rejected', async () => {
    const token = rs256('rsa-unknown');
    await expectUnauthenticated(verifier.verify(token), /No signing key matches/, token);
  });

  test('a token without kid is rejected', async () => {
    const token = rs256(undefined);
    await expectUnauthenticated(verifier.verify(token), /no key id \(kid\)/, token);
  });

  test('a token signed by another key under a known kid is rejected', async () => {
    const token = rs256('rsa-1', otherRsa.privateKey);
    await expectUnauthenticated(verifier.verify(token), /signature is invalid/, token);
  });

  test('an RS256 token pointing at the ES256 key is rejected', async () => {
    const token = rs256('ec-1');
    await expectUnauthenticated(verifier.verify(token), /algorithm does not match its signing key/, token);
  });

  test('an RS256 token for a key served without alg is accepted', async () => {
    await expect(verifier.verify(rs256('rsa-no-alg', otherRsa.privateKey))).resolves.toMatchObject({ orgId: ORG_ID });
  });

  test('an ES256 token pointing at an RSA key served without alg is rejected', async () => {
    const token = es256('rsa-no-alg');
    await expectUnauthenticated(verifier.verify(token), /algorithm does not match its signing key/, token);
  });

  test('an HS256 token signed with the RSA public key PEM is rejected (algorithm confusion)', async () => {
    const pem = rsa.publicKey.export({ format: 'pem', type: 'spki' });
    const token = handMadeToken({ alg: 'HS256', typ: 'JWT', kid: 'rsa-1' }, { ...CLAIMS, exp: exp() }, pem);
    await expectUnauthenticated(verifier.verify(token), /HS256 bearer tokens are not accepted/, token);
  });

  test('an unsigned token (alg none) is rejected', async () => {
    const token = handMadeToken({ alg: 'none', typ: 'JWT', kid: 'rsa-1' }, { ...CLAIMS, exp: exp() });
    await expectUnauthenticated(verifier.verify(token), /Unsigned/, token);
  });

  test('an expired RS256 token is rejected', async () => {
    const token = sign({ ...CLAIMS, exp: Math.floor(Date.now() / 1000) - 60 }, rsa.privateKey, { algorithm: 'RS256', keyid: 'rsa-1' });
    await expectUnauthenticated(verifier.verify(token), /expired/, token);
  });

  test('an unreachable JWKS endpoint makes the caller UNAUTHENTICATED', async () => {
    const down = TokenVerifier.create({ jwksUri: downJwksUri });
    const token = rs256('rsa-1');
    await expectUnauthenticated(down.verify(token), /Signing keys could not be fetched/, token);
  });

  test('a JWKS endpoint answering 500 makes the caller UNAUTHENTICATED', async () => {
    const failing = TokenVerifier.create({ jwksUri: failingJwksUri });
    const token = es256('ec-1');
    await expectUnauthenticated(failing.verify(token), /Signing keys could not be fetched/, token);
  });
});

describe('TokenVerifier (secret and JWKS both configured)', () => {
  let verifier: TokenVerifier;
  beforeAll(() => {
    verifier = TokenVerifier.create({ secret: SECRET, jwksUri });
  });

  test('an HS256 token is checked against the secret', async () => {
    const token = sign(CLAIMS, SECRET, { algorithm: 'HS256', expiresIn: 600 });
    await expect(verifier.verify(token)).resolves.toMatchObject({ userId: 'service-account' });
  });

  test('an RS256 token is checked against the JWKS', async () => {
    await expect(verifier.verify(rs256('rsa-1'))).resolves.toMatchObject({ userId: 'service-account' });
  });

  test('an HS256 token signed with the RSA public key PEM is rejected (algorithm confusion)', async () => {
    const pem = rsa.publicKey.export({ format: 'pem', type: 'spki' });
    const token = handMadeToken({ alg: 'HS256', typ: 'JWT', kid: 'rsa-1' }, { ...CLAIMS, exp: exp() }, pem);
    await expectUnauthenticated(verifier.verify(token), /signature is invalid/, token);
  });
});

describe('TokenVerifier (JWKS with issuer and audience)', () => {
  let strict: TokenVerifier;
  beforeAll(() => {
    strict = TokenVerifier.create({ jwksUri, issuer: 'https://idp.example', audience: 'credential-vault' });
  });

  test('an RS256 token with the configured iss and aud is accepted', async () => {
    const token = rs256('rsa-1', rsa.privateKey, { issuer: 'https://idp.example', audience: 'credential-vault' });
    await expect(strict.verify(token)).resolves.toMatchObject({ orgId: ORG_ID });
  });

  test('an RS256 token with another iss is rejected', async () => {
    const token = rs256('rsa-1', rsa.privateKey, { issuer: 'https://evil.example', audience: 'credential-vault' });
    await expectUnauthenticated(strict.verify(token), /issuer that is not accepted/, token);
  });
});
