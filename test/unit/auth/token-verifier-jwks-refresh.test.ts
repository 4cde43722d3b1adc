// When the JWKS endpoint is fetched: tokens naming made-up key ids (kid) must neither cost a fetch
// each nor lock out the keys already known, a key added at the identity provider (rotation) must
// be found after at most one bounded refresh, and known keys must outlive a failing endpoint.
// A real HTTP server on 127.0.0.1 serves the key set and counts its requests; the verifier's
// clock is moved by the tests instead of waiting.

// jwks-rsa depends on jose 6, which is ESM-only: the real jose is loaded with the host's own
// require (see host-require.ts).
jest.mock('jose', () => jest.requireActual<typeof HostRequire>('../../support/host-require').hostRequire('jose'));

import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import type http from 'node:http';
import { sign } from 'jsonwebtoken';
import { TokenVerifier } from '../../../src/auth/token-verifier';
import { expectUnauthenticated } from '../../support/expect-unauthenticated';
import type * as HostRequire from '../../support/host-require';
import { closeHttpServer, startHttpServer } from '../../support/loopback';

const ORG_ID = '0b6e1f2a-9c3d-4e8f-a1b2-c3d4e5f6a7b8';
const CLAIMS = { sub: 'service-account', org_id: ORG_ID, roles: ['viewer'] };
const SECOND = 1000;
const MINUTE = 60 * SECOND;

const current = generateKeyPairSync('rsa', { modulusLength: 2048 });
const next = generateKeyPairSync('rsa', { modulusLength: 2048 });
const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });

function publicJwk(key: KeyObject, kid: string): Record<string, unknown> {
  return { ...key.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
}

/** What the identity provider publishes, changed by the tests. */
let published: Record<string, unknown>[] = [];
let failing = false;
let jwksRequests = 0;
let server: http.Server;
let jwksUri: string;

beforeAll(async () => {
  const serving = await startHttpServer((_request, response) => {
    jwksRequests += 1;
    if (failing) {
      response.writeHead(503);
      response.end('unavailable');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ keys: published }));
  });
  server = serving.server;
  jwksUri = `${serving.base}/.well-known/jwks.json`;
});

afterAll(async () => {
  if (server) await closeHttpServer(server);
});

/** The verifier's clock, in milliseconds; tests move it forward. */
let clock = 0;

beforeEach(() => {
  published = [publicJwk(current.publicKey, 'key-2024')];
  failing = false;
  clock = Date.now();
});

function verifierWithClock(): TokenVerifier {
  return TokenVerifier.create({ jwksUri, now: () => clock });
}

/** A token issued at the verifier's current time, living ten minutes. */
function tokenFor(kid: string, privateKey: KeyObject = current.privateKey): string {
  const iat = Math.floor(clock / 1000);
  return sign({ ...CLAIMS, iat, exp: iat + 600 }, privateKey, { algorithm: 'RS256', keyid: kid });
}

/** What an attacker sends: a well-formed token naming a kid nobody published. */
const forgedToken = () => tokenFor(`made-up-${randomUUID()}`, attacker.privateKey);

/** Verifies `tokens` and counts how many were accepted. */
async function acceptedOf(verifier: TokenVerifier, tokens: string[]): Promise<number> {
  const outcomes = await Promise.allSettled(tokens.map((token) => verifier.verify(token)));
  return outcomes.filter((outcome) => outcome.status === 'fulfilled').length;
}

/** Lets the verifier's event loop turn until a background fetch has had time to finish. */
async function settle(verifier: TokenVerifier): Promise<void> {
  // A lookup of an unknown kid waits for a fetch under way, if there is one.
  await verifier.verify(forgedToken()).catch(() => undefined);
}

describe('tokens with made-up kids', () => {
  test('a burst of made-up kids does not lock out valid tokens (all 14 after 50 forged ones are accepted)', async () => {
    const verifier = TokenVerifier.create({ jwksUri });
    for (let i = 0; i < 10; i += 1) {
      const token = forgedToken();
      await expectUnauthenticated(verifier.verify(token), /No signing key matches/, token);
    }
    expect(await acceptedOf(verifier, Array.from({ length: 40 }, forgedToken))).toBe(0);

    const valid = Array.from({ length: 14 }, () => tokenFor('key-2024'));
    let accepted = 0;
    for (const token of valid) {
      if (
        await verifier.verify(token).then(
          () => true,
          () => false,
        )
      )
        accepted += 1;
    }
    expect(accepted).toBe(14);
  });

  test('made-up kids do not cost a fetch each: 100 of them, one after another and at once, cost one fetch', async () => {
    const verifier = TokenVerifier.create({ jwksUri });
    const before = jwksRequests;
    for (let i = 0; i < 50; i += 1) await verifier.verify(forgedToken()).catch(() => undefined);
    expect(await acceptedOf(verifier, Array.from({ length: 50 }, forgedToken))).toBe(0);
    expect(jwksRequests - before).toBe(1);
  });

  test('as time passes, made-up kids cause at most one fetch per 30 seconds', async () => {
    const verifier = verifierWithClock();
    const before = jwksRequests;
    for (let step = 0; step < 4; step += 1) {
      // Every 10 seconds for 2 minutes: 12 bursts, each of its own new kids.
      for (let burst = 0; burst < 3; burst += 1) {
        await acceptedOf(verifier, Array.from({ length: 20 }, forgedToken));
        clock += 10 * SECOND;
      }
    }
    const fetches = jwksRequests - before;
    expect(fetches).toBeGreaterThanOrEqual(1);
    expect(fetches).toBeLessThanOrEqual(4);
    await expect(verifier.verify(tokenFor('key-2024'))).resolves.toMatchObject({ orgId: ORG_ID });
  });

  test('the same unknown kid is not fetched for again for minutes, even once the cooldown is over', async () => {
    const verifier = verifierWithClock();
    const token = () => tokenFor('retired-2019', attacker.privateKey);
    const before = jwksRequests;
    await expectUnauthenticated(verifier.verify(token()), /No signing key matches/);
    expect(jwksRequests - before).toBe(1);

    clock += 1 * MINUTE;
    await expectUnauthenticated(verifier.verify(token()), /No signing key matches/);
    clock += 3 * MINUTE;
    await expectUnauthenticated(verifier.verify(token()), /No signing key matches/);
    expect(jwksRequests - before).toBe(1);

    // Remembered for a while, not forever.
    clock += 2 * MINUTE;
    await expectUnauthenticated(verifier.verify(token()), /No signing key matches/);
    expect(jwksRequests - before).toBe(2);
  });

  test('a token with a crit header costs no fetch', async () => {
    const verifier = TokenVerifier.create({ jwksUri });
    const before = jwksRequests;
    const iat = Math.floor(Date.now() / 1000);
    const token = sign({ ...CLAIMS, iat, exp: iat + 600 }, current.privateKey, {
      algorithm: 'RS256',
      header: { alg: 'RS256', kid: 'key-2024', crit: ['exp'] },
    });
    await expectUnauthenticated(verifier.verify(token), /critical extensions \(crit\)/, token);
    expect(jwksRequests - before).toBe(0);
  });
});

describe('key rotation at the identity provider', () => {
  test('a key published after the last fetch is accepted at the next refresh, at most 30 seconds later', async () => {
    const verifier = verifierWithClock();
    await verifier.verify(tokenFor('key-2024'));
    const before = jwksRequests;

    published = [publicJwk(current.publicKey, 'key-2024'), publicJwk(next.publicKey, 'key-2025')];
    clock += 5 * SECOND;
    // Just after a fetch the new kid cannot be told from a made-up one yet.
    await expectUnauthenticated(verifier.verify(tokenFor('key-2025', next.privateKey)), /No signing key matches/);
    expect(jwksRequests - before).toBe(0);

    clock += 26 * SECOND;
    await expect(verifier.verify(tokenFor('key-2025', next.privateKey))).resolves.toMatchObject({ orgId: ORG_ID });
    expect(jwksRequests - before).toBe(1);
    // And from then on from memory.
    await expect(verifier.verify(tokenFor('key-2025', next.privateKey))).resolves.toMatchObject({ orgId: ORG_ID });
    await expect(verifier.verify(tokenFor('key-2024'))).resolves.toMatchObject({ orgId: ORG_ID });
    expect(jwksRequests - before).toBe(1);
  });

  test('during a flood of made-up kids, a newly published key is still accepted after one refresh', async () => {
    const verifier = verifierWithClock();
    await verifier.verify(tokenFor('key-2024'));
    expect(await acceptedOf(verifier, Array.from({ length: 20 }, forgedToken))).toBe(0);
    published = [publicJwk(current.publicKey, 'key-2024'), publicJwk(next.publicKey, 'key-2025')];

    let accepted = false;
    // The attacker keeps sending made-up kids every second; the rotated key must get through within the minute.
    for (let second = 0; second < 60 && !accepted; second += 1) {
      clock += SECOND;
      await acceptedOf(verifier, Array.from({ length: 5 }, forgedToken));
      accepted = await verifier.verify(tokenFor('key-2025', next.privateKey)).then(
        () => true,
        () => false,
      );
    }
    expect(accepted).toBe(true);
  });

  test('a key the identity provider withdrew is refused once the key set is refreshed', async () => {
    const verifier = verifierWithClock();
    await verifier.verify(tokenFor('key-2024'));
    published = [publicJwk(next.publicKey, 'key-2025')];

    clock += 11 * MINUTE;
    // The old set serves while it is refreshed in the background...
    await verifier.verify(tokenFor('key-2024')).catch(() => undefined);
    await settle(verifier);
    // ...and once refreshed, the withdrawn key is gone.
    const token = tokenFor('key-2024');
    await expectUnauthenticated(verifier.verify(token), /No signing key matches/, token);
    await expect(verifier.verify(tokenFor('key-2025', next.privateKey))).resolves.toMatchObject({ orgId: ORG_ID });
  });
});

describe('a failing JWKS endpoint', () => {
  test('known keys keep being accepted, and the endpoint is not asked on every request', async () => {
    const verifier = verifierWithClock();
    await verifier.verify(tokenFor('key-2024'));
    failing = true;
    const before = jwksRequests;

    clock += 11 * MINUTE;
    for (let i = 0; i < 20; i += 1) {
      await expect(verifier.verify(tokenFor('key-2024'))).resolves.toMatchObject({ orgId: ORG_ID });
      await settle(verifier);
    }
    // 20 requests (and 20 made-up kids) at one instant: one background refresh, nothing more.
    expect(jwksRequests - before).toBe(1);

    clock += 10 * MINUTE;
    await expect(verifier.verify(tokenFor('key-2024'))).resolves.toMatchObject({ orgId: ORG_ID });
    await settle(verifier);
  });

  test('when no key set was ever fetched, the caller is told the keys could not be fetched', async () => {
    failing = true;
    const verifier = verifierWithClock();
    const token = tokenFor('key-2024');
    await expectUnauthenticated(verifier.verify(token), /Signing keys could not be fetched/, token);
    // Within the back-off, the same answer without a new attempt.
    const before = jwksRequests;
    await expectUnauthenticated(verifier.verify(tokenFor('key-2024')), /Signing keys could not be fetched/);
    expect(jwksRequests - before).toBe(0);

    // Once it answers again, the next request after the back-off is served.
    failing = false;
    clock += 6 * SECOND;
    await expect(verifier.verify(tokenFor('key-2024'))).resolves.toMatchObject({ orgId: ORG_ID });
  });
});
