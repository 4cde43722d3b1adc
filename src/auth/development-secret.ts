// The HS256 secret used in development when neither JWT_SECRET nor JWT_JWKS_URI is configured: generated once
// under DATA_DIR so that the server and the mint-token CLI agree on it and tokens survive restarts.
// Never used in production (config refuses to start there without real JWT settings).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { openIfExistsSync, publishExclusiveSync } from '../files/atomic-file';
import { MIN_JWT_SECRET_LENGTH } from './token-verifier';

/** The organization development tokens act for unless told otherwise. */
export const DEFAULT_DEVELOPMENT_ORG_ID = '00000000-0000-4000-8000-000000000001';

export const DEVELOPMENT_SECRET_FILE = 'jwt-secret';

const SECRET_BYTES = 48;

/** Returns the secret in the file, undefined when there is no file. */
function readSecret(file: string): string | undefined {
  const fd = openIfExistsSync(file);
  if (fd === undefined) return undefined;
  let secret: string;
  try {
    secret = fs.readFileSync(fd, 'utf8').trim();
  } finally {
    fs.closeSync(fd);
  }
  if (secret.length < MIN_JWT_SECRET_LENGTH) {
    throw new Error(
      `The development JWT secret in ${file} is shorter than ${MIN_JWT_SECRET_LENGTH} characters; delete the file to generate a new one.`,
    );
  }
  return secret;
}

/**
 * Loads `<dataDir>/jwt-secret`, creating it (mode 0600, directory 0700) with 48 random bytes,
 * base64url-encoded, on first use.
 */
export function loadOrCreateDevelopmentSecret(dataDir: string): string {
  const file = path.join(dataDir, DEVELOPMENT_SECRET_FILE);
  const existing = readSecret(file);
  if (existing !== undefined) return existing;

  // Only applies when the directory is created here; an existing directory keeps its mode.
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(SECRET_BYTES).toString('base64url');

  // Published with link(), so a reader never sees a half-written secret, a crash never leaves an
  // empty one behind, and of two processes starting at once exactly one wins; the loser reads
  // the winner's secret.
  if (publishExclusiveSync(file, `${secret}\n`)) return secret;

  const winner = readSecret(file);
  if (winner === undefined) throw new Error(`The development JWT secret ${file} disappeared while it was being created.`);
  return winner;
}
