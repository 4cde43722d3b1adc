// Who may read GET /metrics. In production it needs an admin token (401 without a valid token, 403
// for a viewer or a runtime token), unless METRICS_PUBLIC=true; outside production it is open. The
// production servers are built with createServer over the services as src/application.ts wires
// them (a production start needs Cloud KMS over TLS, which no loopback fake offers).
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
import { scrapeMetrics } from '../support/metrics-scrape';
import { startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { expiredToken, TEST_JWT_SECRET, validToken } from '../support/tokens';

let database: TestDatabase;
let handle: DatabaseHandle;
let dataDir: string;
const servers: RunningServer[] = [];

beforeAll(async () => {
  database = await createTestDatabase('metrics_access');
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'vault-metrics-access-'));
  handle = await openDatabase({ databaseUrl: database.url, dataDir });
});

afterAll(async () => {
  for (const server of servers) await server.close();
  await handle?.close();
  await database?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** A production server (NODE_ENV=production) with METRICS_PUBLIC as given; its origin. */
async function productionServer(metricsPublic: boolean): Promise<string> {
  const env = { DATA_DIR: dataDir, JWT_SECRET: TEST_JWT_SECRET, ...(metricsPublic ? { METRICS_PUBLIC: 'true' } : {}) };
  const config = loadConfig(env);
  const logger = createLogger({ level: 'silent', destination: new Writable({ write: (_chunk, _encoding, callback) => callback() }) });
  const keyService = await LocalKeyring.open(dataDir, { production: false });
  const server = await createServer({
    schema: await createSchema(),
    services: createServices(config, handle, keyService, logger),
    verifier: TokenVerifier.create({ secret: TEST_JWT_SECRET }),
    logger,
    production: true,
    metricsPublic: config.metricsPublic,
    readiness: [],
  });
  const running = await server.listen(0, '127.0.0.1');
  servers.push(running);
  return running.url.replace(/\/graphql$/, '');
}

const token = (roles: string[]) => validToken({ orgId: randomUUID(), roles, sub: 'metrics-reader' });

describe('in production, without METRICS_PUBLIC', () => {
  let origin: string;
  beforeAll(async () => {
    origin = await productionServer(false);
  });

  test('refuses a request without a token with 401 UNAUTHENTICATED, and shows no metric', async () => {
    const metrics = await scrapeMetrics(origin);
    expect(metrics.status).toBe(401);
    expect(JSON.parse(metrics.text)).toEqual({ errors: [{ message: expect.any(String), extensions: { code: 'UNAUTHENTICATED' } }] });
    expect(metrics.text).not.toContain('process_cpu');
  });

  test('refuses an expired token with 401', async () => {
    expect((await scrapeMetrics(origin, expiredToken({ orgId: randomUUID(), roles: ['admin'], sub: 'metrics-reader' }))).status).toBe(401);
  });

  test('refuses a viewer token with 403 FORBIDDEN', async () => {
    const metrics = await scrapeMetrics(origin, token(['viewer']));
    expect(metrics.status).toBe(403);
    expect(JSON.parse(metrics.text)).toMatchObject({ errors: [{ extensions: { code: 'FORBIDDEN' } }] });
  });

  test('refuses a runtime token with 403, even one that also says admin', async () => {
    expect((await scrapeMetrics(origin, token(['runtime']))).status).toBe(403);
    expect((await scrapeMetrics(origin, token(['admin', 'runtime']))).status).toBe(403);
  });

  test('answers an admin token with the metrics', async () => {
    const metrics = await scrapeMetrics(origin, token(['admin']));
    expect(metrics.status).toBe(200);
    expect(metrics.series('process_cpu_user_seconds_total')).toHaveLength(1);
  });
});

describe('in production, with METRICS_PUBLIC=true', () => {
  test('answers without a token', async () => {
    const metrics = await scrapeMetrics(await productionServer(true));
    expect(metrics.status).toBe(200);
    expect(metrics.series('process_cpu_user_seconds_total')).toHaveLength(1);
  });
});

describe('outside production', () => {
  let app: TestApp | undefined;
  afterAll(async () => {
    await app?.stop();
  });

  test('answers without a token', async () => {
    app = await startTestApp({ databaseUrl: database.url });
    const metrics = await scrapeMetrics(app.baseUrl);
    expect(metrics.status).toBe(200);
    expect(metrics.series('process_cpu_user_seconds_total')).toHaveLength(1);
  });
});
