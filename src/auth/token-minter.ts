// Mints HS256 tokens for development and tests (the mint-token CLI), signed with the same secret the
// verifier uses. Production tokens come from a real identity provider, never from here.
import { sign } from 'jsonwebtoken';

export interface DevelopmentTokenOptions {
  orgId: string;
  roles: string[];
  /** Defaults to `dev-user`. */
  sub?: string;
  /** Defaults to 12 hours. */
  expiresInSeconds?: number;
  issuer?: string;
  audience?: string;
}

export const DEFAULT_DEVELOPMENT_SUBJECT = 'dev-user';

/** Within JWT_MAX_TTL's default (DEFAULT_JWT_MAX_TTL_SECONDS, a day), so that the verifier accepts the tokens. */
export const DEFAULT_DEVELOPMENT_TOKEN_TTL_SECONDS = 12 * 60 * 60;

export function mintDevelopmentToken(secret: string, options: DevelopmentTokenOptions): string {
  const expiresInSeconds = options.expiresInSeconds ?? DEFAULT_DEVELOPMENT_TOKEN_TTL_SECONDS;
  // The verifier rejects tokens without a finite expiry, so refuse to mint one here already.
  if (!Number.isSafeInteger(expiresInSeconds) || expiresInSeconds <= 0) {
    throw new RangeError('expiresInSeconds must be a positive whole number of seconds.');
  }
  return sign({ org_id: options.orgId, roles: options.roles }, secret, {
    algorithm: 'HS256',
    subject: options.sub ?? DEFAULT_DEVELOPMENT_SUBJECT,
    expiresIn: expiresInSeconds,
    ...(options.issuer ? { issuer: options.issuer } : {}),
    ...(options.audience ? { audience: options.audience } : {}),
  });
}
