// Who may read the subgraph SDL (`_service { sdl }`). In production it takes a reader's token
// (admin or viewer; a runtime token is refused), unless SUBGRAPH_SDL_PUBLIC=true opens it again
// for a gateway that composes without credentials; outside production it stays open.
//
// As in production-posture.test.ts, the production servers are built with
// createServer({ production: true }) over the services wired as src/application.ts wires them:
// a production start needs Cloud KMS, which no loopback fake offers.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createServices } from '../../src/application';
import { TokenVerifier } from '../../src/auth/token-verifier';
import { loadConfig } from '../../src/config/config';
import { type DatabaseHandle, openDatabase } from '../../src/db/database';
import { createLogger } from '../../src/logging/logger';
import { createSchema } from '../../src/schema';
import { LocalKeyring } from '../../src/secrets/local-keyring';
import { createServer, type RunningServer } from '../../src/server';
import { type GraphQLResponse, postGraphQL, startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { TEST_JWT_SECRET, validToken } from '../support/tokens';
import { expectError } from '../support/vault-client';

const SDL = 'query SubgraphSdl { _service { sdl } }';

interface ProductionServer {
  server: RunningServer;
  database: DatabaseHandle;
  dataDir: string;
}

let database: TestDatabase;
let development: TestApp;
let production: ProductionServer;
let publicSdl: ProductionServer;

async function startProductionServer(databaseUrl: string, subgraphSdlPublic: boolean): Promise<ProductionServer> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vault-sdl-'));
  const logger = createLogger({ level: 'silent', destination: new Writable({ write: (_chunk, _encoding, callback) => callback() }) });
  const keyService = await LocalKeyring.open(dataDir, { production: false });
  const handle = await openDatabase({ databaseUrl, dataDir });
  const services = createServices(loadConfig({ DATA_DIR: dataDir, JWT_SECRET: TEST_JWT_SECRET }), handle, keyService, logger);
  const server = await createServer({
    schema: await createSchema(),
    services,
    verifier: TokenVerifier.create({ secret: TEST_JWT_SECRET }),
    logger,
    production: true,
    subgraphSdlPublic,
    readiness: [],
  });
  return { server: await server.listen(0, '127.0.0.1'), database: handle, dataDir };
}

async function stopProductionServer(running: ProductionServer | undefined): Promise<void> {
  if (!running) return;
  await running.server.close();
  await running.database.close();
  rmSync(running.dataDir, { recursive: true, force: true });
}

const tokenWith = (roles: string[]) => validToken({ orgId: randomUUID(), roles });
const sdlOf = (response: GraphQLResponse) => (response.body.data?._service as { sdl?: string } | undefined)?.sdl;

beforeAll(async () => {
  database = await createTestDatabase('subgraph_sdl');
  development = await startTestApp({ databaseUrl: database.url });
  production = await startProductionServer(database.url, false);
  publicSdl = await startProductionServer(database.url, true);
});

afterAll(async () => {
  await stopProductionServer(production);
  await stopProductionServer(publicSdl);
  await development?.stop();
  await database?.drop();
});

describe('in production', () => {
  test('without a token: UNAUTHENTICATED, and no SDL', async () => {
    const response = await postGraphQL(production.server.url, SDL);

    expectError(response, { code: 'UNAUTHENTICATED' });
    expect(response.status).toBe(200);
    expect(response.text).not.toContain('type Credential');
  });

  test('with a wrongly signed token: UNAUTHENTICATED', async () => {
    const response = await postGraphQL(production.server.url, SDL, undefined, { token: `${tokenWith(['viewer'])}x` });

    expectError(response, { code: 'UNAUTHENTICATED' });
  });

  test('through a fragment on Query, without a token: UNAUTHENTICATED as well', async () => {
    const response = await postGraphQL(production.server.url, 'query Sneaky { ...Sdl } fragment Sdl on Query { _service { sdl } }');

    expectError(response, { code: 'UNAUTHENTICATED' });
  });

  test.each([['viewer'], ['admin']])('with a token of the role %s: the SDL', async (role) => {
    const response = await postGraphQL(production.server.url, SDL, undefined, { token: tokenWith([role]) });

    expect(sdlOf(response)).toContain('type Credential');
  });

  test('with a runtime token: FORBIDDEN', async () => {
    const response = await postGraphQL(production.server.url, SDL, undefined, { token: tokenWith(['runtime']) });

    expectError(response, { code: 'FORBIDDEN' });
  });

  test('with SUBGRAPH_SDL_PUBLIC=true: the SDL without a token', async () => {
    const response = await postGraphQL(publicSdl.server.url, SDL);

    expect(sdlOf(response)).toContain('type Credential');
  });

  test('other anonymous operations are unchanged by SUBGRAPH_SDL_PUBLIC: credentials still need a token', async () => {
    const response = await postGraphQL(publicSdl.server.url, '{ credentials { totalCount } }');

    expectError(response, { code: 'UNAUTHENTICATED' });
  });
});

describe('outside production', () => {
  test('the SDL answers without a token', async () => {
    const response = await postGraphQL(development.url, SDL);

    expect(sdlOf(response)).toContain('type Credential');
  });
});
