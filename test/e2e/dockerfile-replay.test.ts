// The Docker image, built and run without a Docker engine: the Dockerfile's stages are replayed
// step by step (test/support/dockerfile-replay.ts: the same files copied in the same order, the
// same RUN commands with the same npm flags, each stage in a directory of its own), then the
// runtime stage's CMD is started as its USER with nothing but its ENV and what `docker run -e`
// would add: PostgreSQL, a JWT secret, and Cloud KMS reached as in production, over TLS with
// Application Default Credentials (a fake KMS behind a throwaway certificate, and a fake metadata
// server for the credentials). NODE_ENV stays the image's `production`.
//
// REPLAY_DOCKERFILE=<file> replays another Dockerfile against the same build context. The suite is
// skipped, saying so, only when the npm registry does not answer.
import { type ChildProcess, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findProjectRoot } from '../../src/db/project-paths';
import { type FakeKms, startFakeKms } from '../fakes/fake-kms-server';
import { type FakeMetadataServer, startFakeMetadataServer } from '../fakes/fake-metadata-server';
import {
  diskUsageKiB,
  parseDockerfile,
  type ReplayedImage,
  type ReplayedStage,
  replayDockerfile,
  runHealthcheck,
  startContainer,
} from '../support/dockerfile-replay';
import { aCredentialInput } from '../support/factories';
import { createLocalhostCertificate, type LocalhostCertificate } from '../support/localhost-certificate';
import { closedPort } from '../support/loopback';
import { eventually } from '../support/sleep';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { TEST_JWT_SECRET, validToken } from '../support/tokens';
import { CREATE_CREDENTIAL, GET_CREDENTIAL } from '../support/vault-client';

const PROJECT_ROOT = findProjectRoot();
const DOCKERFILE = path.resolve(process.env.REPLAY_DOCKERFILE ?? path.join(PROJECT_ROOT, 'Dockerfile'));

const ping = spawnSync('npm', ['ping'], { encoding: 'utf8', timeout: 20_000 });
const registryAnswers = ping.status === 0;
if (!registryAnswers) {
  console.warn(
    `dockerfile-replay: skipped, the npm registry did not answer \`npm ping\` (the image's npm ci needs it):\n${ping.stderr ?? ping.error?.message ?? ''}`,
  );
}
const maybeDescribe = registryAnswers ? describe : describe.skip;

const NPM_CACHE = (() => {
  const answer = spawnSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8' });
  return answer.status === 0 ? answer.stdout.trim() : undefined;
})();

/** The packages that must never reach the image: build tools, the Prisma CLI and Studio, the embedded database. */
const LEFT_OUT = [
  'prisma',
  '@prisma/engines',
  '@prisma/studio-core',
  '@electric-sql/pglite',
  'pglite-prisma-adapter',
  'typescript',
  'jest',
];

interface Container {
  child: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

/** Starts the image's CMD and waits for its `started` log line. */
async function runImage(stage: ReplayedStage, env: Record<string, string>, timeoutMs = 60_000): Promise<Container> {
  const child = startContainer(stage, { env });
  const lines: string[] = [];
  const collect = (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const stop = () => {
    child.kill('SIGTERM');
    return exited;
  };
  const container = { child, lines, exited, stop };
  const deadline = Date.now() + timeoutMs;
  while (!lines.some((line) => line.includes('"event":"started"'))) {
    const early = await Promise.race([exited.then(() => true), new Promise<false>((resolve) => setTimeout(() => resolve(false), 50))]);
    if (early) throw new Error(`the image's CMD exited before listening:\n${lines.join('\n')}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the image's CMD did not start within ${timeoutMs} ms:\n${lines.join('\n')}`);
    }
  }
  return container;
}

/** The node_modules folders in a stage, outside other node_modules and the npm cache. */
function nodeModulesFolders(folder: string, depth = 3): string[] {
  if (depth < 0 || !fs.existsSync(folder)) return [];
  return fs
    .readdirSync(folder, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && entry.name !== '.npm')
    .flatMap((entry) =>
      entry.name === 'node_modules' ? [path.join(folder, entry.name)] : nodeModulesFolders(path.join(folder, entry.name), depth - 1),
    );
}

/** The user id a running process has, from /proc. */
function uidOf(pid: number): number {
  const line = fs
    .readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('Uid:'));
  return Number(line?.split(/\s+/)[1]);
}

maybeDescribe('the Docker image, replayed without Docker', () => {
  let workspace: string;
  let certificate: LocalhostCertificate;
  let kms: FakeKms;
  let metadata: FakeMetadataServer;
  let database: TestDatabase;
  let image: ReplayedImage;
  let app: string;
  let container: Container;
  let runEnv: Record<string, string>;
  let baseUrl: string;
  let buildSeconds: number;

  beforeAll(async () => {
    workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'vault-dockerfile-replay-'));
    certificate = await createLocalhostCertificate();
    kms = await startFakeKms({ tls: certificate });
    metadata = await startFakeMetadataServer();
    database = await createTestDatabase('dockerfile_replay');
    const started = performance.now();
    image = await replayDockerfile({ dockerfile: DOCKERFILE, context: PROJECT_ROOT, workspace, npmCache: NPM_CACHE });
    buildSeconds = (performance.now() - started) / 1000;
    app = image.runtime.hostPath(image.runtime.workdir);
    const [port, runtimePort] = [await closedPort(), await closedPort()];
    // `docker run -e ...`: the deployment's settings. HOST and RUNTIME_HOST as a `-p 127.0.0.1:` mapping would expose them.
    runEnv = {
      DATABASE_URL: database.url,
      JWT_SECRET: TEST_JWT_SECRET,
      KMS_KEY_NAME: kms.keyName,
      KMS_API_ENDPOINT: kms.endpoint,
      // The trust store for the fake's certificate, and Application Default Credentials as on Google Cloud.
      GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: certificate.certificatePath,
      GCE_METADATA_HOST: metadata.host,
      HOST: '127.0.0.1',
      PORT: String(port),
      RUNTIME_HOST: '127.0.0.1',
      RUNTIME_PORT: String(runtimePort),
    };
    baseUrl = `http://127.0.0.1:${port}`;
    container = await runImage(image.runtime, runEnv);
  }, 240_000);

  afterAll(async () => {
    if (container && container.child.exitCode === null) await container.stop();
    await database?.drop();
    await kms?.close();
    await metadata?.close();
    certificate?.remove();
    if (workspace) {
      // Each stage's node_modules, built or as far as the build got: the figures the README gives.
      const sizes = fs.readdirSync(workspace).flatMap((stage) =>
        nodeModulesFolders(path.join(workspace, stage)).map((folder) => {
          const kib = diskUsageKiB(folder);
          return `${path.relative(workspace, folder)}: ${kib} KiB (${(kib / 1024).toFixed(0)} MiB)`;
        }),
      );
      const built = image ? `built in ${buildSeconds.toFixed(0)} s` : 'not built';
      console.log(`dockerfile-replay: ${path.basename(DOCKERFILE)} ${built}; du -sk:\n${sizes.join('\n')}`);
      fs.rmSync(workspace, { recursive: true, force: true });
    }
  }, 120_000);

  test('every stage is built from a node image of one version', () => {
    const bases = parseDockerfile(fs.readFileSync(DOCKERFILE, 'utf8')).stages.map((stage) => stage.from);
    expect(new Set(bases).size).toBe(1);
    expect(bases[0]).toMatch(/^node:\d+-/);
  });

  test('the runtime holds the compiled service, the built admin page, its production dependencies, its migrations and package.json, and nothing else', () => {
    expect(fs.readdirSync(app).sort()).toEqual(['dist', 'node_modules', 'package.json', 'portal', 'prisma']);
    expect(fs.readdirSync(path.join(app, 'portal'))).toEqual(['dist']);
    expect(fs.existsSync(path.join(app, 'portal', 'dist', 'index.html'))).toBe(true);
    expect(fs.readdirSync(path.join(app, 'prisma'))).toEqual(['migrations']);
    expect(fs.readdirSync(path.join(app, 'prisma', 'migrations')).sort()).toEqual(
      fs.readdirSync(path.join(PROJECT_ROOT, 'prisma', 'migrations')).sort(),
    );
    expect(fs.readdirSync(path.join(app, 'dist'))).toEqual(['src']);
    expect(fs.existsSync(path.join(app, 'dist', 'src', 'main.js'))).toBe(true);
    // The Prisma client generated in the build stage, compiled with the service.
    expect(fs.existsSync(path.join(app, 'dist', 'src', 'generated', 'prisma', 'client.js'))).toBe(true);
  });

  test('leaves out dev and optional dependencies: no Prisma CLI or Studio, no PGlite, no build tools', () => {
    const present = LEFT_OUT.filter((name) => fs.existsSync(path.join(app, 'node_modules', name)));
    expect(present).toEqual([]);
    expect(fs.existsSync(path.join(app, 'node_modules', '@prisma', 'client', 'package.json'))).toBe(true);
  });

  test('runs as the non-root user node', () => {
    expect(image.runtime.user).toBe('node');
    // A root test process switches to node's uid (1000), as Docker does; any other can only run as itself.
    const expectedUid = process.getuid?.() === 0 ? 1000 : process.getuid?.();
    expect(uidOf(container.child.pid ?? -1)).toBe(expectedUid);
  });

  test('starts in production, on PostgreSQL, with Cloud KMS as its key service', () => {
    const started = container.lines
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((entry) => entry.event === 'started');
    expect(image.runtime.env.NODE_ENV).toBe('production');
    expect(started).toMatchObject({ database: 'postgresql', keyService: 'gcp-kms' });
  });

  test('/readyz answers 200, having reached PostgreSQL and Cloud KMS with credentials from the metadata server', async () => {
    // The first check builds the KMS client (credentials from the metadata server, the channel, the
    // protos) and the first query; on a busy machine that can pass the check's 2 s deadline, and an
    // orchestrator simply asks again, as this does.
    let response: Response | undefined;
    await eventually(async () => (response = await fetch(`${baseUrl}/readyz`)).status !== 503, 'a readiness answer other than 503', 15_000);
    if (!response) throw new Error('no answer from /readyz');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ready', checks: { database: 'ok', keyService: 'ok' } });
    expect(metadata.issuedTokens.length).toBeGreaterThan(0);
  });

  test('stores and reads a credential: the Prisma client and its query compiler run from the image', async () => {
    const orgId = randomUUID();
    const post = async (query: string, variables: Record<string, unknown>) => {
      const response = await fetch(`${baseUrl}/graphql`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${validToken({ orgId })}` },
        body: JSON.stringify({ query, variables }),
      });
      return (await response.json()) as { data?: Record<string, { id: string; name: string } | null>; errors?: unknown[] };
    };
    const input = aCredentialInput();
    const created = await post(CREATE_CREDENTIAL, { input });
    expect(created.errors).toBeUndefined();
    const id = created.data?.createCredential?.id ?? '';
    const read = await post(GET_CREDENTIAL, { id });
    expect(read.data?.credential).toMatchObject({ id, name: input.name });
  });

  test('serves the admin page at /portal from the image', async () => {
    const response = await fetch(`${baseUrl}/portal/credentials`);
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/<script type="module" crossorigin src="\/portal\/assets\/index-[\w-]+\.js">/);
  });

  test('its HEALTHCHECK command exits 0 while the service is ready', async () => {
    expect(image.runtime.healthcheck?.command).toMatchObject({ exec: expect.arrayContaining([expect.stringContaining('/readyz')]) });
    const check = await runHealthcheck(image.runtime, runEnv);
    expect(check).toEqual({ code: 0, output: '' });
  });

  test('refuses to start on the embedded database, which the image does not carry, and says why', async () => {
    const { DATABASE_URL: _url, ...withoutDatabase } = runEnv;
    const port = String(await closedPort());
    const child = startContainer(image.runtime, {
      env: { ...withoutDatabase, ALLOW_EMBEDDED_DATABASE: 'true', PORT: port, RUNTIME_PORT: 'off' },
    });
    let output = '';
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    expect(output).toContain('the embedded database needs @electric-sql/pglite');
  });

  test('stops cleanly on SIGTERM, after which its HEALTHCHECK command fails', async () => {
    expect(await container.stop()).toBe(0);
    const check = await runHealthcheck(image.runtime, runEnv);
    expect(check.code).toBe(1);
  });
});
