// What the code says about itself stays true: every project file a comment or a document names
// exists, the TypeScript configuration includes nothing that is gone, and the README's layout
// section lists every folder of src/.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { findProjectRoot } from '../../../src/db/project-paths';

const root = findProjectRoot();

function filesUnder(directory: string, pattern: RegExp): string[] {
  return readdirSync(path.join(root, directory), { withFileTypes: true }).flatMap((entry) => {
    const relative = path.posix.join(directory, entry.name);
    if (entry.isDirectory()) return relative === 'src/generated' ? [] : filesUnder(relative, pattern);
    return pattern.test(entry.name) ? [relative] : [];
  });
}

const DOCUMENTS = ['README.md', 'CONTRIBUTING.md', 'prisma/schema.prisma', 'Dockerfile'];
const SOURCES = [...filesUnder('src', /\.ts$/), ...filesUnder('test', /\.(ts|js)$/), ...filesUnder('scripts', /\.js$/)];
/** A path to a file of the project: a top folder, then segments, then a file extension. */
const PROJECT_PATH = /(?<![\w/.-])(?:src|test|prisma|scripts|bench|portal)\/[\w./-]*\w\.(?:ts|js|prisma|sql|json|md)\b/g;

/** Comments only: a path in a string is data (a test's fixture), not a claim about the tree. */
function commentsOf(source: string): string {
  return [...source.matchAll(/\/\/[^\n]*|\/\*[\s\S]*?\*\//g)].map((match) => match[0]).join('\n');
}

describe('project paths named in comments and documents', () => {
  const named = [
    ...DOCUMENTS.filter((file) => existsSync(path.join(root, file))).map((file) => ({
      file,
      text: readFileSync(path.join(root, file), 'utf8'),
    })),
    ...SOURCES.map((file) => ({ file, text: commentsOf(readFileSync(path.join(root, file), 'utf8')) })),
  ].flatMap(({ file, text }) => [...text.matchAll(PROJECT_PATH)].map((match) => ({ file, names: match[0] })));

  test('are found (so the search itself works)', () => {
    expect(named.length).toBeGreaterThan(10);
  });

  test('all exist', () => {
    const missing = named.filter(({ names }) => !existsSync(path.join(root, names)));
    expect(missing).toEqual([]);
  });
});

test("tsconfig.json's include names only files and folders that exist", () => {
  const { include } = JSON.parse(readFileSync(path.join(root, 'tsconfig.json'), 'utf8')) as { include: string[] };
  expect(include.filter((entry) => !existsSync(path.join(root, entry)))).toEqual([]);
});

test("the README's layout lists every folder of src/", () => {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const layout = /## Layout\n[^#]*?```\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
  const folders = readdirSync(path.join(root, 'src'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => `src/${entry.name}/`);
  expect(folders.filter((folder) => !layout.includes(folder))).toEqual([]);
  expect(folders.length).toBeGreaterThan(5);
});
