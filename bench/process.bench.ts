// Process-level benchmark: the compiled service as `npm start` and a container run it
// (`node dist/src/main.js`), started as a child process and polled on GET /healthz until the first
// 200: on PostgreSQL (a fresh database each start), on the embedded database from an empty data
// directory, and again on that same directory (a restart). Each start's resident set is read from
// /proc once /healthz answers, and after a short idle the process is sent SIGTERM and timed until it
// exits, which must be with code 0. A trivial node HTTP server answering /healthz is measured the
// same way, so that node's own start-up shows. Figures are printed and appended to
// bench/results/process.jsonl; goals are reported, not asserted. The only assertions are that the
// setup worked, that every process answered, and that every exit code was 0.
// Run: npm run bench -- bench/process.bench.ts  (builds dist/ first; see bench/README.md)
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { closedPort } from '../test/support/loopback';
import { createTestDatabase, type TestDatabase } from '../test/support/test-database';
import { percentile } from './support/load';
import {
  type Memory,
  memoryOf,
  SERVICE_MAIN,
  staleFigures,
  staleOutputs,
  type StartedProcess,
  startUntilHealthy,
  stopAndTime,
} from './support/process';
import { appendResult, environment, type Figure, fmt, goalNote, printFigures, reproduceCommand, round, setting } from './support/report';

/** Starts of each case; the embedded first start takes a fresh empty data directory each time. */
const STARTS = setting('BENCH_STARTS', 3);
/** How long a started process idles before it is sent SIGTERM. */
const IDLE_MS = setting('BENCH_IDLE_MS', 500);
/** A start that has not answered 200 by then fails the benchmark. */
const START_TIMEOUT_MS = setting('BENCH_START_TIMEOUT_MS', 60_000);
/** Pause between /healthz probes that did not get a 200. */
const POLL_MS = 10;
/** SHUTDOWN_GRACE_MS (10 s) plus the margin the service gives closing the database and the key service (5 s), and some. */
const STOP_TIMEOUT_MS = 30_000;

const BASE_COMMAND = 'npm run bench -- bench/process.bench.ts';
const COMMAND = reproduceCommand('BENCH_', BASE_COMMAND);

const GOALS = { postgresStartS: 1, embeddedFirstStartS: 2, embeddedRestartS: 1.5, embeddedRssMb: 250, stopS: 1 };

/** The floor: node, an HTTP server answering GET /healthz as the service does, and a SIGTERM handler that closes it and exits 0. */
const FLOOR_SCRIPT = [
  "const http = require('node:http');",
  'const server = http.createServer((req, res) => {',
  "  if (req.url === '/healthz') { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{\"status\":\"ok\"}'); }",
  '  else { res.writeHead(404); res.end(); }',
  '});',
  "server.listen(Number(process.env.PORT), '127.0.0.1');",
  "process.on('SIGTERM', () => server.close(() => process.exit(0)));",
].join('\n');

type CaseName = 'floor' | 'postgres' | 'embeddedFirst' | 'embeddedRestart';

const CASES: Record<CaseName, { label: string; startGoalS?: number; rssGoalMb?: number; stopGoalS?: number }> = {
  floor: { label: 'floor (node -e http server)' },
  postgres: { label: 'PostgreSQL', startGoalS: GOALS.postgresStartS, stopGoalS: GOALS.stopS },
  embeddedFirst: {
    label: 'embedded, first start',
    startGoalS: GOALS.embeddedFirstStartS,
    rssGoalMb: GOALS.embeddedRssMb,
    stopGoalS: GOALS.stopS,
  },
  embeddedRestart: {
    label: 'embedded, restart',
    startGoalS: GOALS.embeddedRestartS,
    rssGoalMb: GOALS.embeddedRssMb,
    stopGoalS: GOALS.stopS,
  },
};

interface Run {
  startMs: number;
  probes: number;
  memory: Memory | null;
  /** The resident set again after the idle, just before SIGTERM. */
  rssAfterIdleMb: number | null;
  stopMs: number;
  exitCode: number | null;
  exitSignal: NodeJS.Signals | null;
}

const runs: Record<CaseName, Run[]> = { floor: [], postgres: [], embeddedFirst: [], embeddedRestart: [] };
const live = new Set<StartedProcess>();
const databases = new Set<TestDatabase>();
const dataDirs = new Set<string>();
let stale: string[] = [];

beforeAll(() => {
  // `npm run bench` builds first; run directly, the figures would be of whatever dist/ holds.
  stale = staleOutputs();
});

afterAll(async () => {
  for (const started of live) if (started.child.exitCode === null && started.child.signalCode === null) started.child.kill('SIGKILL');
  await Promise.all([...live].map((started) => started.exited));
  for (const database of databases) await database.drop();
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
}, 60_000);

function freshDataDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vault-bench-process-'));
  dataDirs.add(dir);
  return dir;
}

/** Starts `node ...args` on two free ports, idles, sends SIGTERM; records the run under `name`. */
async function measure(name: CaseName, args: string[], env: Record<string, string>): Promise<void> {
  const [port, runtimePort] = [await closedPort(), await closedPort()];
  const started = await startUntilHealthy({
    args,
    env: {
      ...process.env,
      // What the jest process carries (NODE_ENV=test) is not what a deployment sets.
      NODE_ENV: '',
      OTEL_EXPORTER_OTLP_ENDPOINT: '',
      HOST: '127.0.0.1',
      PORT: String(port),
      RUNTIME_HOST: '127.0.0.1',
      RUNTIME_PORT: String(runtimePort),
      LOG_LEVEL: 'warn',
      ...env,
    },
    healthzUrl: `http://127.0.0.1:${port}/healthz`,
    pollMs: POLL_MS,
    timeoutMs: START_TIMEOUT_MS,
  });
  live.add(started);
  await sleep(IDLE_MS);
  const rssAfterIdleMb = memoryOf(started.child.pid)?.rssMb ?? null;
  const stop = await stopAndTime(started, STOP_TIMEOUT_MS);
  live.delete(started);
  if (stop.code !== 0)
    process.stdout.write(`${CASES[name].label}: exit code ${stop.code}, signal ${stop.signal}:\n${started.lines.join('\n')}\n`);
  runs[name].push({
    startMs: started.startMs,
    probes: started.probes,
    memory: started.memory,
    rssAfterIdleMb,
    stopMs: stop.elapsedMs,
    exitCode: stop.code,
    exitSignal: stop.signal,
  });
}

interface Spread {
  median: number;
  max: number;
}

function spread(values: readonly number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: percentile(sorted, 50), max: sorted.length > 0 ? sorted[sorted.length - 1] : Number.NaN };
}

test(
  'cold start to /healthz, resident set, and SIGTERM to exit: PostgreSQL, embedded first start and restart, and the node floor',
  async () => {
    // The cases take turns, so that a machine getting busier (or quieter) meanwhile touches each alike.
    for (let repetition = 0; repetition < STARTS; repetition += 1) {
      await measure('floor', ['-e', FLOOR_SCRIPT], {});

      const database = await createTestDatabase('bench_process');
      databases.add(database);
      await measure('postgres', [SERVICE_MAIN], { DATABASE_URL: database.url, DATA_DIR: freshDataDir() });
      await database.drop();
      databases.delete(database);

      const dataDir = freshDataDir();
      await measure('embeddedFirst', [SERVICE_MAIN], { DATABASE_URL: '', DATA_DIR: dataDir });
      await measure('embeddedRestart', [SERVICE_MAIN], { DATABASE_URL: '', DATA_DIR: dataDir });
      rmSync(dataDir, { recursive: true, force: true });
      dataDirs.delete(dataDir);
    }

    const figures: Figure[] = [];
    const goals: Record<string, boolean> = {};
    const casesRecord: Record<string, unknown> = {};
    const seconds = (ms: number) => `${fmt(ms / 1000, 3)} s`;
    const megabytes = (mb: number) => `${fmt(mb)} MB`;
    for (const [name, spec] of Object.entries(CASES) as [CaseName, (typeof CASES)[CaseName]][]) {
      const list = runs[name];
      const start = spread(list.map((run) => run.startMs));
      const rss = spread(list.map((run) => run.memory?.rssMb ?? Number.NaN));
      const hwm = spread(list.map((run) => run.memory?.hwmMb ?? Number.NaN));
      const cpu = spread(list.map((run) => run.memory?.cpuMs ?? Number.NaN));
      const stop = spread(list.map((run) => run.stopMs));
      const codes = list.map((run) => (run.exitCode === null ? String(run.exitSignal) : String(run.exitCode)));
      // Times are judged on the median (one slow start on a shared machine is noise); memory on the max (a limit is crossed by the worst).
      const judge = (key: string, goal: number | undefined, text: string, met: (goal: number) => boolean): string => {
        if (goal === undefined) return '';
        goals[`${name}.${key}`] = met(goal);
        return ` ${goalNote(text.replace('%', String(goal)), goals[`${name}.${key}`])}`;
      };
      const startNote = judge('start', spec.startGoalS, '< % s', (goal) => start.median < goal * 1000);
      const rssNote = judge('rss', spec.rssGoalMb, '< % MB', (goal) => rss.max < goal);
      const hwmNote = judge('hwm', spec.rssGoalMb, '< % MB', (goal) => hwm.max < goal);
      const stopNote = judge('stop', spec.stopGoalS, '< % s', (goal) => stop.median < goal * 1000);
      figures.push(
        {
          name: `${spec.label}: spawn to /healthz 200`,
          value: seconds(start.median),
          note: `(median of ${list.length}, max ${seconds(start.max)})${startNote}`,
        },
        {
          name: `${spec.label}: CPU time to /healthz 200`,
          value: seconds(cpu.median),
          note: `(user + system, all threads, median; max ${seconds(cpu.max)}: moves less with the machine's load than the time)`,
        },
        {
          name: `${spec.label}: RSS once answering`,
          value: megabytes(rss.median),
          note: `(VmRSS, median; max ${megabytes(rss.max)})${rssNote}`,
        },
        {
          name: `${spec.label}: peak RSS by then`,
          value: megabytes(hwm.median),
          note: `(VmHWM, median; max ${megabytes(hwm.max)})${hwmNote}`,
        },
        {
          name: `${spec.label}: SIGTERM to exit, idle`,
          value: seconds(stop.median),
          note: `(median, max ${seconds(stop.max)}; exit codes ${codes.join(', ')})${stopNote}`,
        },
      );
      casesRecord[name] = {
        startMs: { median: round(start.median, 1), max: round(start.max, 1) },
        rssMb: { median: round(rss.median, 1), max: round(rss.max, 1) },
        hwmMb: { median: round(hwm.median, 1), max: round(hwm.max, 1) },
        cpuMs: { median: round(cpu.median, 1), max: round(cpu.max, 1) },
        stopMs: { median: round(stop.median, 1), max: round(stop.max, 1) },
        runs: list.map((run) => ({
          startMs: round(run.startMs, 1),
          probes: run.probes,
          rssMb: run.memory ? round(run.memory.rssMb, 1) : null,
          hwmMb: run.memory ? round(run.memory.hwmMb, 1) : null,
          cpuMs: run.memory ? round(run.memory.cpuMs, 1) : null,
          rssAfterIdleMb: run.rssAfterIdleMb === null ? null : round(run.rssAfterIdleMb, 1),
          stopMs: round(run.stopMs, 1),
          exitCode: run.exitCode,
          exitSignal: run.exitSignal,
        })),
      };
    }
    figures.push(...staleFigures(stale));

    const record: Record<string, unknown> = {
      bench: 'process',
      ...environment(),
      command: COMMAND,
      distCurrent: stale.length === 0,
      settings: { starts: STARTS, idleMs: IDLE_MS, startTimeoutMs: START_TIMEOUT_MS, pollMs: POLL_MS },
      cases: casesRecord,
      goals,
    };
    const file = appendResult('process', record);
    printFigures(
      `Process benchmark (commit ${String(record.commit)}, ${process.version}, ${String(record.cpus)} CPUs, ${STARTS} starts each)`,
      figures,
      COMMAND,
    );
    process.stdout.write(`  appended to ${path.relative(process.cwd(), file)}\n\n`);

    // Not goals: a stop that does not exit 0 is a failed stop, whatever its time.
    for (const name of Object.keys(CASES) as CaseName[]) {
      expect({ case: name, exitCodes: runs[name].map((run) => run.exitCode) }).toEqual({ case: name, exitCodes: runs[name].map(() => 0) });
    }
  },
  STARTS * 4 * (START_TIMEOUT_MS + IDLE_MS + STOP_TIMEOUT_MS) + 60_000,
);
