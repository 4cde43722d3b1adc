// Locates files shipped beside the code (migrations), whether running from src/ under ts-jest or
// from dist/src/ after a build.
import { existsSync } from 'node:fs';
import path from 'node:path';

export function findProjectRoot(start: string = __dirname): string {
  let directory = start;
  for (;;) {
    if (existsSync(path.join(directory, 'prisma', 'migrations'))) return directory;
    const parent = path.dirname(directory);
    if (parent === directory) throw new Error(`no prisma/migrations folder above ${start}`);
    directory = parent;
  }
}

export function migrationsDirectory(): string {
  return path.join(findProjectRoot(), 'prisma', 'migrations');
}
