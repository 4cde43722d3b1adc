// Stopping, as an orchestrator stops the service: the compiled service in a process of its own
// (test/support/built-service.ts), sent SIGTERM. On both databases: idle, it exits 0 at once; with
// a request in flight, it stops taking new connections, lets that request finish, then exits 0; a
// second SIGTERM changes nothing; a request longer than SHUTDOWN_GRACE_MS is cut, and the stop
// still ends. The request in flight is a cold runtime resolve of an AWS role, held by the fake
// STS's latency.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { mintDevelopmentToken } from '../../src/auth/token-minter';
import type { FakeSts } from '../fakes/fake-sts-server';
import { type BuiltService, buildService, type ServiceProcess, startService } from '../support/built-service';
import { type CloudFakes, startCloudFakes } from '../support/cloud-fakes';
import { aCredentialInput, hex } from '../support/factories';
import { sleep } from '../support/sleep';
import { postGraphQL } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { TEST_JWT_SECRET } from '../support/tokens';
import { CREATE_CREDENTIAL } from '../support/vault-client';

jest.setTimeout(120_000);

const STS_REGION = 'eu-west-1';

let built: BuiltService;
let database: TestDatabase;
let fakes: CloudFakes;
let sts: FakeSts;
const dataDirs: string[] = [];
const running: ServiceProcess[] = [];

beforeAll(async () => {
  [built, database, fakes] = await Promise.all([
    buildService('stopping'),
    createTestDatabase('stopping'),
    startCloudFakes({ stsRegion: STS_REGION, appRegion: 'us-east-1' }),
  ]);
  sts = fakes.sts;
});

afterEach(() => {
  sts.setLatency(0);
  for (const service of running.splice(0)) if (service.child.exitCode === null) service.child.kill('SIGKILL');
});

afterAll(async () => {
  await fakes?.close();
  await database?.drop();
  built?.remove();
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

const DATABASES = [
  ['PostgreSQL', () => ({ DATABASE_URL: database.url })],
  ['the embedded database', () => ({})],
] as const;

async function start(databaseEnv: Record<string, string>, env: Record<string, string> = {}): Promise<ServiceProcess> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vault-stopping-'));
  dataDirs.push(dataDir);
  const service = await startService(built, { ...fakes.env, JWT_SECRET: TEST_JWT_SECRET, DATA_DIR: dataDir, ...databaseEnv, ...env });
  running.push(service);
  return service;
}

/** An AWS role credential of a fresh organization, and a runtime call for it that the fake STS holds for `latencyMs`. */
async function aSlowResolve(service: ServiceProcess, latencyMs: number): Promise<{ response: Promise<Response> }> {
  const orgId = randomUUID();
  const admin = mintDevelopmentToken(TEST_JWT_SECRET, { orgId, roles: ['admin'], sub: 'stopping-admin' });
  const role = { iamRoleArn: `arn:aws:iam::123456789012:role/stopping-${hex(4)}`, externalId: `ext-${hex(8)}` };
  sts.addRole({ arn: role.iamRoleArn, externalId: role.externalId });
  const created = await postGraphQL<{ createCredential: { id: string } }>(
    service.url,
    CREATE_CREDENTIAL,
    { input: aCredentialInput({ modelProvider: 'BEDROCK', auth: { awsRole: role }, settings: { region: STS_REGION } }) },
    { token: admin },
  );
  const credentialId = created.body.data?.createCredential.id;
  if (!credentialId) throw new Error(`createCredential failed: ${created.text}`);

  sts.setLatency(latencyMs);
  const exchangesBefore = sts.exchanges.length;
  const runtime = mintDevelopmentToken(TEST_JWT_SECRET, { orgId, roles: ['runtime'], sub: 'stopping-gateway' });
  const response = fetch(`${service.runtimeUrl ?? ''}/v1/upstream-auth`, {
    method: 'POST',
    headers: { authorization: `Bearer ${runtime}`, 'content-type': 'application/json' },
    body: JSON.stringify({ credential_id: credentialId }),
  });
  // In flight once the service is waiting on STS.
  for (let attempt = 0; sts.exchanges.length === exchangesBefore; attempt += 1) {
    if (attempt > 500) throw new Error('the resolve never reached STS');
    await sleep(10);
  }
  return { response };
}

/** Whether a new TCP connection to the origin of `url` is refused. */
function refusesConnections(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

describe.each(DATABASES)('on %s', (_name, databaseEnv) => {
  test('idle: SIGTERM exits 0 promptly, after logging stopping and stopped', async () => {
    const service = await start(databaseEnv());

    const exit = await service.stop('SIGTERM');

    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(service.events('stopping')).toEqual([expect.objectContaining({ signal: 'SIGTERM' })]);
    const [stopped] = service.events('stopped');
    // The service's own account of closing its listeners, database and key service.
    expect(stopped.durationMs).toBeLessThan(1000);
    // From the signal to the process's end, measured here (process start-up and teardown included): bounded.
    expect(exit.elapsedMs).toBeLessThan(5000);
  });

  test('a request in flight finishes with its answer; new connections are refused meanwhile; then exit 0', async () => {
    const service = await start(databaseEnv());
    const { response } = await aSlowResolve(service, 1500);

    service.signal('SIGTERM');
    let refused = false;
    for (let attempt = 0; attempt < 100 && !refused; attempt += 1) {
      refused = (await refusesConnections(service.url)) && (await refusesConnections(service.runtimeUrl ?? ''));
      if (!refused) await sleep(10);
    }
    const answer = await response;
    const exit = await service.exited;

    expect(refused).toBe(true);
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as { aws?: { access_key_id?: string } }).aws?.access_key_id).toMatch(/^ASIA/);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
  });

  test('a second SIGTERM while stopping changes nothing: the request still finishes and the process exits 0', async () => {
    const service = await start(databaseEnv());
    const { response } = await aSlowResolve(service, 1000);

    service.signal('SIGTERM');
    await sleep(100);
    service.signal('SIGTERM');
    const answer = await response;
    const exit = await service.exited;

    expect(answer.status).toBe(200);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(service.events('stopping')).toHaveLength(2);
    expect(service.events('stopped')).toHaveLength(1);
  });
});

test('a request that outlasts SHUTDOWN_GRACE_MS is cut, and the stop still ends with exit 0', async () => {
  const service = await start({ DATABASE_URL: database.url }, { SHUTDOWN_GRACE_MS: '300' });
  const { response } = await aSlowResolve(service, 20_000);

  const outcome = response.then(
    (answer) => `status ${answer.status}`,
    () => 'connection closed',
  );
  const exit = await service.stop('SIGTERM');

  expect(await outcome).toBe('connection closed');
  expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
  expect(exit.elapsedMs).toBeLessThan(10_000);
});
