// The HS256 secret used in development when neither JWT_SECRET nor JWT_JWKS_URI is configured: generated once
// under DATA_DIR so that the server and the mint-token CLI agree on it and tokens survive restarts.
// Never used in production (config refuses to start there without real JWT settings).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const DEVELOPMENT_SECRET_FILE = 'jwt-secret';

const SECRET_BYTES = 48;

/** The verifier's minimum; a hand-edited file shorter than this is refused rather than weakened. */
const MIN_SECRET_LENGTH = 32;

// Checked structurally rather than with instanceof: errors from Node's core may come from another
// realm (Jest's sandbox, vm contexts) where instanceof Error is false.
function isErrnoCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as NodeJS.ErrnoException).code === code;
}

/** Returns the secret in the file, undefined when there is no file. */
function readSecret(file: string): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if (isErrnoCode(error, 'ENOENT')) return undefined;
    throw error;
  }
  const secret = text.trim();
  if (secret.length < MIN_SECRET_LENGTH) {
    throw new Error(
      `The development JWT secret in ${file} is shorter than ${MIN_SECRET_LENGTH} characters; delete the file to generate a new one.`,
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

  // The secret is written completely to a private temporary file (O_EXCL) and then published with
  // link(), which fails with EEXIST when the name is taken. So a reader never sees a half-written
  // secret, a crash never leaves an empty one behind, and of two processes starting at once
  // exactly one wins; the loser reads the winner's secret.
  const temporary = path.join(dataDir, `.${DEVELOPMENT_SECRET_FILE}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = fs.openSync(temporary, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
  try {
    try {
      fs.writeSync(fd, `${secret}\n`);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    try {
      fs.linkSync(temporary, file);
      return secret;
    } catch (error) {
      if (!isErrnoCode(error, 'EEXIST')) throw error;
    }
  } finally {
    fs.rmSync(temporary, { force: true });
  }

  const winner = readSecret(file);
  if (winner === undefined) throw new Error(`The development JWT secret ${file} disappeared while it was being created.`);
  return winner;
}
