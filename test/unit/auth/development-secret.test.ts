// loadOrCreateDevelopmentSecret: file modes, reuse, and one secret when several processes start at once.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { loadOrCreateDevelopmentSecret } from '../../../src/auth/development-secret';
import { TempDirs } from '../../support/temp-dirs';

const execFileAsync = promisify(execFile);

/**
 * Transpiles a source file and every relative module it imports, transitively, into `outDir`
 * (keeping their layout under src/), and returns the path of the entry's JavaScript.
 */
function transpileWithImports(entry: string, outDir: string): string {
  const sourceRoot = path.resolve(__dirname, '../../../src');
  const pending = [entry];
  const done = new Set<string>();
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (done.has(file)) continue;
    done.add(file);
    const source = fs.readFileSync(file, 'utf8');
    const output = path.join(outDir, path.relative(sourceRoot, file)).replace(/\.ts$/, '.js');
    fs.mkdirSync(path.dirname(output), { recursive: true });
    fs.writeFileSync(
      output,
      ts.transpileModule(source, {
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      }).outputText,
    );
    for (const [, specifier] of source.matchAll(/^import (?!type )[^;]*? from '(\.{1,2}\/[^']+)';$/gm)) {
      pending.push(path.resolve(path.dirname(file), `${specifier}.ts`));
    }
  }
  return path.join(outDir, path.relative(sourceRoot, entry)).replace(/\.ts$/, '.js');
}

const tempDirs = new TempDirs('vault-dev-secret-');

afterAll(() => {
  tempDirs.removeAll();
});

function freshDataDir(): string {
  // Nested and not yet existing, so that the function has to create the directory itself.
  return path.join(tempDirs.make(), 'data');
}

describe('loadOrCreateDevelopmentSecret', () => {
  test('creates a 48-byte base64url secret in jwt-secret, file 0600, directory 0700', () => {
    const dataDir = freshDataDir();
    const secret = loadOrCreateDevelopmentSecret(dataDir);
    expect(secret).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(Buffer.from(secret, 'base64url')).toHaveLength(48);
    const file = path.join(dataDir, 'jwt-secret');
    expect(fs.readFileSync(file, 'utf8').trim()).toBe(secret);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(dataDir).mode & 0o777).toBe(0o700);
  });

  test('reuses the secret on later calls', () => {
    const dataDir = freshDataDir();
    const first = loadOrCreateDevelopmentSecret(dataDir);
    expect(loadOrCreateDevelopmentSecret(dataDir)).toBe(first);
  });

  test('leaves no temporary files behind', () => {
    const dataDir = freshDataDir();
    loadOrCreateDevelopmentSecret(dataDir);
    expect(fs.readdirSync(dataDir)).toEqual(['jwt-secret']);
  });

  test('reads a secret someone else put in the file', () => {
    const dataDir = freshDataDir();
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(path.join(dataDir, 'jwt-secret'), 'a-hand-written-secret-of-40-characters-x\n', { mode: 0o600 });
    expect(loadOrCreateDevelopmentSecret(dataDir)).toBe('a-hand-written-secret-of-40-characters-x');
  });

  test('refuses a file holding a secret shorter than 32 characters', () => {
    const dataDir = freshDataDir();
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(path.join(dataDir, 'jwt-secret'), '\n', { mode: 0o600 });
    expect(() => loadOrCreateDevelopmentSecret(dataDir)).toThrow(/shorter than 32 characters; delete the file/);
  });

  test('processes creating the secret at the same moment all end up with one secret', async () => {
    // The function is synchronous, so a race needs separate processes. They run the module (and
    // the project modules it imports) transpiled to JavaScript, and spin until a common start time
    // to collide on creation.
    const modulePath = transpileWithImports(path.join(__dirname, '../../../src/auth/development-secret.ts'), tempDirs.make());

    const dataDir = freshDataDir();
    const startAt = Date.now() + 1500;
    const script = `
      const { loadOrCreateDevelopmentSecret } = require(process.argv[1]);
      while (Date.now() < Number(process.argv[3])) {}
      process.stdout.write(loadOrCreateDevelopmentSecret(process.argv[2]));
    `;
    // Packages (jsonwebtoken, ...) resolve from the project's node_modules.
    const env = { ...process.env, NODE_PATH: path.join(__dirname, '../../../node_modules') };
    const runs = Array.from({ length: 8 }, () =>
      execFileAsync(process.execPath, ['-e', script, modulePath, dataDir, String(startAt)], { env }),
    );
    const secrets = (await Promise.all(runs)).map(({ stdout }) => stdout);

    expect(new Set(secrets).size).toBe(1);
    expect(secrets[0]).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(fs.readFileSync(path.join(dataDir, 'jwt-secret'), 'utf8').trim()).toBe(secrets[0]);
    expect(fs.readdirSync(dataDir)).toEqual(['jwt-secret']);
  });
});
