// What a benchmark run leaves behind: one line per figure on standard output (written directly,
// not through console, so jest adds no stack frames), and one JSON line per run appended to
// bench/results/<name>.jsonl with the commit, the date and the Node version it was measured on.
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const RESULTS_DIR = path.resolve(__dirname, '..', 'results');

/** One printed figure: a name, a value with its unit, and optionally a goal and what it compares. */
export interface Figure {
  name: string;
  value: string;
  note?: string;
}

export function printFigures(title: string, figures: readonly Figure[], command: string): void {
  const width = Math.max(...figures.map((figure) => figure.name.length));
  const valueWidth = Math.max(...figures.map((figure) => figure.value.length));
  const lines = [
    '',
    title,
    ...figures.map(
      (figure) => `  ${figure.name.padEnd(width)}  ${figure.value.padStart(valueWidth)}${figure.note ? `  ${figure.note}` : ''}`,
    ),
    `  reproduce: ${command}`,
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/** Where and on what the figures were measured. */
export function environment(): Record<string, unknown> {
  const status = git(['status', '--porcelain', '--untracked-files=no']);
  return {
    commit: git(['rev-parse', '--short', 'HEAD']),
    // Tracked files changed since that commit: the figures are then of a working tree, not of the commit alone.
    dirty: status === null ? null : status.length > 0,
    date: new Date().toISOString(),
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? null,
  };
}

/** Appends `record` as one JSON line to bench/results/<name>.jsonl; returns the file's path. */
export function appendResult(name: string, record: Record<string, unknown>): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${name}.jsonl`);
  appendFileSync(file, `${JSON.stringify(record)}\n`);
  return file;
}

/** A number for people: `digits` decimals, thousands grouped. */
export function fmt(value: number, digits = 0): string {
  return Number.isFinite(value) ? value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a';
}

/** A value rounded for the JSON record. */
export function round(value: number, digits = 3): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** A bench setting from the environment: a positive integer, or `fallback` when unset or empty. */
export function setting(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got "${text}"`);
  return value;
}

/** The command that reproduces a run: the settings given (variables starting with `prefix`, and TEST_DATABASE_URL), then `command`. */
export function reproduceCommand(prefix: string, command: string): string {
  return [
    ...Object.entries(process.env)
      .filter(([name]) => name.startsWith(prefix) || name === 'TEST_DATABASE_URL')
      .map(([name, value]) => `${name}=${value}`)
      .sort(),
    command,
  ].join(' ');
}

/** How a figure stands against its goal, for the end of its printed line: `[goal < 1 s: met]`. */
export function goalNote(goal: string, met: boolean): string {
  return `[goal ${goal}: ${met ? 'met' : 'NOT MET'}]`;
}
