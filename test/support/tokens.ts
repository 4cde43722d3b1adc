// Bearer tokens for tests: the secret the test application verifies with, and tokens the verifier
// must refuse: expired, signed with another secret, unsigned (alg "none"), malformed. Built with
// jsonwebtoken where a library would sign them, by hand otherwise; base64urlJson is the segment
// encoding they share with page cursors.
import { createHmac } from 'node:crypto';
import { sign } from 'jsonwebtoken';

/** The JWT secret every test application is started with. */
export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';

/** A value as JSON in base64url: a JWT header or payload segment, and a page cursor. */
export function base64urlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/**
 * A JWT assembled byte by byte, so that tests can produce what no well-behaved library would sign:
 * alg "none", HS256 signed with a public key's PEM, non-object payloads. HMAC-SHA256 signed when
 * `hmacKey` is given, otherwise with an empty signature.
 */
export function handMadeToken(header: Record<string, unknown>, payload: unknown, hmacKey?: string | Buffer): string {
  const signingInput = `${base64urlJson(header)}.${base64urlJson(payload)}`;
  const signature = hmacKey === undefined ? '' : createHmac('sha256', hmacKey).update(signingInput).digest('base64url');
  return `${signingInput}.${signature}`;
}

export interface Claims {
  orgId: string;
  roles?: string[];
  sub?: string;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

function claims({ orgId, roles = ['admin'], sub = 'test-user' }: Claims, exp = nowSeconds() + 600) {
  return { sub, org_id: orgId, roles, iat: nowSeconds() - 5, exp };
}

/** Well signed, but expired a minute ago (beyond any clock tolerance). */
export function expiredToken(who: Claims): string {
  return sign(claims(who, nowSeconds() - 60), TEST_JWT_SECRET, { algorithm: 'HS256' });
}

/** Well formed, signed with a secret the service does not know. */
export function wronglySignedToken(who: Claims): string {
  return sign(claims(who), 'another-secret-that-is-also-long-enough-0123456789', { algorithm: 'HS256' });
}

/** `alg: none` with an empty signature. */
export function unsignedToken(who: Claims): string {
  return handMadeToken({ alg: 'none', typ: 'JWT' }, claims(who));
}

/** Signed with the right secret, then its payload swapped for another organization's: the signature no longer fits. */
export function tamperedToken(who: Claims, forgedOrgId: string): string {
  const [header, , signature] = sign(claims(who), TEST_JWT_SECRET, { algorithm: 'HS256' }).split('.');
  return `${header}.${base64urlJson(claims({ ...who, orgId: forgedOrgId }))}.${signature}`;
}

/** Correctly signed, but never expiring. */
export function tokenWithoutExpiry(who: Claims): string {
  const { exp: _exp, ...rest } = claims(who);
  return sign(rest, TEST_JWT_SECRET, { algorithm: 'HS256' });
}

/** Correctly signed with the test secret and valid claims, as the service's own minter would. */
export function validToken(who: Claims): string {
  return sign(claims(who), TEST_JWT_SECRET, { algorithm: 'HS256' });
}
