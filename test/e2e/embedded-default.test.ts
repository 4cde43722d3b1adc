// The embedded default: with no DATABASE_URL the vault keeps its data in PGlite under DATA_DIR,
// next to its local key ring. A credential survives a restart, its secret still opens with the
// reopened key ring, and no file under DATA_DIR holds the plaintext.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { apiKeyCanary, canary, filesUnder, findCanariesInFiles } from '../support/canaries';
import type * as HostRequire from '../support/host-require';
import { aCredentialInput } from '../support/factories';
import { startTestApp, type TestApp } from '../support/test-app';
import { clientFor, type CredentialView, openSecret } from '../support/vault-client';

// PGlite is loaded by Node's own loader instead of Jest's (see host-require.ts): the genuine package.
jest.mock('@electric-sql/pglite', () =>
  jest.requireActual<typeof HostRequire>('../support/host-require').hostRequire('@electric-sql/pglite'),
);

// PGlite takes a few seconds to start, twice here.
jest.setTimeout(60_000);

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vault-embedded-'));
const orgId = randomUUID();
const apiKey = apiKeyCanary('embeddedApiKey');
const externalId = canary('embeddedExternalId');
/** Not a secret: the credential's name, which the database files do hold in clear. */
const nameMarker = canary('embeddedName');

let vault: TestApp | undefined;
let created: CredentialView;
let role: CredentialView;

afterAll(async () => {
  await vault?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('without a database URL the vault starts on the embedded database under DATA_DIR', async () => {
  vault = await startTestApp({ dataDir });

  expect(vault.app.database.kind).toBe('embedded');
  const admin = clientFor(vault, orgId);
  created = await admin.created(aCredentialInput({ name: nameMarker.value, auth: { apiKey: { apiKey: apiKey.value } } }));
  role = await admin.created(
    aCredentialInput({
      modelProvider: 'BEDROCK',
      auth: { awsRole: { iamRoleArn: 'arn:aws:iam::123456789012:role/embedded', externalId: externalId.value } },
    }),
  );
  expect(created).toMatchObject({ secretVersion: 1, keyLast4: apiKey.value.slice(-4) });
});

test('a credential survives a restart on the same DATA_DIR', async () => {
  await vault!.stop();
  vault = undefined;

  vault = await startTestApp({ dataDir });

  const admin = clientFor(vault, orgId);
  expect(await admin.read(created.id)).toEqual(created);
  expect((await admin.listed()).edges.map((edge) => edge.node.id)).toEqual([created.id, role.id]);
});

test('its secret still opens with the reopened key ring', async () => {
  expect(await openSecret(vault!, orgId, created.id)).toEqual({ authType: 'API_KEY', secretVersion: 1, payload: { apiKey: apiKey.value } });
  expect(await openSecret(vault!, orgId, role.id)).toEqual({
    authType: 'AWS_ROLE',
    secretVersion: 1,
    payload: { iamRoleArn: 'arn:aws:iam::123456789012:role/embedded', externalId: externalId.value },
  });
});

test('no file under DATA_DIR holds a plaintext secret (UTF-8, UTF-16LE or base64)', async () => {
  await vault!.stop();
  vault = undefined;

  expect(findCanariesInFiles([apiKey, externalId], dataDir)).toEqual([]);
});

test('the file scan reaches the database files: the credential name is found in them', () => {
  const files = filesUnder(dataDir).map((file) => path.relative(dataDir, file));
  expect(files).toContain('keyring.json');
  expect(files.filter((file) => file.startsWith(`pgdata${path.sep}`)).length).toBeGreaterThan(100);

  expect(findCanariesInFiles([nameMarker], dataDir).filter((hit) => hit.includes(`in pgdata${path.sep}`))).not.toEqual([]);
});

test('the file scan would see a plaintext secret in either encoding', () => {
  const control = mkdtempSync(path.join(os.tmpdir(), 'vault-scan-control-'));
  try {
    writeFileSync(path.join(control, 'utf8.bin'), Buffer.concat([Buffer.from([0, 1, 2]), Buffer.from(apiKey.value, 'utf8')]));
    writeFileSync(path.join(control, 'utf16.bin'), Buffer.from(`x${externalId.value}x`, 'utf16le'));

    expect(findCanariesInFiles([apiKey, externalId], control).sort()).toEqual([
      `${apiKey.label} (utf8) in utf8.bin`,
      `${externalId.label} (utf16le) in utf16.bin`,
    ]);
  } finally {
    rmSync(control, { recursive: true, force: true });
  }
});
