// The fake metadata server, found and used by the real google-auth-library the way it finds Compute
// Engine's: Application Default Credentials with no key file and no gcloud configuration,
// GCE_METADATA_HOST pointing at the fake. The library runs in a Node process of its own, as in the
// service: inside Jest's sandbox its HTTP client cannot load (it imports modules dynamically).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { type FakeMetadataServer, startFakeMetadataServer } from '../../fakes/fake-metadata-server';

const execFileAsync = promisify(execFile);

let metadata: FakeMetadataServer;
let home: string;

beforeAll(async () => {
  metadata = await startFakeMetadataServer({ projectId: 'metadata-test-project' });
  home = mkdtempSync(path.join(os.tmpdir(), 'vault-metadata-home-'));
});

afterAll(async () => {
  await metadata.close();
  rmSync(home, { recursive: true, force: true });
});

/** What GoogleAuth finds, asked from a fresh Node process whose only Google setting is GCE_METADATA_HOST. */
async function askApplicationDefaultCredentials(): Promise<{ token: string; projectId: string; email: string }> {
  const script = `
    const { GoogleAuth } = require('google-auth-library');
    (async () => {
      const auth = new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/cloud-platform'] });
      const { token } = await (await auth.getClient()).getAccessToken();
      const projectId = await auth.getProjectId();
      const { client_email: email } = await auth.getCredentials();
      process.stdout.write(JSON.stringify({ token, projectId, email }));
    })().catch((error) => { process.stderr.write(String(error)); process.exit(1); });`;
  const { stdout } = await execFileAsync(process.execPath, ['-e', script], {
    cwd: process.cwd(),
    env: { PATH: process.env.PATH, HOME: home, GCE_METADATA_HOST: metadata.host },
  });
  return JSON.parse(stdout) as { token: string; projectId: string; email: string };
}

test('Application Default Credentials take their access token, project and account from it', async () => {
  const found = await askApplicationDefaultCredentials();
  expect(metadata.issuedTokens).toEqual([found.token]);
  expect(found).toMatchObject({ projectId: 'metadata-test-project', email: metadata.serviceAccountEmail });
});

test('refuses a request without Metadata-Flavor: Google, as the real one does', async () => {
  const response = await fetch(`http://${metadata.host}/computeMetadata/v1/project/project-id`);
  expect(response.status).toBe(403);
  expect(response.headers.get('metadata-flavor')).toBe('Google');
});
