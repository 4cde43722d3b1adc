// The embedded database has one owner. The compiled service runs on PGlite under a data
// directory; the key-ring and re-wrap commands pointed at the same directory are refused with a
// message naming the owner (they used to open it too, and the next start failed with Aborted()).
// After the service stops, the commands work, and the service starts again with its data intact:
// the credential is there and its secret still opens. A second service on the same directory is
// refused; an owner that died without cleaning up (SIGKILL) does not lock the directory forever.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mintDevelopmentToken } from '../../src/auth/token-minter';
import { OWNER_FILE_NAME } from '../../src/db/embedded-owner-lock';
import { type BuiltService, buildService, runCli, type ServiceProcess, startService } from '../support/built-service';
import { aCredentialInput, anApiKey, apiKeyAuth } from '../support/factories';
import { postGraphQL } from '../support/test-app';
import { TEST_JWT_SECRET } from '../support/tokens';
import { CREATE_CREDENTIAL, GET_CREDENTIAL } from '../support/vault-client';

jest.setTimeout(180_000);

let built: BuiltService;
let dataDir: string;
const running: ServiceProcess[] = [];
const orgId = randomUUID();
const adminToken = mintDevelopmentToken(TEST_JWT_SECRET, { orgId, roles: ['admin'], sub: 'owner-admin' });
const runtimeToken = mintDevelopmentToken(TEST_JWT_SECRET, { orgId, roles: ['runtime'], sub: 'owner-gateway' });
const apiKey = anApiKey();
let credentialId: string;

const env = () => ({ DATA_DIR: dataDir, JWT_SECRET: TEST_JWT_SECRET, DATABASE_URL: '' });

async function start(): Promise<ServiceProcess> {
  const service = await startService(built, env());
  running.push(service);
  return service;
}

async function resolvedHeaders(service: ServiceProcess): Promise<unknown> {
  const response = await fetch(`${service.runtimeUrl ?? ''}/v1/upstream-auth`, {
    method: 'POST',
    headers: { authorization: `Bearer ${runtimeToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ credential_id: credentialId }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { headers: unknown }).headers;
}

beforeAll(async () => {
  built = await buildService('embedded-owner');
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'vault-owner-'));
});

afterEach(() => {
  for (const service of running.splice(0)) if (service.child.exitCode === null) service.child.kill('SIGKILL');
});

afterAll(() => {
  built?.remove();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test('beside a running service, keys:list, keys:retire and secrets:rewrap are refused naming the owner; after the stop they run, and the data is intact', async () => {
  const service = await start();
  const created = await postGraphQL<{ createCredential: { id: string } }>(
    service.url,
    CREATE_CREDENTIAL,
    { input: aCredentialInput({ modelProvider: 'OPENAI', auth: apiKeyAuth(apiKey) }) },
    { token: adminToken },
  );
  credentialId = created.body.data?.createCredential.id ?? '';
  expect(credentialId).not.toBe('');
  const pid = service.child.pid;

  for (const [script, args] of [
    ['key-ring.js', ['list']],
    ['key-ring.js', ['retire', '--version', '1']],
    ['rewrap-secrets.js', []],
  ] as const) {
    const outcome = await runCli(built, script, [...args], env());
    expect({ script, args, refused: outcome.code !== 0 }).toEqual({ script, args, refused: true });
    expect(outcome.stderr).toContain(`is open in process ${pid}`);
    expect(outcome.stderr).toContain('PGlite allows one process at a time');
  }
  expect(await resolvedHeaders(service)).toEqual({ authorization: `Bearer ${apiKey}` });

  const exit = await service.stop('SIGTERM');
  expect(exit.code).toBe(0);
  expect(existsSync(path.join(dataDir, OWNER_FILE_NAME))).toBe(false);

  const listed = await runCli(built, 'key-ring.js', ['list'], env());
  expect(listed.code).toBe(0);
  const rewrapped = await runCli(built, 'rewrap-secrets.js', [], env());
  expect(rewrapped.code).toBe(0);

  const again = await start();
  const read = await postGraphQL<{ credential: { id: string } | null }>(
    again.url,
    GET_CREDENTIAL,
    { id: credentialId },
    { token: adminToken },
  );
  expect(read.body.data?.credential?.id).toBe(credentialId);
  expect(await resolvedHeaders(again)).toEqual({ authorization: `Bearer ${apiKey}` });
  expect((await again.stop('SIGTERM')).code).toBe(0);
});

test('a second service on the same data directory is refused at start, and the first keeps serving', async () => {
  const first = await start();

  await expect(startService(built, env())).rejects.toThrow(/is open in process \d+.*PGlite allows one process at a time/s);

  expect(await resolvedHeaders(first)).toEqual({ authorization: `Bearer ${apiKey}` });
  expect((await first.stop('SIGTERM')).code).toBe(0);
});

test('an owner killed without cleaning up (SIGKILL) does not lock the directory: the next start takes it over', async () => {
  const killed = await start();
  await killed.stop('SIGKILL');
  expect(existsSync(path.join(dataDir, OWNER_FILE_NAME))).toBe(true);

  const next = await start();

  expect(await resolvedHeaders(next)).toEqual({ authorization: `Bearer ${apiKey}` });
  const refused = await runCli(built, 'key-ring.js', ['list'], env());
  expect(refused.stderr).toContain(`is open in process ${next.child.pid}`);
  expect((await next.stop('SIGTERM')).code).toBe(0);
});
