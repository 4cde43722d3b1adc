// The embedded database's first start, done once ahead of time. Creating a PGlite cluster (initdb)
// and applying the migrations takes seconds and briefly most of a gigabyte of memory; the result
// is the same files every time. `npm run embedded:prepare` (run by `npm start` before the service)
// builds those files once into dist/embedded-template, and a first start on an empty DATA_DIR
// copies them instead of creating a cluster. The template carries a fingerprint of what made it
// (the PGlite version, its start parameters, every migration's checksum); a template that does not
// match is ignored and the database is created the slow way, so a stale template costs time, never
// correctness. Migrations still run at every start and find nothing to do.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { errnoCode } from '../files/atomic-file';
import { migrate, type Migration } from './migrate';
import { findProjectRoot } from './project-paths';
import { pgliteSession } from './sql-session';

/**
 * PostgreSQL settings of the embedded database, after PGlite's own defaults. PostgreSQL's 128 MB
 * of shared buffers would be touched at start-up and then held for a vault's few thousand rows;
 * 16 MB holds them all.
 */
export const EMBEDDED_SETTINGS: readonly string[] = ['-c', 'shared_buffers=16MB'];

const FINGERPRINT_FILE = 'fingerprint';
const PGDATA = 'pgdata';

/** PGlite's module, as database.ts loads it (an optional dependency). */
export type PGliteClass = typeof PGlite;

/** Where `npm run embedded:prepare` puts the template, beside the build it belongs to. */
export function defaultEmbeddedTemplateDir(): string {
  return path.join(findProjectRoot(), 'dist', 'embedded-template');
}

/** The start parameters PGlite gets: its defaults, then ours. */
export function embeddedStartParams(PGliteModule: PGliteClass): string[] {
  return [...PGliteModule.defaultStartParams, ...EMBEDDED_SETTINGS];
}

/** What a template must have been made with to be used: the PGlite version, its parameters, the migrations. */
export function embeddedFingerprint(PGliteModule: PGliteClass, migrations: readonly Migration[]): string {
  const hash = createHash('sha256');
  hash.update(`pglite ${pgliteVersion()}\n`);
  hash.update(`params ${JSON.stringify(embeddedStartParams(PGliteModule))}\n`);
  for (const migration of migrations) hash.update(`migration ${migration.name} ${migration.checksum}\n`);
  return hash.digest('hex');
}

function pgliteVersion(): string {
  // The package's exports leave out package.json; it sits one level above the entry point's dist/.
  const entry = require.resolve('@electric-sql/pglite');
  const manifest = path.join(path.dirname(entry), '..', 'package.json');
  const { version } = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { version?: unknown };
  if (typeof version !== 'string') throw new Error(`no version in ${manifest}`);
  return version;
}

function readFingerprint(templateDir: string): string | null {
  try {
    return fs.readFileSync(path.join(templateDir, FINGERPRINT_FILE), 'utf8').trim();
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return null;
    throw error;
  }
}

export type TemplateOutcome = 'current' | 'created';

/**
 * Makes templateDir hold a migrated cluster matching `fingerprint`, unless it already does. Built
 * in a sibling directory and renamed into place, so a template is whole or absent, and two
 * preparations at once leave one of them.
 */
export async function prepareEmbeddedTemplate(
  PGliteModule: PGliteClass,
  migrations: readonly Migration[],
  templateDir: string,
): Promise<TemplateOutcome> {
  const fingerprint = embeddedFingerprint(PGliteModule, migrations);
  if (readFingerprint(templateDir) === fingerprint) return 'current';
  const parent = path.dirname(templateDir);
  fs.mkdirSync(parent, { recursive: true });
  const building = path.join(parent, `.${path.basename(templateDir)}.${randomBytes(6).toString('hex')}`);
  try {
    fs.mkdirSync(building, { mode: 0o700 });
    const pglite = new PGliteModule(path.join(building, PGDATA), { startParams: embeddedStartParams(PGliteModule) });
    try {
      await pglite.waitReady;
      await migrate(pgliteSession(pglite), [...migrations]);
      // Leaves the files as a clean shutdown does: the copy starts without recovery.
      await pglite.exec('CHECKPOINT');
    } finally {
      await pglite.close();
    }
    fs.writeFileSync(path.join(building, FINGERPRINT_FILE), `${fingerprint}\n`);
    fs.rmSync(templateDir, { recursive: true, force: true });
    try {
      fs.renameSync(building, templateDir);
    } catch (error) {
      // Another preparation put its template there first; it matches too.
      if (errnoCode(error) !== 'ENOTEMPTY' && errnoCode(error) !== 'EEXIST') throw error;
    }
    return 'created';
  } finally {
    fs.rmSync(building, { recursive: true, force: true });
  }
}

/**
 * On a first start (no cluster in `pgdataDir` yet), copies the template's cluster there when the
 * template matches `fingerprint`; returns whether it did. The copy goes to a sibling directory and
 * is renamed into place, so a start interrupted mid-copy leaves no half cluster behind. The caller
 * holds the embedded owner lock.
 */
export function seedFromTemplate(templateDir: string, fingerprint: string, pgdataDir: string): boolean {
  if (fs.existsSync(path.join(pgdataDir, 'PG_VERSION'))) return false;
  if (readFingerprint(templateDir) !== fingerprint) return false;
  // An empty directory (left by an older version, or made by hand) is replaced; anything else is not ours to remove.
  try {
    fs.rmdirSync(pgdataDir);
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOTEMPTY' || code === 'EEXIST') return false;
    if (code !== 'ENOENT') throw error;
  }
  const copying = `${pgdataDir}.${randomBytes(6).toString('hex')}.seeding`;
  try {
    fs.cpSync(path.join(templateDir, PGDATA), copying, { recursive: true });
    fs.chmodSync(copying, 0o700);
    fs.renameSync(copying, pgdataDir);
  } finally {
    fs.rmSync(copying, { recursive: true, force: true });
  }
  return true;
}
