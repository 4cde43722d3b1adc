// A fake Compute Engine metadata server: what google-auth-library's Application Default
// Credentials find on Google Cloud when no key file is configured. Point a process at it with
// GCE_METADATA_HOST=127.0.0.1:<port> and GoogleAuth hands out a Compute client whose access tokens
// come from here. Like the real one, it answers only requests that carry `Metadata-Flavor: Google`,
// and says so in the same header.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeMetadataServer {
  /** `127.0.0.1:<port>`, the GCE_METADATA_HOST form. */
  host: string;
  projectId: string;
  serviceAccountEmail: string;
  /** Every access token handed out so far, oldest first. */
  issuedTokens: string[];
  close(): Promise<void>;
}

export interface StartFakeMetadataServerOptions {
  projectId?: string;
  serviceAccountEmail?: string;
}

const BASE_PATH = '/computeMetadata/v1';

export async function startFakeMetadataServer(options: StartFakeMetadataServerOptions = {}): Promise<FakeMetadataServer> {
  const projectId = options.projectId ?? 'vault-host-project';
  const serviceAccountEmail = options.serviceAccountEmail ?? `vault-runtime@${projectId}.iam.gserviceaccount.com`;
  const issuedTokens: string[] = [];

  const answers: Record<string, () => { type: string; body: string }> = {
    // The availability check asks for the instance folder and looks only at the header.
    '/instance': () => ({ type: 'application/text', body: 'attributes/\nservice-accounts/\n' }),
    '/project/project-id': () => ({ type: 'application/text', body: projectId }),
    '/instance/service-accounts/default/email': () => ({ type: 'application/text', body: serviceAccountEmail }),
    '/instance/service-accounts/default/token': () => {
      const token = `ya29.fake-metadata-${randomBytes(12).toString('hex')}`;
      issuedTokens.push(token);
      return { type: 'application/json', body: JSON.stringify({ access_token: token, expires_in: 3599, token_type: 'Bearer' }) };
    },
  };

  const server = http.createServer((request, response) => {
    response.setHeader('Metadata-Flavor', 'Google');
    const url = new URL(request.url ?? '/', 'http://metadata');
    if (request.headers['metadata-flavor'] !== 'Google') {
      response.writeHead(403, { 'Content-Type': 'text/plain' }).end('Missing Metadata-Flavor: Google header');
      return;
    }
    const answer =
      request.method === 'GET' && url.pathname.startsWith(BASE_PATH) ? answers[url.pathname.slice(BASE_PATH.length)] : undefined;
    if (!answer) {
      // Unknown paths (the universe domain among them) are 404, which clients read as "the default".
      response.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not Found');
      return;
    }
    const { type, body } = answer();
    response.writeHead(200, { 'Content-Type': type }).end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    host: `127.0.0.1:${port}`,
    projectId,
    serviceAccountEmail,
    issuedTokens,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
