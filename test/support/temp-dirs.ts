// Temporary directories for a test file: `make()` creates one under the system temporary directory,
// `removeAll()` (from afterEach or afterAll) deletes every one made so far.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export class TempDirs {
  private readonly made: string[] = [];

  /** `prefix` names the directories, e.g. `vault-key-ring-cli-`. */
  constructor(private readonly prefix: string) {}

  make(): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), this.prefix));
    this.made.push(dir);
    return dir;
  }

  removeAll(): void {
    for (const dir of this.made.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}
