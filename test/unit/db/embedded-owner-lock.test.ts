// The embedded database's owner file, on a real directory: one holder at a time (in this process
// too), released on close, and left-overs of dead or earlier processes taken over.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { acquireEmbeddedOwnerLock, EmbeddedDatabaseInUseError, OWNER_FILE_NAME } from '../../../src/db/embedded-owner-lock';
import { TempDirs } from '../../support/temp-dirs';

const dirs = new TempDirs('vault-owner-lock-');
afterAll(() => dirs.removeAll());

function writeOwner(dataDir: string, owner: Record<string, unknown>, ageMs = 0): string {
  const file = path.join(dataDir, OWNER_FILE_NAME);
  fs.writeFileSync(file, JSON.stringify(owner));
  if (ageMs > 0) fs.utimesSync(file, new Date(Date.now() - ageMs), new Date(Date.now() - ageMs));
  return file;
}

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

test('the first holder writes an owner file naming itself; release removes it', () => {
  const dataDir = dirs.make();
  const lock = acquireEmbeddedOwnerLock(dataDir);
  const file = path.join(dataDir, OWNER_FILE_NAME);

  expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ pid: process.pid, hostname: os.hostname(), since: expect.any(String) });
  expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  lock.release();
  expect(fs.existsSync(file)).toBe(false);
});

test('a second open, even in the same process, is refused until the first releases', () => {
  const dataDir = dirs.make();
  const lock = acquireEmbeddedOwnerLock(dataDir);

  expect(() => acquireEmbeddedOwnerLock(dataDir)).toThrow(EmbeddedDatabaseInUseError);
  expect(() => acquireEmbeddedOwnerLock(dataDir)).toThrow(`is open in process ${process.pid} on ${os.hostname()}`);
  lock.release();
  acquireEmbeddedOwnerLock(dataDir).release();
});

test('a live process of this host holds it: refused, naming it and the file to delete if it is wrong', () => {
  const dataDir = dirs.make();
  // This test's parent process is alive and is not this process.
  const file = writeOwner(dataDir, { pid: process.ppid, hostname: os.hostname(), since: '2026-01-01T00:00:00.000Z' });

  expect(() => acquireEmbeddedOwnerLock(dataDir)).toThrow(`is open in process ${process.ppid} on ${os.hostname()}, since 2026-01-01`);
  expect(() => acquireEmbeddedOwnerLock(dataDir)).toThrow(`delete ${file}`);
});

test('a dead process, or an earlier process with this very pid (a restarted container), is taken over', () => {
  for (const pid of [deadPid(), process.pid]) {
    const dataDir = dirs.make();
    writeOwner(dataDir, { pid, hostname: os.hostname(), since: '2026-01-01T00:00:00.000Z' });

    const lock = acquireEmbeddedOwnerLock(dataDir);

    expect(JSON.parse(fs.readFileSync(path.join(dataDir, OWNER_FILE_NAME), 'utf8'))).toMatchObject({ pid: process.pid });
    lock.release();
  }
});

test('an owner on another host cannot be checked: refused', () => {
  const dataDir = dirs.make();
  writeOwner(dataDir, { pid: deadPid(), hostname: `${os.hostname()}-elsewhere`, since: '2026-01-01T00:00:00.000Z' });

  expect(() => acquireEmbeddedOwnerLock(dataDir)).toThrow(EmbeddedDatabaseInUseError);
});

test('an unreadable owner file is refused while fresh (being written) and taken over once old', () => {
  const fresh = dirs.make();
  fs.writeFileSync(path.join(fresh, OWNER_FILE_NAME), '{"pid":');
  expect(() => acquireEmbeddedOwnerLock(fresh)).toThrow('is open in another process');

  const old = dirs.make();
  writeOwner(old, { garbage: true }, 60_000);
  acquireEmbeddedOwnerLock(old).release();
});

test('release leaves a file that another process has since written alone', () => {
  const dataDir = dirs.make();
  const lock = acquireEmbeddedOwnerLock(dataDir);
  const file = writeOwner(dataDir, { pid: process.ppid, hostname: os.hostname(), since: '2026-02-02T00:00:00.000Z' });

  lock.release();

  expect(fs.existsSync(file)).toBe(true);
});
