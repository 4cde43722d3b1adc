// The service as `npm start` runs it, for tests about the process itself (signals, exit codes,
// two processes on one data directory): the sources compiled with tsconfig.build.json into a
// folder of their own under .test-build/ (inside the project, so the migrations and package.json
// are found as from dist/), and started with `node <build>/src/main.js`.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { findProjectRoot } from '../../src/db/project-paths';

const execFileAsync = promisify(execFile);

export interface BuiltService {
  /** The compiled `src/` folder. */
  srcDir: string;
  remove(): void;
}

/** Compiles the service into a fresh folder under .test-build/ (a few seconds). */
export async function buildService(label: string): Promise<BuiltService> {
  const root = findProjectRoot();
  const outDir = path.join(root, '.test-build', `${label}-${process.pid}-${randomBytes(3).toString('hex')}`);
  const tsc = require.resolve('typescript/bin/tsc');
  await execFileAsync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json'), '--outDir', outDir], { cwd: root });
  return { srcDir: path.join(outDir, 'src'), remove: () => rmSync(outDir, { recursive: true, force: true }) };
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Milliseconds from `since` (the signal, for stop()) to the exit. */
  elapsedMs: number;
}

export interface ServiceProcess {
  child: ChildProcess;
  url: string;
  runtimeUrl: string | null;
  /** Every line the process wrote to stdout and stderr so far. */
  lines: string[];
  /** Parsed JSON log lines with this `event`. */
  events(event: string): Record<string, unknown>[];
  /** Resolves when the process has exited. */
  exited: Promise<Exit>;
  /** Sends `signal` and waits for the exit (timing from the signal). */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
  /** Sends a signal without waiting. */
  signal(signal: NodeJS.Signals): void;
}

/** Starts `node <built>/src/main.js` with `env` on top of this process's environment; resolves once it listens. */
export async function startService(built: BuiltService, env: Record<string, string>, timeoutMs = 60_000): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [path.join(built.srcDir, 'main.js')], {
    env: { ...process.env, NODE_ENV: '', PORT: '0', RUNTIME_PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const collect = (chunk: Buffer) =>
    lines.push(
      ...chunk
        .toString('utf8')
        .split('\n')
        .filter((line) => line !== ''),
    );
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let since = performance.now();
  const exited = new Promise<Exit>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal, elapsedMs: performance.now() - since }));
  });
  const events = (event: string) =>
    lines.flatMap((line) => {
      try {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        return parsed.event === event ? [parsed] : [];
      } catch {
        return [];
      }
    });

  const deadline = Date.now() + timeoutMs;
  let started: Record<string, unknown> | undefined;
  while (!(started = events('started')[0])) {
    const early = await Promise.race([exited, new Promise<null>((resolve) => setTimeout(() => resolve(null), 50))]);
    if (early) throw new Error(`the service exited before listening (code ${early.code}):\n${lines.join('\n')}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the service did not start within ${timeoutMs} ms:\n${lines.join('\n')}`);
    }
  }
  return {
    child,
    url: String(started.url),
    runtimeUrl: typeof started.runtimeUrl === 'string' ? started.runtimeUrl : null,
    lines,
    events,
    exited,
    signal: (signal) => {
      since = performance.now();
      child.kill(signal);
    },
    stop: (signal = 'SIGTERM') => {
      since = performance.now();
      child.kill(signal);
      return exited;
    },
  };
}

/** Runs a compiled command-line tool (`cli/key-ring.js list`, ...) to its end. */
export async function runCli(
  built: BuiltService,
  script: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [path.join(built.srcDir, 'cli', script), ...args], {
      env: { ...process.env, NODE_ENV: '', ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}
