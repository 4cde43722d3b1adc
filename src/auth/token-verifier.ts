// Verifies the bearer JWT on every door (GraphQL, REST, the runtime listener) and turns its claims
// into a Principal. HS256 tokens are checked against JWT_SECRET, RS256/ES256 tokens against keys
// from JWT_JWKS_URI (kept by jwks-key-cache.ts); a token must expire, live no longer than
// JWT_MAX_TTL and not be issued in the future. Every failure becomes an UnauthenticatedError whose
// message never contains the token.
import { createSecretKey, type KeyObject } from 'node:crypto';
import type * as JsonWebToken from 'jsonwebtoken';
import type { JwtPayload } from 'jsonwebtoken';
import { UnauthenticatedError } from '../errors/app-error';
import { isUuid } from '../ids/uuid';
import { JwksKeyCache } from './jwks-key-cache';
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
  /** The longest lifetime accepted (exp − iat, or exp − now without iat); DEFAULT_JWT_MAX_TTL_SECONDS when unset. */
  maxTtlSeconds?: number;
  /** Milliseconds since the epoch: Date.now unless a test moves time. */
  now?: () => number;
}

type AsymmetricAlgorithm = 'RS256' | 'ES256';

const ASYMMETRIC_ALGORITHMS: readonly string[] = ['RS256', 'ES256'] satisfies AsymmetricAlgorithm[];

/** Allows for small clock differences between the issuer and this service. */
const CLOCK_TOLERANCE_SECONDS = 5;

/**
 * How far in the future `iat` may lie. Wider than the tolerance for exp and nbf: an issuer whose
 * clock runs a little ahead is harmless, a token dated far ahead is forged or broken.
 */
const FUTURE_IAT_TOLERANCE_SECONDS = 60;

/** JWT_MAX_TTL's default: a day. Development tokens (token-minter.ts) live half that. */
export const DEFAULT_JWT_MAX_TTL_SECONDS = 24 * 60 * 60;

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

// Read structurally rather than with instanceof: errors from Node's core may come from another
// realm, such as Jest's sandbox, where instanceof Error is false.
function errorMessage(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const value = (error as Record<string, unknown>).message;
  return typeof value === 'string' ? value : undefined;
}

interface TokenHeader {
  alg: string;
  kid?: unknown;
}

/** Claims jsonwebtoken has checked: signature, exp, nbf, iss and aud. */
type VerifiedPayload = JwtPayload | string;

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
  // RFC 7515 §4.1.11: extensions listed in crit must be understood, and this service implements none.
  if (header.crit !== undefined) {
    throw unauthenticated('The bearer token header lists critical extensions (crit) that this service does not support.');
  }
  return { alg: header.alg, kid: header.kid };
}

/**
 * jsonwebtoken (with semver and jws, ~60 ms of a start) is loaded when the first token is verified,
 * not when the service starts: the first request of a process waits for it once.
 */
let jsonWebToken: Promise<typeof JsonWebToken> | undefined;
const loadJsonWebToken = () => (jsonWebToken ??= import('jsonwebtoken'));

/** Translates jsonwebtoken's failures into messages for the caller, without echoing library internals. */
function verificationFailure(
  error: unknown,
  { TokenExpiredError, NotBeforeError, JsonWebTokenError }: typeof JsonWebToken,
): UnauthenticatedError {
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
  if (errorMessage(error)?.startsWith('"alg" parameter')) {
    return unauthenticated('The bearer token algorithm does not match its signing key.', error);
  }
  return unauthenticated('The bearer token could not be verified.', error);
}

/**
 * jsonwebtoken only checks exp when it is present and never looks at iat: a vault does not accept
 * tokens that never expire, that live longer than JWT_MAX_TTL, or that claim to be issued later.
 */
function checkLifetime(payload: Record<string, unknown>, nowSeconds: number, maxTtlSeconds: number): void {
  const { exp, iat } = payload;
  if (typeof exp !== 'number') throw unauthenticated('The bearer token has no expiry (exp); tokens without one are not accepted.');
  if (iat !== undefined && (typeof iat !== 'number' || !Number.isFinite(iat))) {
    throw unauthenticated("The bearer token's iat claim must be a number of seconds since the epoch.");
  }
  if (iat !== undefined && iat > nowSeconds + FUTURE_IAT_TOLERANCE_SECONDS) {
    throw unauthenticated("The bearer token claims to be issued in the future (iat); check the issuer's clock.");
  }
  if (iat !== undefined && exp - iat > maxTtlSeconds) {
    throw unauthenticated(
      `The bearer token lives longer (exp - iat) than the ${maxTtlSeconds} seconds this service accepts (JWT_MAX_TTL).`,
    );
  }
  // Without iat the lifetime is unknown; what is left of it is bounded instead (the issuer's clock may run a little ahead).
  if (iat === undefined && exp - nowSeconds > maxTtlSeconds + FUTURE_IAT_TOLERANCE_SECONDS) {
    throw unauthenticated(
      `The bearer token has no iat and expires further from now than the ${maxTtlSeconds} seconds this service accepts (JWT_MAX_TTL).`,
    );
  }
}

function principalFrom(payload: VerifiedPayload, nowSeconds: number, maxTtlSeconds: number): Principal {
  if (!isRecord(payload)) throw unauthenticated('The bearer token payload must be a JSON object of claims.');
  checkLifetime(payload, nowSeconds, maxTtlSeconds);

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

function createJwksKeyCache(jwksUri: string, now: () => number): JwksKeyCache {
  // Loaded lazily: jwks-rsa depends on the ESM-only jose, which secret-only deployments (and test
  // suites that import this module on Node 20) should not have to load at all.
  // eslint-disable-next-line @typescript-eslint/no-require-imports, @typescript-eslint/consistent-type-imports -- a lazy load, as said above
  const { JwksClient: Client } = require('jwks-rsa') as typeof import('jwks-rsa');
  const client = new Client({
    jwksUri,
    // jwks-rsa only fetches and parses the key set. Its own cache and rate limit work per request
    // and share one budget between known and unknown kids, so made-up kids could spend it and lock
    // out valid tokens; JwksKeyCache keeps the keys and decides when to fetch instead.
    cache: false,
    rateLimit: false,
    // The fetch may run inside a client's request, so it must fail fast rather than hang it for 30 s.
    timeout: 5000,
  });
  return new JwksKeyCache({ fetchKeys: () => client.getSigningKeys(), now });
}

interface VerifierSettings {
  secretKey: KeyObject | undefined;
  jwks: JwksKeyCache | undefined;
  issuer: string | undefined;
  audience: string | undefined;
  maxTtlSeconds: number;
  now: () => number;
}

export class TokenVerifier {
  private constructor(private readonly settings: VerifierSettings) {}

  /** Throws a plain Error for a configuration mistake: it is a startup problem, not the caller's. */
  static create(options: TokenVerifierOptions): TokenVerifier {
    const { secret, jwksUri, issuer, audience, maxTtlSeconds = DEFAULT_JWT_MAX_TTL_SECONDS, now = Date.now } = options;
    if (!secret && !jwksUri) throw new Error('TokenVerifier needs a secret, a JWKS URI, or both.');
    if (!Number.isSafeInteger(maxTtlSeconds) || maxTtlSeconds <= 0) {
      throw new Error('The maximum token lifetime must be a positive whole number of seconds.');
    }
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
    return new TokenVerifier({
      secretKey: secret ? createSecretKey(Buffer.from(secret, 'utf8')) : undefined,
      jwks: jwksUri ? createJwksKeyCache(jwksUri, now) : undefined,
      issuer: issuer || undefined,
      audience: audience || undefined,
      maxTtlSeconds,
      now,
    });
  }

  /** Parses the Authorization header and verifies its token. */
  async authenticate(authorizationHeader: string | undefined): Promise<Principal> {
    return this.verify(parseBearerToken(authorizationHeader));
  }

  async verify(token: string): Promise<Principal> {
    const header = readHeader(token);
    const [key, algorithm] = await this.keyFor(header);
    const nowSeconds = Math.floor(this.settings.now() / 1000);
    const jwt = await loadJsonWebToken();
    let payload: VerifiedPayload;
    try {
      payload = jwt.verify(token, key, {
        // Pinned to the one algorithm the key was chosen for, so a key can never be used with an
        // algorithm of another family (HS/RS confusion).
        algorithms: [algorithm],
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        clockTimestamp: nowSeconds,
      });
    } catch (error) {
      throw verificationFailure(error, jwt);
    }
    return principalFrom(payload, nowSeconds, this.settings.maxTtlSeconds);
  }

  /** Chooses the key by the header's alg: HS256 → the secret, RS256/ES256 → the JWKS key for kid. */
  private async keyFor(header: TokenHeader): Promise<[KeyObject, 'HS256' | AsymmetricAlgorithm]> {
    const { alg } = header;
    const { secretKey, jwks } = this.settings;
    if (alg.toLowerCase() === 'none') throw unauthenticated('Unsigned bearer tokens (alg "none") are not accepted.');
    if (alg === 'HS256') {
      if (!secretKey) throw unauthenticated('HS256 bearer tokens are not accepted by this service; use an RS256 or ES256 token.');
      return [secretKey, 'HS256'];
    }
    if (ASYMMETRIC_ALGORITHMS.includes(alg)) {
      if (!jwks) throw unauthenticated(`${alg} bearer tokens are not accepted by this service; use an HS256 token.`);
      return [await this.jwksKey(jwks, header.kid, alg), alg as AsymmetricAlgorithm];
    }
    const accepted = [...(secretKey ? ['HS256'] : []), ...(jwks ? ASYMMETRIC_ALGORITHMS : [])].join(', ');
    throw unauthenticated(`Bearer tokens signed with this algorithm are not accepted; accepted: ${accepted}.`);
  }

  private async jwksKey(jwks: JwksKeyCache, kid: unknown, alg: string): Promise<KeyObject> {
    if (typeof kid !== 'string' || kid === '' || kid.length > 256) {
      throw unauthenticated('The bearer token header has no key id (kid), so no signing key can be selected.');
    }
    const found = await jwks.lookup(kid);
    switch (found.status) {
      case 'unknown':
        throw unauthenticated('No signing key matches the bearer token key id (kid).');
      case 'unavailable':
        throw unauthenticated('Signing keys could not be fetched from the JWKS endpoint.', found.cause);
      case 'found':
        // A JWK that names its algorithm may only be used with that one.
        if (found.alg !== undefined && found.alg !== alg) {
          throw unauthenticated('The bearer token algorithm does not match its signing key.');
        }
        return found.key;
    }
  }
}
