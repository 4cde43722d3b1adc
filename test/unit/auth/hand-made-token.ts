// Builds JWTs byte by byte, so that tests can produce what no well-behaved library would sign:
// alg "none", HS256 signed with a public key's PEM, non-object payloads.
import { createHmac } from 'node:crypto';

function encode(part: unknown): string {
  return Buffer.from(JSON.stringify(part), 'utf8').toString('base64url');
}

/** An HMAC-SHA256 signature when `hmacKey` is given, otherwise an empty signature. */
export function handMadeToken(header: Record<string, unknown>, payload: unknown, hmacKey?: string | Buffer): string {
  const signingInput = `${encode(header)}.${encode(payload)}`;
  const signature = hmacKey === undefined ? '' : createHmac('sha256', hmacKey).update(signingInput).digest('base64url');
  return `${signingInput}.${signature}`;
}
