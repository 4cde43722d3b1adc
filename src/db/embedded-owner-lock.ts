// The embedded database (PGlite) is one process's: a second process that opens the same data
// directory corrupts it. Whoever opens it first writes an owner file next to it (created with
// O_EXCL, so two openers cannot both win) naming its process; any other opener is refused while
// that process lives. An owner file left by a process that is gone (a crash, a container that
// restarted with the same pid) is taken over.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { errnoCode, PRIVATE_FILE_MODE } from '../files/atomic-file';

export const OWNER_FILE_NAME = 'pgdata.owner';

interface Owner {
  pid: number;
  hostname: string;
  since: string;
}

/** Another live process holds the embedded database. */
export class EmbeddedDatabaseInUseError extends Error {
  constructor(dataDir: string, owner: Owner | null, ownerFile: string) {
    const who = owner ? `process ${owner.pid} on ${owner.hostname}, since ${owner.since}` : 'another process';
    super(
      `The embedded database in ${dataDir} is open in ${who}. PGlite allows one process at a time: stop that process ` +
        '(for example `npm start`) before running this command, or use PostgreSQL (DATABASE_URL), which any number of ' +
        `processes can share. If no such process runs, delete ${ownerFile}.`,
    );
    this.name = 'EmbeddedDatabaseInUseError';
  }
}

export interface EmbeddedOwnerLock {
  release(): void;
}

/** Owner files this process holds: a second open in the same process is refused too. */
const held = new Set<string>();

/** Takes the embedded database under `dataDir` for this process, or throws EmbeddedDatabaseInUseError. */
export function acquireEmbeddedOwnerLock(dataDir: string): EmbeddedOwnerLock {
  const ownerFile = path.join(dataDir, OWNER_FILE_NAME);
  if (held.has(ownerFile)) throw new EmbeddedDatabaseInUseError(dataDir, readOwner(ownerFile), ownerFile);
  const mine: Owner = { pid: process.pid, hostname: os.hostname(), since: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      fs.writeFileSync(ownerFile, `${JSON.stringify(mine)}\n`, { flag: 'wx', mode: PRIVATE_FILE_MODE });
      held.add(ownerFile);
      return {
        release: () => {
          held.delete(ownerFile);
          releaseIfMine(ownerFile, mine);
        },
      };
    } catch (error) {
      if (errnoCode(error) !== 'EEXIST') throw error;
    }
    const owner = readOwner(ownerFile);
    if (owner && isAlive(owner)) throw new EmbeddedDatabaseInUseError(dataDir, owner, ownerFile);
    // Gone (or unreadable and old enough to be a leftover): take it over, once.
    if (!owner && !isStale(ownerFile)) throw new EmbeddedDatabaseInUseError(dataDir, null, ownerFile);
    fs.rmSync(ownerFile, { force: true });
  }
  throw new EmbeddedDatabaseInUseError(dataDir, readOwner(ownerFile), ownerFile);
}

function readOwner(ownerFile: string): Owner | null {
  try {
    const parsed = JSON.parse(fs.readFileSync(ownerFile, 'utf8')) as Partial<Owner>;
    if (typeof parsed.pid !== 'number' || typeof parsed.hostname !== 'string' || typeof parsed.since !== 'string') return null;
    return { pid: parsed.pid, hostname: parsed.hostname, since: parsed.since };
  } catch {
    return null;
  }
}

/**
 * Whether the owner may still run. A file naming this very process that this process does not
 * hold was left by an earlier one with the same pid (a restarted container). On another host
 * nothing can be checked: it counts as alive.
 */
function isAlive(owner: Owner): boolean {
  if (owner.hostname !== os.hostname()) return true;
  if (owner.pid === process.pid) return false;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return errnoCode(error) === 'EPERM';
  }
}

/** An owner file that cannot be read is being written by its creator, unless it is old. */
function isStale(ownerFile: string): boolean {
  try {
    return Date.now() - fs.statSync(ownerFile).mtimeMs > 10_000;
  } catch {
    return true;
  }
}

function releaseIfMine(ownerFile: string, mine: Owner): void {
  const owner = readOwner(ownerFile);
  if (owner?.pid === mine.pid && owner.since === mine.since) fs.rmSync(ownerFile, { force: true });
}
