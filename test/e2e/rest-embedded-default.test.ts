// The REST door on the embedded default: with no DATABASE_URL the vault keeps its data in PGlite
// under DATA_DIR, and the connection routes create, read, list and delete there as they do on
// PostgreSQL.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type * as HostRequire from '../support/host-require';
import { anApiKey } from '../support/factories';
import { type ConnectionJson, expectRestError, okBody, REST_PREFIXES, type RestClient, restClient } from '../support/rest-client';
import { startTestApp, type TestApp } from '../support/test-app';
import { openSecret } from '../support/vault-client';

// PGlite is loaded by Node's own loader instead of Jest's (see host-require.ts): the genuine package.
jest.mock('@electric-sql/pglite', () =>
  jest.requireActual<typeof HostRequire>('../support/host-require').hostRequire('@electric-sql/pglite'),
);

// PGlite takes a few seconds to start.
jest.setTimeout(60_000);

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vault-rest-embedded-'));
const orgId = randomUUID();
const apiKey = anApiKey();

let vault: TestApp;
let admin: RestClient;
/** The same organization's admin under the SDK's absolute prefix. */
let sdkAdmin: RestClient;
let created: ConnectionJson;

beforeAll(async () => {
  vault = await startTestApp({ dataDir });
  const token = vault.token({ orgId });
  admin = restClient(vault, { token, prefix: REST_PREFIXES[0] });
  sdkAdmin = restClient(vault, { token, prefix: REST_PREFIXES[1] });
});

afterAll(async () => {
  await vault?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('without a database URL the vault runs on the embedded database', () => {
  expect(vault.app.database.kind).toBe('embedded');
});

test('POST /admin/connections creates a connection there and seals its key', async () => {
  created = okBody(
    await admin.post<ConnectionJson>('/connections', { name: 'OpenAI Production', model_provider: 'openai', api_key: apiKey }),
  );

  expect(created).toMatchObject({ org_id: orgId, name: 'OpenAI Production', auth_type: 'api_key', key_last4: apiKey.slice(-4) });
  expect(await openSecret(vault, orgId, created.id)).toEqual({ authType: 'API_KEY', secretVersion: 1, payload: { apiKey } });
});

test('GET /connections/{id} answers it, under both prefixes', async () => {
  expect(okBody(await admin.get(`/connections/${created.id}`))).toEqual(created);
  expect(okBody(await sdkAdmin.get(`/connections/${created.id}`))).toEqual(created);
});

test('GET /connections lists it', async () => {
  expect(okBody(await sdkAdmin.get('/connections'))).toEqual([created]);
});

test('DELETE /connections/{id} answers {"deleted": true}, after which it is gone', async () => {
  expect(okBody(await sdkAdmin.delete(`/connections/${created.id}`))).toEqual({ deleted: true });

  expectRestError(await admin.get(`/connections/${created.id}`), { status: 404, type: 'not_found_error' });
  expect(okBody(await admin.get('/connections'))).toEqual([]);
});
