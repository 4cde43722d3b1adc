// Files a reader must never see half-written (the development key ring, the development JWT
// secret): the contents go to a private temporary file first, which is fsynced and then either
// hard-linked to the name (first creator wins) or renamed over it (atomic replace).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** Owner read/write only: these files hold keys. */
export const PRIVATE_FILE_MODE = 0o600;

/**
 * The `code` of a Node system error (ENOENT, EEXIST, ...). Checked structurally: errors from
 * Node's core may come from another realm (Jest's sandbox, vm contexts) where instanceof fails.
 */
export function errnoCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

/** Opens a file for reading: its descriptor, or undefined when the file does not exist. */
export function openIfExistsSync(filePath: string): number | undefined {
  try {
    return fs.openSync(filePath, 'r');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Publishes `contents` under `filePath` unless the name exists: returns false then. Of two
 * processes creating the same file at once exactly one wins, since link(2) cannot replace a name.
 */
export function publishExclusiveSync(filePath: string, contents: string): boolean {
  return withTemporaryCopy(filePath, contents, (temporary) => {
    try {
      fs.linkSync(temporary, filePath);
    } catch (error) {
      if (errnoCode(error) === 'EEXIST') return false;
      throw error;
    }
    syncDirectory(path.dirname(filePath));
    return true;
  });
}

/** Replaces `filePath` atomically: a crash leaves either the old contents or the new, never a torn file. */
export function replaceFileSync(filePath: string, contents: string): void {
  withTemporaryCopy(filePath, contents, (temporary) => {
    fs.renameSync(temporary, filePath);
    syncDirectory(path.dirname(filePath));
  });
}

/** Writes a complete, private, fsynced temporary file beside `filePath`, hands it to `publish`, and removes it. */
function withTemporaryCopy<T>(filePath: string, contents: string, publish: (temporary: string) => T): T {
  const temporary = path.join(path.dirname(filePath), `.${path.basename(filePath)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fd = fs.openSync(temporary, 'wx', PRIVATE_FILE_MODE);
    try {
      // The umask can only clear bits, but set the mode explicitly rather than rely on it.
      fs.fchmodSync(fd, PRIVATE_FILE_MODE);
      fs.writeFileSync(fd, contents, 'utf8');
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    return publish(temporary);
  } finally {
    fs.rmSync(temporary, { force: true });
  }
}

/** Makes a new directory entry durable. Best effort: some platforms cannot fsync a directory. */
function syncDirectory(directory: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(directory, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Durability of the name is a nicety for development files, not worth failing over.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
