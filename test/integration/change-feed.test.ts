// The change feed against the real databases: PostgreSQL's LISTEN on a connection of its own
// (writes made by another connection, as another replica would, are heard; a write that only
// records a resolve is not; a dropped connection is reported and mended), and PGlite's listen.
import { createLogger } from '../../src/logging/logger';
import type * as HostRequire from '../support/host-require';
import type { ChangedTable, ChangeFeed } from '../../src/db/change-feed';
import { apiKeyAuth, aCredentialInput } from '../support/factories';
import { anAdmin } from '../support/organizations';
import { aProviderInput } from '../support/provider-client';
import { eventually, sleep } from '../support/sleep';
import { startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

// PGlite is loaded by Node's own loader instead of Jest's (see host-require.ts): the genuine package.
jest.mock('@electric-sql/pglite', () =>
  jest.requireActual<typeof HostRequire>('../support/host-require').hostRequire('@electric-sql/pglite'),
);
jest.setTimeout(60_000);

const logger = createLogger({ level: 'silent' });

interface Heard {
  events: string[];
  feed: ChangeFeed;
}

function record(feed: ChangeFeed): Heard {
  const events: string[] = [];
  feed.subscribe({
    changed: (table: ChangedTable, id: string) => events.push(`${table}:${id}`),
    reset: () => events.push(`reset:${feed.live ? 'live' : 'down'}`),
  });
  return { events, feed };
}

/** A credential used by a provider, created through the API. */
async function rowsOf(vault: TestApp): Promise<{ credentialId: string; providerId: string; orgId: string }> {
  const admin = anAdmin(vault);
  const credential = await admin.created(aCredentialInput({ modelProvider: 'OPENAI', auth: apiKeyAuth() }));
  const provider = await admin.providers.created(aProviderInput(credential.id));
  return { credentialId: credential.id, providerId: provider.id, orgId: admin.orgId };
}

describe('PostgreSQL', () => {
  let database: TestDatabase;
  let vault: TestApp;
  let heard: Heard;

  beforeAll(async () => {
    database = await createTestDatabase('change_feed');
    vault = await startTestApp({ databaseUrl: database.url });
  });

  beforeEach(async () => {
    heard = record(await vault.app.database.openChangeFeed(logger));
  });

  afterEach(async () => {
    await heard.feed.close();
  });

  afterAll(async () => {
    await vault?.stop();
    await database?.drop();
  });

  test('is live once open, and hears updates and deletes made by another connection, in commit order', async () => {
    const { credentialId, providerId } = await rowsOf(vault);
    expect(heard.feed.live).toBe(true);

    await database.query(`UPDATE credentials SET name = name || '-renamed' WHERE id = $1`, [credentialId]);
    await database.query(`UPDATE providers SET settings = '{"x": 1}' WHERE id = $1`, [providerId]);
    await database.query(`DELETE FROM providers WHERE id = $1`, [providerId]);
    await database.query(`DELETE FROM credentials WHERE id = $1`, [credentialId]);
    await eventually(() => heard.events.length >= 4, 'four notifications');

    expect(heard.events).toEqual([
      `credentials:${credentialId}`,
      `providers:${providerId}`,
      `providers:${providerId}`,
      `credentials:${credentialId}`,
    ]);
  });

  test('does not announce a write that only records a resolve (last_used_at)', async () => {
    const { credentialId, providerId } = await rowsOf(vault);

    await database.query(`UPDATE credentials SET last_used_at = now() WHERE id = $1`, [credentialId]);
    // A marker after it: notifications arrive in commit order, so once it is heard the first would have been.
    await database.query(`UPDATE providers SET name = name || '-marker' WHERE id = $1`, [providerId]);
    await eventually(() => heard.events.length >= 1, 'the marker');

    expect(heard.events).toEqual([`providers:${providerId}`]);
  });

  test('inserts are not announced: nobody can hold a row that did not exist', async () => {
    await rowsOf(vault);
    const { providerId } = await rowsOf(vault);
    await database.query(`UPDATE providers SET name = name || '-marker' WHERE id = $1`, [providerId]);
    await eventually(() => heard.events.length >= 1, 'the marker');

    expect(heard.events).toEqual([`providers:${providerId}`]);
  });

  test('a dropped connection is reported (down, then live again after a reset) and the feed hears again', async () => {
    const { credentialId } = await rowsOf(vault);
    const [listener] = await database.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN vault_changes' AND pid <> pg_backend_pid() ORDER BY backend_start DESC LIMIT 1`,
    );
    expect(listener).toBeDefined();

    await database.query('SELECT pg_terminate_backend($1)', [listener.pid]);
    await eventually(() => heard.events.includes('reset:down'), 'the feed to go down');
    expect(heard.feed.live).toBe(false);
    await eventually(() => heard.feed.live, 'the feed to come back');
    await database.query(`UPDATE credentials SET name = name || '-again' WHERE id = $1`, [credentialId]);
    await eventually(() => heard.events.includes(`credentials:${credentialId}`), 'the update after the reconnect');

    expect(heard.events).toEqual(['reset:down', 'reset:live', `credentials:${credentialId}`]);
  });

  test('close leaves no listening connection behind and hears nothing more', async () => {
    const { credentialId } = await rowsOf(vault);
    const listening = async () =>
      (await database.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN vault_changes'`)).length;
    const before = await listening();

    await heard.feed.close();
    await eventually(() => heard.events.includes('reset:down'), 'the close to be reported');
    await database.query(`UPDATE credentials SET name = name || '-closed' WHERE id = $1`, [credentialId]);
    await sleep(200);

    expect(heard.feed.live).toBe(false);
    expect(heard.events).toEqual(['reset:down']);
    expect(before).toBeGreaterThan(0);
    expect(await listening()).toBe(before - 1);
  });
});

describe('embedded (PGlite)', () => {
  let vault: TestApp;
  let heard: Heard;

  beforeAll(async () => {
    vault = await startTestApp();
    heard = record(await vault.app.database.openChangeFeed(logger));
  });

  afterAll(async () => {
    await heard?.feed.close();
    await vault?.stop();
  });

  test('hears updates and deletes, and not a last_used_at write', async () => {
    const { credentialId, providerId } = await rowsOf(vault);
    const prisma = vault.app.database.prisma;
    expect(heard.feed.live).toBe(true);

    await prisma.$executeRaw`UPDATE credentials SET last_used_at = now() WHERE id = ${credentialId}::uuid`;
    await prisma.$executeRaw`UPDATE credentials SET name = name || '-renamed' WHERE id = ${credentialId}::uuid`;
    await prisma.$executeRaw`DELETE FROM providers WHERE id = ${providerId}::uuid`;
    await eventually(() => heard.events.length >= 2, 'two notifications');

    expect(heard.events).toEqual([`credentials:${credentialId}`, `providers:${providerId}`]);
  });
});
