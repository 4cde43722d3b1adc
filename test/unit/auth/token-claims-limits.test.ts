// What a well-signed token must still respect: a lifetime of at most JWT_MAX_TTL (exp - iat, or
// exp - now without iat), an iat that is not in the future, and no critical header extension
// (crit) the service does not understand. Each refusal is UNAUTHENTICATED, names its reason and
// never echoes the token.
import { sign } from 'jsonwebtoken';
import { DEFAULT_JWT_MAX_TTL_SECONDS, TokenVerifier } from '../../../src/auth/token-verifier';
import { DEFAULT_DEVELOPMENT_TOKEN_TTL_SECONDS, mintDevelopmentToken } from '../../../src/auth/token-minter';
import { expectUnauthenticated } from '../../support/expect-unauthenticated';
import { handMadeToken } from '../../support/tokens';

const SECRET = 'unit-test-secret-0123456789-abcdefghij';
const ORG_ID = '6f1c2b9e-3a4d-4e5f-8a7b-1c2d3e4f5a6b';
const CLAIMS = { sub: 'alice', org_id: ORG_ID, roles: ['admin'] };
const HOUR = 60 * 60;
const DAY = 24 * HOUR;
/** 9999-12-31T23:59:59Z */
const YEAR_9999 = 253_402_300_799;

function now(): number {
  return Math.floor(Date.now() / 1000);
}

/** An HS256 token with exactly these claims: jsonwebtoken keeps an iat given and adds none otherwise. */
function hs256(claims: Record<string, unknown>): string {
  return sign({ ...CLAIMS, ...claims }, SECRET, { algorithm: 'HS256', noTimestamp: !('iat' in claims) });
}

const verifier = TokenVerifier.create({ secret: SECRET });

describe('the maximum lifetime (JWT_MAX_TTL, a day by default)', () => {
  test('the default is a day', () => {
    expect(DEFAULT_JWT_MAX_TTL_SECONDS).toBe(DAY);
  });

  test('a token expiring in the year 9999 is refused', async () => {
    const token = hs256({ iat: now(), exp: YEAR_9999 });
    await expectUnauthenticated(verifier.verify(token), /lives longer \(exp - iat\) than the 86400 seconds/, token);
  });

  test('a token living exactly a day is accepted, one living a day and a second is refused', async () => {
    const iat = now();
    await expect(verifier.verify(hs256({ iat, exp: iat + DAY }))).resolves.toMatchObject({ userId: 'alice' });
    const token = hs256({ iat, exp: iat + DAY + 1 });
    await expectUnauthenticated(verifier.verify(token), /lives longer \(exp - iat\)/, token);
  });

  test('the lifetime counts from iat: a long-lived token is refused even when little of it is left', async () => {
    const token = hs256({ iat: now() - 30 * DAY, exp: now() + 60 });
    await expectUnauthenticated(verifier.verify(token), /lives longer \(exp - iat\)/, token);
  });

  test('without iat, a token expiring in the year 9999 is refused', async () => {
    const token = hs256({ exp: YEAR_9999 });
    await expectUnauthenticated(verifier.verify(token), /has no iat and expires further from now than the 86400 seconds/, token);
  });

  test('without iat, a token expiring within a day is accepted, one expiring two days from now is refused', async () => {
    await expect(verifier.verify(hs256({ exp: now() + DAY - 60 }))).resolves.toMatchObject({ userId: 'alice' });
    const token = hs256({ exp: now() + 2 * DAY });
    await expectUnauthenticated(verifier.verify(token), /has no iat and expires further from now than/, token);
  });

  test('a shorter maximum is honoured: an hour allows 60 minutes, not 61', async () => {
    const hourly = TokenVerifier.create({ secret: SECRET, maxTtlSeconds: HOUR });
    const iat = now();
    await expect(hourly.verify(hs256({ iat, exp: iat + HOUR }))).resolves.toMatchObject({ userId: 'alice' });
    const token = hs256({ iat, exp: iat + HOUR + 60 });
    await expectUnauthenticated(hourly.verify(token), /than the 3600 seconds this service accepts \(JWT_MAX_TTL\)/, token);
  });

  test('a longer maximum is honoured: a week allows the two-day token that the default refuses', async () => {
    const weekly = TokenVerifier.create({ secret: SECRET, maxTtlSeconds: 7 * DAY });
    const iat = now();
    const token = hs256({ iat, exp: iat + 2 * DAY });
    await expect(weekly.verify(token)).resolves.toMatchObject({ userId: 'alice' });
    await expectUnauthenticated(verifier.verify(token), /lives longer/, token);
  });

  test.each([0, -1, 1.5, Number.NaN])('a maximum of %p is a configuration error', (maxTtlSeconds) => {
    expect(() => TokenVerifier.create({ secret: SECRET, maxTtlSeconds })).toThrow(/maximum token lifetime/);
  });

  test("development tokens live within the default maximum, and the minter's tokens are accepted", async () => {
    expect(DEFAULT_DEVELOPMENT_TOKEN_TTL_SECONDS).toBeLessThanOrEqual(DEFAULT_JWT_MAX_TTL_SECONDS);
    const token = mintDevelopmentToken(SECRET, { orgId: ORG_ID, roles: ['admin'] });
    await expect(verifier.verify(token)).resolves.toMatchObject({ orgId: ORG_ID });
  });
});

describe('iat', () => {
  test('an iat ten minutes in the future is refused; a few seconds ahead (a clock running fast) is accepted', async () => {
    const token = hs256({ iat: now() + 600, exp: now() + 1200 });
    await expectUnauthenticated(verifier.verify(token), /issued in the future \(iat\)/, token);
    await expect(verifier.verify(hs256({ iat: now() + 20, exp: now() + 600 }))).resolves.toMatchObject({ userId: 'alice' });
  });

  test('an iat a day in the future is refused even when the lifetime is short', async () => {
    const token = hs256({ iat: now() + DAY, exp: now() + DAY + 60 });
    await expectUnauthenticated(verifier.verify(token), /issued in the future \(iat\)/, token);
  });

  test('an iat that is not a number is refused', async () => {
    const token = handMadeToken({ alg: 'HS256', typ: 'JWT' }, { ...CLAIMS, iat: 'yesterday', exp: now() + 600 }, SECRET);
    await expectUnauthenticated(verifier.verify(token), /iat claim must be a number/, token);
  });
});

describe('critical header parameters (crit, RFC 7515 §4.1.11)', () => {
  const payload = () => ({ ...CLAIMS, iat: now(), exp: now() + 600 });

  test.each([
    ['an unknown extension', ['https://example.com/must-understand']],
    ['b64 (RFC 7797)', ['b64']],
    ['an empty list', []],
    ['a value that is not a list', 'exp'],
  ])('crit naming %s is refused (the same token without crit is accepted)', async (_label, crit) => {
    const header = { alg: 'HS256', typ: 'JWT', 'https://example.com/must-understand': true };
    await expect(verifier.verify(handMadeToken(header, payload(), SECRET))).resolves.toMatchObject({ userId: 'alice' });
    const token = handMadeToken({ ...header, crit }, payload(), SECRET);
    await expectUnauthenticated(verifier.verify(token), /critical extensions \(crit\)/, token);
  });
});
