// The embedded database's prepared template: built once (initdb and every migration), copied on a
// first start instead of creating a cluster, ignored when it was made by anything else (another
// PGlite, other parameters, other migrations), never copied over a cluster that is already there.
import fs from 'node:fs';
import path from 'node:path';
import { openDatabase, prepareEmbeddedDatabaseTemplate } from '../../src/db/database';
import { readMigrations } from '../../src/db/migrate';
import { migrationsDirectory } from '../../src/db/project-paths';
import type * as HostRequire from '../support/host-require';
import { TempDirs } from '../support/temp-dirs';

// PGlite is loaded by Node's own loader instead of Jest's (see host-require.ts): the genuine package.
jest.mock('@electric-sql/pglite', () =>
  jest.requireActual<typeof HostRequire>('../support/host-require').hostRequire('@electric-sql/pglite'),
);

// Creating a cluster takes several seconds; this file does it twice.
jest.setTimeout(120_000);

const tempDirs = new TempDirs('vault-embedded-template-');
let templateDir: string;

beforeAll(async () => {
  templateDir = path.join(tempDirs.make(), 'embedded-template');
  const outcome = await prepareEmbeddedDatabaseTemplate(templateDir);
  if (outcome !== 'created') throw new Error(`expected a new template, got ${outcome}`);
});

afterAll(() => {
  tempDirs.removeAll();
});

async function appliedMigrations(dataDir: string, template: string | null) {
  const database = await openDatabase({ dataDir, embeddedTemplateDir: template });
  try {
    const rows = await database.prisma.$queryRaw<{ migration_name: string }[]>`
      SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL ORDER BY migration_name`;
    return { cluster: database.embeddedCluster, migrations: rows.map((row) => row.migration_name) };
  } finally {
    await database.close();
  }
}

test('a prepared template holds every migration, says what made it, and is left alone when current', async () => {
  expect(fs.readdirSync(templateDir).sort()).toEqual(['fingerprint', 'pgdata']);
  expect(fs.readFileSync(path.join(templateDir, 'fingerprint'), 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
  const before = fs.statSync(path.join(templateDir, 'fingerprint')).mtimeMs;
  expect(await prepareEmbeddedDatabaseTemplate(templateDir)).toBe('current');
  expect(fs.statSync(path.join(templateDir, 'fingerprint')).mtimeMs).toBe(before);
  // Nothing half-built beside it.
  expect(fs.readdirSync(path.dirname(templateDir))).toEqual(['embedded-template']);
});

test('a first start copies the template, with every migration applied, and a restart opens what is there', async () => {
  const dataDir = tempDirs.make();
  const names = (await readMigrations(migrationsDirectory())).map((migration) => migration.name);
  expect(await appliedMigrations(dataDir, templateDir)).toEqual({ cluster: 'template', migrations: names });
  expect(fs.statSync(path.join(dataDir, 'pgdata')).mode & 0o777).toBe(0o700);
  // No copy left half-way beside the cluster.
  expect(fs.readdirSync(dataDir).filter((name) => name.includes('seeding'))).toEqual([]);
  expect(await appliedMigrations(dataDir, templateDir)).toEqual({ cluster: 'existing', migrations: names });
});

test('each data directory gets its own copy: what one database writes, another seeded from the same template does not see', async () => {
  const first = tempDirs.make();
  const second = tempDirs.make();
  const database = await openDatabase({ dataDir: first, embeddedTemplateDir: templateDir });
  try {
    await database.prisma.$executeRaw`CREATE TABLE only_in_first (id int)`;
  } finally {
    await database.close();
  }
  const other = await openDatabase({ dataDir: second, embeddedTemplateDir: templateDir });
  try {
    expect(other.embeddedCluster).toBe('template');
    const found = await other.prisma.$queryRaw<{ name: string | null }[]>`SELECT to_regclass('only_in_first')::text AS name`;
    expect(found).toEqual([{ name: null }]);
  } finally {
    await other.close();
  }
  // The template itself was not written through either copy.
  expect(await prepareEmbeddedDatabaseTemplate(templateDir)).toBe('current');
});

test('a template made by anything else is ignored: the first start creates its cluster and migrates it', async () => {
  const stale = path.join(tempDirs.make(), 'stale-template');
  fs.cpSync(templateDir, stale, { recursive: true });
  fs.writeFileSync(path.join(stale, 'fingerprint'), `${'0'.repeat(64)}\n`);
  const dataDir = tempDirs.make();
  const names = (await readMigrations(migrationsDirectory())).map((migration) => migration.name);
  expect(await appliedMigrations(dataDir, stale)).toEqual({ cluster: 'created', migrations: names });
});

test('a template is never copied over a data directory that already holds something', async () => {
  const dataDir = tempDirs.make();
  fs.mkdirSync(path.join(dataDir, 'pgdata'));
  fs.writeFileSync(path.join(dataDir, 'pgdata', 'PG_VERSION'), '17\n');
  const database = openDatabase({ dataDir, embeddedTemplateDir: templateDir });
  // Not a cluster PGlite can open: the point is that the template did not replace it.
  await expect(database).rejects.toThrow(/PGlite failed to initialize/);
  expect(fs.readdirSync(path.join(dataDir, 'pgdata'))).toEqual(['PG_VERSION']);
});
