// One name per thing: no two modules of src/ export the same name, so a reader (and an import)
// always knows which layer a symbol belongs to. A GraphQL class is `CredentialType` or
// `CreateCredentialInput`; what the service receives is a `...Request`; the model keeps the
// plain name.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { findProjectRoot } from '../../../src/db/project-paths';

const root = findProjectRoot();

function sourceFiles(directory: string): string[] {
  return readdirSync(path.join(root, directory), { withFileTypes: true }).flatMap((entry) => {
    const relative = path.posix.join(directory, entry.name);
    if (entry.isDirectory()) return relative === 'src/generated' ? [] : sourceFiles(relative);
    return entry.name.endsWith('.ts') ? [relative] : [];
  });
}

const EXPORT = /^export (?:abstract )?(?:class|interface|type|const|let|function|enum) (\w+)/gm;

test('every name exported from src/ is exported by one module only', () => {
  const modulesByName = new Map<string, Set<string>>();
  for (const file of sourceFiles('src')) {
    for (const [, name] of readFileSync(path.join(root, file), 'utf8').matchAll(EXPORT)) {
      modulesByName.set(name, (modulesByName.get(name) ?? new Set()).add(file));
    }
  }
  expect(modulesByName.size).toBeGreaterThan(100);
  const shared = [...modulesByName].filter(([, files]) => files.size > 1).map(([name, files]) => `${name}: ${[...files].join(', ')}`);
  expect(shared).toEqual([]);
});
