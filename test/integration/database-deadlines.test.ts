// The database's deadlines against real PostgreSQL, below the HTTP doors: a statement that
// outlasts the statement timeout is ended by the server itself, a server that cannot be reached
// fails fast, and both are told apart from a statement the database refused. The doors turn what
// databaseUnavailableError recognizes into DATABASE_UNAVAILABLE (test/e2e/frozen-database.test.ts).
import { type DatabaseHandle, openDatabase } from '../../src/db/database';
import type { DatabaseDeadlines } from '../../src/db/database-deadlines';
import { databaseUnavailableError } from '../../src/db/prisma-errors';
import { DatabaseUnavailableError } from '../../src/errors/app-error';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { TempDirs } from '../support/temp-dirs';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const DEADLINES: DatabaseDeadlines = {
  connectTimeoutMs: 2000,
  statementTimeoutMs: 500,
  idleInTransactionTimeoutMs: 500,
  queryTimeoutMs: 5000,
};

const dataDirs = new TempDirs('vault-deadlines-');
let database: TestDatabase;
const opened: DatabaseHandle[] = [];
const proxies: TcpProxy[] = [];

beforeAll(async () => {
  database = await createTestDatabase('deadlines');
});

afterAll(async () => {
  for (const handle of opened.splice(0)) await handle.close();
  for (const proxy of proxies.splice(0)) await proxy.close();
  await database?.drop();
  dataDirs.removeAll();
});

async function open(databaseUrl: string): Promise<DatabaseHandle> {
  const handle = await openDatabase({ databaseUrl, dataDir: dataDirs.make(), deadlines: DEADLINES });
  opened.push(handle);
  return handle;
}

/** What `work` was rejected with, and after how long. */
async function failureOf(work: () => Promise<unknown>): Promise<{ error: unknown; elapsedMs: number }> {
  const started = performance.now();
  try {
    await work();
  } catch (error) {
    return { error, elapsedMs: performance.now() - started };
  }
  throw new Error('expected the database call to fail');
}

test('a statement that outlasts the statement timeout is ended by the server and reported as unavailable', async () => {
  const { prisma } = await open(database.url);

  const { error, elapsedMs } = await failureOf(() => prisma.$queryRaw`SELECT pg_sleep(3)`);

  expect(databaseUnavailableError(error)).toBeInstanceOf(DatabaseUnavailableError);
  expect(databaseUnavailableError(error)?.reason).toMatch(/57014/);
  // The server's own timeout answered, well before the client-side bound.
  expect(elapsedMs).toBeLessThan(DEADLINES.queryTimeoutMs);
});

test('a server that refuses connections is reported as unavailable within the connect deadline', async () => {
  const server = new URL(database.url);
  const proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port || 5432) });
  proxies.push(proxy);
  const { prisma } = await open(proxy.urlFor(database.url));
  await prisma.credential.count();
  await proxy.close();

  const { error, elapsedMs } = await failureOf(() => prisma.credential.count());

  expect(databaseUnavailableError(error)).toBeInstanceOf(DatabaseUnavailableError);
  expect(elapsedMs).toBeLessThan(3 * DEADLINES.connectTimeoutMs);
});

test('a statement the database refuses is not mistaken for an outage', async () => {
  const { prisma } = await open(database.url);

  const { error } = await failureOf(() => prisma.$queryRaw`SELECT 1 / 0`);

  expect(databaseUnavailableError(error)).toBeUndefined();
});
