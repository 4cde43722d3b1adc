// Verifies the bearer JWT on every GraphQL operation and turns its claims into a Principal.
// HS256 tokens are checked against JWT_SECRET, RS256/ES256 tokens against keys from JWT_JWKS_URI;
// every failure becomes an UnauthenticatedError whose message never contains the token.
import { createSecretKey, type KeyObject } from 'node:crypto';
import { JsonWebTokenError, NotBeforeError, TokenExpiredError, verify, type JwtPayload } from 'jsonwebtoken';
import type { JwksClient } from 'jwks-rsa';
import { UnauthenticatedError } from '../errors/app-error';
import { isUuid } from '../ids/uuid';
import type { Principal } from './principal';

export interface TokenVerifierOptions {
  /** HS256 shared secret (at least 32 characters). */
  secret?: string;
  /** JWKS endpoint serving the RS256/ES256 public keys. */
  jwksUri?: string;
  /** Required `iss` when set. */
  issuer?: string;
  /** Required `aud` (or one of the `aud` entries) when set. */
  audience?: string;
}

type AsymmetricAlgorithm = 'RS256' | 'ES256';

const ASYMMETRIC_ALGORITHMS: readonly string[] = ['RS256', 'ES256'] satisfies AsymmetricAlgorithm[];

/** Allows for small clock differences between the issuer and this service. */
const CLOCK_TOLERANCE_SECONDS = 5;

/** Real tokens are well under 2 KiB; the cap keeps oversized headers from costing parse and crypto time. */
const MAX_TOKEN_LENGTH = 8192;

export const MAX_SUBJECT_LENGTH = 256;

/** Matches the JWS compact form; the signature may be empty so that `alg: none` gets its own message. */
const COMPACT_JWS_PATTERN = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** The shortest HS256 secret accepted: JWT_SECRET, and the development secret under DATA_DIR. */
export const MIN_JWT_SECRET_LENGTH = 32;

/**
 * The `sub` rule, shared with the mint-token CLI: non-empty, at most 256 characters, no control
 * characters (the user id ends up in logs and audit columns, where those would allow forging lines).
 */
export function isValidSubject(value: string): boolean {
  return value.trim() !== '' && value.length <= MAX_SUBJECT_LENGTH && !/[\u0000-\u001f\u007f]/.test(value);
}

/**
 * UnauthenticatedError does not take a cause, so it is attached here the way AppError does it:
 * non-enumerable, for server-side logs only.
 */
function unauthenticated(message: string, cause?: unknown): UnauthenticatedError {
  const error = new UnauthenticatedError(message);
  if (cause !== undefined) Object.defineProperty(error, 'cause', { value: cause, enumerable: false });
  return error;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Read structurally rather than with instanceof: errors from Node's core (network failures under
// jwks-rsa) may come from another realm, such as Jest's sandbox, where instanceof Error is false.
function errorField(error: unknown, field: 'name' | 'message'): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const value = (error as Record<string, unknown>)[field];
  return typeof value === 'string' ? value : undefined;
}

interface TokenHeader {
  alg: string;
  kid?: unknown;
}

/** Reads the header before verification, only to choose the key; nothing in it is trusted. */
function readHeader(token: string): TokenHeader {
  if (token.length > MAX_TOKEN_LENGTH) throw unauthenticated('The bearer token is too long.');
  if (!COMPACT_JWS_PATTERN.test(token)) throw unauthenticated('The bearer token is malformed (expected a JWT).');
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString('utf8'));
  } catch {
    throw unauthenticated('The bearer token is malformed (its header is not JSON).');
  }
  if (!isRecord(header) || typeof header.alg !== 'string') {
    throw unauthenticated('The bearer token is malformed (its header has no "alg").');
  }
  return { alg: header.alg, kid: header.kid };
}

/** Translates jsonwebtoken's failures into messages for the caller, without echoing library internals. */
function verificationFailure(error: unknown): UnauthenticatedError {
  if (error instanceof TokenExpiredError) return unauthenticated('The bearer token has expired.', error);
  if (error instanceof NotBeforeError) return unauthenticated('The bearer token is not valid yet (nbf).', error);
  if (error instanceof JsonWebTokenError) {
    if (error.message.startsWith('jwt issuer invalid'))
      return unauthenticated('The bearer token was issued by an issuer that is not accepted (iss).', error);
    if (error.message.startsWith('jwt audience invalid'))
      return unauthenticated('The bearer token is not meant for this service (aud).', error);
    if (error.message === 'invalid signature' || error.message === 'jwt signature is required') {
      return unauthenticated('The bearer token signature is invalid.', error);
    }
    if (error.message === 'jwt malformed' || error.message === 'invalid token') {
      return unauthenticated('The bearer token is malformed (expected a JWT).', error);
    }
  }
  // jsonwebtoken refuses a key whose type does not fit the algorithm (say an ES256 token pointing
  // at an RSA key served without "alg") with a plain Error.
  if (errorField(error, 'message')?.startsWith('"alg" parameter')) {
    return unauthenticated('The bearer token algorithm does not match its signing key.', error);
  }
  return unauthenticated('The bearer token could not be verified.', error);
}

function principalFrom(payload: JwtPayload | string): Principal {
  if (!isRecord(payload)) throw unauthenticated('The bearer token payload must be a JSON object of claims.');
  // jsonwebtoken only checks exp when it is present; a vault does not accept tokens that never expire.
  if (typeof payload.exp !== 'number') throw unauthenticated('The bearer token has no expiry (exp); tokens without one are not accepted.');

  const { sub, org_id: orgId, roles } = payload;
  if (typeof sub !== 'string' || !isValidSubject(sub)) {
    throw unauthenticated(
      `The bearer token's sub claim must be a non-empty string of at most ${MAX_SUBJECT_LENGTH} characters without control characters.`,
    );
  }
  if (typeof orgId !== 'string' || !isUuid(orgId)) {
    throw unauthenticated("The bearer token's org_id claim must be a UUID.");
  }
  if (!Array.isArray(roles) || !roles.every((role): role is string => typeof role === 'string')) {
    throw unauthenticated("The bearer token's roles claim must be an array of strings.");
  }
  return { userId: sub, orgId: orgId.toLowerCase(), roles: [...new Set(roles)] };
}

/**
 * Extracts the token from `Bearer <token>`: the scheme is case-insensitive (RFC 7235) and exactly
 * one token must follow.
 */
export function parseBearerToken(authorizationHeader: string | undefined): string {
  if (authorizationHeader === undefined || authorizationHeader.trim() === '') {
    throw unauthenticated('Missing Authorization header; send "Authorization: Bearer <token>".');
  }
  const parts = authorizationHeader.trim().split(/\s+/);
  if (parts[0].toLowerCase() !== 'bearer') {
    throw unauthenticated('The Authorization header must use the Bearer scheme: "Authorization: Bearer <token>".');
  }
  if (parts.length !== 2) {
    throw unauthenticated('The Authorization header must contain exactly one token: "Authorization: Bearer <token>".');
  }
  return parts[1];
}

function createJwksClient(jwksUri: string): JwksClient {
  // Loaded lazily: jwks-rsa depends on the ESM-only jose, which secret-only deployments (and test
  // suites that import this module on Node 20) should not have to load at all.
  // eslint-disable-next-line @typescript-eslint/no-require-imports, @typescript-eslint/consistent-type-imports -- a lazy load, as said above
  const { JwksClient: Client } = require('jwks-rsa') as typeof import('jwks-rsa');
  return new Client({
    jwksUri,
    // Keys are cached per kid, so a valid token costs no request; the rate limit bounds how often
    // tokens with unknown kids can make us refetch.
    cache: true,
    cacheMaxEntries: 16,
    cacheMaxAge: 10 * 60 * 1000,
    rateLimit: true,
    jwksRequestsPerMinute: 10,
    // The fetch runs inside a client's request, so it must fail fast rather than hang it for 30 s.
    timeout: 5000,
  });
}

export class TokenVerifier {
  private constructor(
    private readonly secretKey: KeyObject | undefined,
    private readonly jwks: JwksClient | undefined,
    private readonly issuer: string | undefined,
    private readonly audience: string | undefined,
  ) {}

  /** Throws a plain Error for a configuration mistake: it is a startup problem, not the caller's. */
  static create(options: TokenVerifierOptions): TokenVerifier {
    const { secret, jwksUri, issuer, audience } = options;
    if (!secret && !jwksUri) throw new Error('TokenVerifier needs a secret, a JWKS URI, or both.');
    if (secret !== undefined && secret.length < MIN_JWT_SECRET_LENGTH) {
      throw new Error(`The JWT secret must be at least ${MIN_JWT_SECRET_LENGTH} characters.`);
    }
    if (jwksUri !== undefined) {
      let protocol: string;
      try {
        protocol = new URL(jwksUri).protocol;
      } catch {
        throw new Error('The JWKS URI must be an http(s) URL.');
      }
      if (protocol !== 'https:' && protocol !== 'http:') throw new Error('The JWKS URI must be an http(s) URL.');
    }
    return new TokenVerifier(
      secret ? createSecretKey(Buffer.from(secret, 'utf8')) : undefined,
      jwksUri ? createJwksClient(jwksUri) : undefined,
      issuer || undefined,
      audience || undefined,
    );
  }

  /** Parses the Authorization header and verifies its token. */
  async authenticate(authorizationHeader: string | undefined): Promise<Principal> {
    return this.verify(parseBearerToken(authorizationHeader));
  }

  async verify(token: string): Promise<Principal> {
    const header = readHeader(token);
    const [key, algorithm] = await this.keyFor(header);
    let payload: JwtPayload | string;
    try {
      payload = verify(token, key, {
        // Pinned to the one algorithm the key was chosen for, so a key can never be used with an
        // algorithm of another family (HS/RS confusion).
        algorithms: [algorithm],
        issuer: this.issuer,
        audience: this.audience,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      });
    } catch (error) {
      throw verificationFailure(error);
    }
    return principalFrom(payload);
  }

  /** Chooses the key by the header's alg: HS256 → the secret, RS256/ES256 → the JWKS key for kid. */
  private async keyFor(header: TokenHeader): Promise<[KeyObject | string, 'HS256' | AsymmetricAlgorithm]> {
    const { alg } = header;
    if (alg.toLowerCase() === 'none') throw unauthenticated('Unsigned bearer tokens (alg "none") are not accepted.');
    if (alg === 'HS256') {
      if (!this.secretKey) throw unauthenticated('HS256 bearer tokens are not accepted by this service; use an RS256 or ES256 token.');
      return [this.secretKey, 'HS256'];
    }
    if (ASYMMETRIC_ALGORITHMS.includes(alg)) {
      if (!this.jwks) throw unauthenticated(`${alg} bearer tokens are not accepted by this service; use an HS256 token.`);
      return [await this.jwksKey(header.kid, alg), alg as AsymmetricAlgorithm];
    }
    const accepted = [...(this.secretKey ? ['HS256'] : []), ...(this.jwks ? ASYMMETRIC_ALGORITHMS : [])].join(', ');
    throw unauthenticated(`Bearer tokens signed with this algorithm are not accepted; accepted: ${accepted}.`);
  }

  private async jwksKey(kid: unknown, alg: string): Promise<string> {
    if (typeof kid !== 'string' || kid === '' || kid.length > 256) {
      throw unauthenticated('The bearer token header has no key id (kid), so no signing key can be selected.');
    }
    // Non-null: keyFor only calls this with a client configured.
    const client = this.jwks as JwksClient;
    let signingKey;
    try {
      signingKey = await client.getSigningKey(kid);
    } catch (error) {
      if (errorField(error, 'name') === 'SigningKeyNotFoundError') {
        throw unauthenticated('No signing key matches the bearer token key id (kid).', error);
      }
      if (errorField(error, 'name') === 'JwksRateLimitError') {
        throw unauthenticated('Signing keys could not be fetched: too many key refreshes, try again in a minute.', error);
      }
      throw unauthenticated('Signing keys could not be fetched from the JWKS endpoint.', error);
    }
    // A JWK that names its algorithm may only be used with that one.
    if (signingKey.alg !== undefined && signingKey.alg !== alg) {
      throw unauthenticated('The bearer token algorithm does not match its signing key.');
    }
    return signingKey.getPublicKey();
  }
}
