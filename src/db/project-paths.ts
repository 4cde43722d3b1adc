// Locates files shipped beside the code (migrations, package.json), whether running from src/ under ts-jest or
// from dist/src/ after a build.
import { existsSync, readFileSync } from 'node:fs';
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

/** The version in the project's package.json, for documents that describe this service. */
export function projectVersion(): string {
  const { version } = JSON.parse(readFileSync(path.join(findProjectRoot(), 'package.json'), 'utf8')) as { version?: unknown };
  return typeof version === 'string' ? version : '0.0.0';
}
