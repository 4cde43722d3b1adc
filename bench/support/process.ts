// A process as an orchestrator sees it: spawned, polled on GET /healthz every few milliseconds until
// the first 200 (timed from just before the spawn), its memory read from /proc/<pid>/status at that
// moment, then sent SIGTERM and timed until it exits. For the process-level benchmarks, which start
// the compiled service (and a trivial node server, the floor) as children of their own; and whether
// that compiled service is older than its sources.
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const ROOT = path.resolve(__dirname, '..', '..');

/** The compiled service, as `npm start` runs it. */
export const SERVICE_MAIN = path.join(ROOT, 'dist', 'src', 'main.js');

/** Source files of src/ whose compiled file in dist/src/ is missing or older: a run of dist/ would measure an older build. */
export function staleOutputs(): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
        const relative = path.relative(ROOT, file);
        const output = path.join(ROOT, 'dist', relative.replace(/\.ts$/, '.js'));
        let outputMtime = 0;
        try {
          outputMtime = statSync(output).mtimeMs;
        } catch {
          // missing: stale
        }
        if (outputMtime < statSync(file).mtimeMs) found.push(relative);
      }
    }
  };
  walk(path.join(ROOT, 'src'));
  return found;
}

/** The line a run prints when dist/ is older than src/ (the figures are then of an older build); none when it is current. */
export function staleFigures(stale: readonly string[]): { name: string; value: string; note: string }[] {
  if (stale.length === 0) return [];
  return [
    {
      name: 'dist/ older than src/',
      value: `${stale.length} file(s)`,
      note: `(${stale.slice(0, 3).join(', ')}${stale.length > 3 ? ', ...' : ''}): the figures are of an older build; npm run bench builds first`,
    },
  ];
}

/**
 * Resident set (VmRSS) and its peak so far (VmHWM), in MiB, and the CPU time the process has used
 * (user + system, every thread: /proc/<pid>/stat); null where /proc is not there (not Linux) or the
 * process is gone. CPU time hardly moves with the machine's other load, where wall time does.
 */
export interface Memory {
  rssMb: number;
  hwmMb: number;
  cpuMs: number;
}

/** Clock ticks a second of /proc/<pid>/stat's times: USER_HZ, 100 on every Linux architecture Node runs on. */
const USER_HZ = 100;

function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is in parentheses and may hold spaces; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / USER_HZ) * 1000;
}

export function memoryOf(pid: number | undefined): Memory | null {
  if (pid === undefined) return null;
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  const rss = kib('VmRSS');
  const hwm = kib('VmHWM');
  let cpuMs: number;
  try {
    cpuMs = cpuMsOf(pid);
  } catch {
    return null;
  }
  return Number.isFinite(rss) && Number.isFinite(hwm) ? { rssMb: rss / 1024, hwmMb: hwm / 1024, cpuMs } : null;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** performance.now() when the 'exit' event came. */
  at: number;
}

export interface StartedProcess {
  child: ChildProcess;
  /** Milliseconds from just before the spawn to the first 200 of GET /healthz. */
  startMs: number;
  /** Read as soon as that 200 was read. */
  memory: Memory | null;
  /** Requests sent before the 200 (refused connections included). */
  probes: number;
  /** Every line the process wrote to stdout and stderr so far (the last `keepLines` of them when that is set). */
  lines: string[];
  /** Lines written so far to each stream, those `keepLines` let go included. */
  written: { stdout: number; stderr: number };
  exited: Promise<Exit>;
}

export interface StartOptions {
  /** Arguments to `node` (process.execPath). */
  args: string[];
  env: NodeJS.ProcessEnv;
  /** Polled until it answers 200. */
  healthzUrl: string;
  /** Pause after each probe that did not get a 200. */
  pollMs: number;
  /** Give up (SIGKILL, and throw) after this long without a 200. */
  timeoutMs: number;
  /**
   * Keep only the last this many lines in `lines` (default: every line), for a process that logs
   * every request: its log would otherwise pile up in this process. `written` still counts them all.
   */
  keepLines?: number;
}

/** One GET on a connection of its own: the status, or null when the connection was refused or failed. */
function probe(url: string, timeoutMs: number): Promise<number | null> {
  return new Promise((resolve) => {
    const request = http.get(url, { agent: false }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? null));
      response.on('error', () => resolve(null));
    });
    request.setTimeout(timeoutMs, () => request.destroy(new Error('probe timed out')));
    request.on('error', () => resolve(null));
  });
}

/** Spawns `node ...args` and resolves once GET healthzUrl answers 200; throws if the process exits first or the timeout passes. */
export async function startUntilHealthy(options: StartOptions): Promise<StartedProcess> {
  const lines: string[] = [];
  let exit: Exit | undefined;
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, options.args, { env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<Exit>((resolve) => {
    child.on('exit', (code, signal) => resolve((exit = { code, signal, at: performance.now() })));
  });
  const written = { stdout: 0, stderr: 0 };
  const collect = (stream: keyof typeof written) => (chunk: Buffer) => {
    for (let at = chunk.indexOf(0x0a); at !== -1; at = chunk.indexOf(0x0a, at + 1)) written[stream] += 1;
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (options.keepLines !== undefined && lines.length > 2 * options.keepLines) lines.splice(0, lines.length - options.keepLines);
  };
  child.stdout?.on('data', collect('stdout'));
  child.stderr?.on('data', collect('stderr'));
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));

  const deadline = spawnedAt + options.timeoutMs;
  let probes = 0;
  for (;;) {
    probes += 1;
    const status = await Promise.race([probe(options.healthzUrl, 1_000), spawnError.then((error) => error)]);
    if (status instanceof Error) throw new Error(`could not start ${options.args[0] ?? 'node'}: ${status.message}`);
    if (status === 200) {
      const startMs = performance.now() - spawnedAt;
      return { child, startMs, memory: memoryOf(child.pid), probes, lines, written, exited };
    }
    if (exit) {
      throw new Error(
        `the process exited (code ${exit.code}, signal ${exit.signal}) before answering ${options.healthzUrl}:\n${lines.join('\n')}`,
      );
    }
    if (performance.now() > deadline) {
      child.kill('SIGKILL');
      await exited;
      throw new Error(`no 200 from ${options.healthzUrl} within ${options.timeoutMs} ms:\n${lines.join('\n')}`);
    }
    await sleep(options.pollMs);
  }
}

export interface Stop {
  /** Milliseconds from the signal to the 'exit' event. */
  elapsedMs: number;
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Sends `signal` and times the exit; a process still running after `timeoutMs` is killed and the stop throws. */
export async function stopAndTime(started: StartedProcess, timeoutMs: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<Stop> {
  const sentAt = performance.now();
  started.child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const exit = await Promise.race([
    started.exited,
    new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  if (!exit) {
    started.child.kill('SIGKILL');
    await started.exited;
    throw new Error(`the process did not exit within ${timeoutMs} ms of ${signal}:\n${started.lines.join('\n')}`);
  }
  return { elapsedMs: exit.at - sentAt, code: exit.code, signal: exit.signal };
}
