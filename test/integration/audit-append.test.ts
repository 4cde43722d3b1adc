// AuditLog.append writes an event in one statement: the database locks the chain head, builds the
// event's hash (the same as hashOf in audit-log.ts) from the head's position and hash, inserts the
// event and moves the head on. The chain it leaves must verify, on PostgreSQL and on the embedded
// database alike, also when the first writes of an organization race to start its chain.
import { randomUUID } from 'node:crypto';
import type * as HostRequire from '../support/host-require';
import { type AuditEntry, AuditLog, GENESIS_HASH, hashOf } from '../../src/audit/audit-log';
import { type DatabaseHandle, openDatabase } from '../../src/db/database';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { TempDirs } from '../support/temp-dirs';

// PGlite is loaded by Node's own loader instead of Jest's (see host-require.ts): the genuine package.
jest.mock('@electric-sql/pglite', () =>
  jest.requireActual<typeof HostRequire>('../support/host-require').hostRequire('@electric-sql/pglite'),
);

const tempDirs = new TempDirs('vault-audit-append-');
let postgres: TestDatabase;
const handles: Record<string, DatabaseHandle> = {};

/** An entry whose fields exercise the hash's JSON: unicode, quotes, nested details, nulls. */
function anEntry(organizationId: string, index: number): AuditEntry {
  return {
    organizationId,
    actor: `user-${index} "quoted" ünïcödé`,
    action: 'credential.updated',
    targetType: 'credential',
    targetId: randomUUID(),
    changedFields: ['settings', 'name', 'baseUrl'],
    details: { name: { from: `a-${index}`, to: 'b\nc' }, settings: { from: { z: 1, a: [true, null] }, to: {} } },
    secretVersion: index,
    changeNote: index % 2 === 0 ? null : 'why: \u2028 and \\',
    origin: { requestId: `req-${index}`, clientIp: '127.0.0.1', userAgent: null },
  };
}

beforeAll(async () => {
  postgres = await createTestDatabase('audit_append');
  handles.postgresql = await openDatabase({ databaseUrl: postgres.url, dataDir: tempDirs.make() });
  handles.embedded = await openDatabase({ dataDir: tempDirs.make() });
}, 60_000);

afterAll(async () => {
  for (const handle of Object.values(handles)) await handle.close();
  await postgres?.drop();
  tempDirs.removeAll();
});

describe.each(['postgresql', 'embedded'])('on the %s database', (kind) => {
  test('the events appended form a chain from the genesis hash that verifies, each hash being hashOf its fields', async () => {
    const audit = new AuditLog(handles[kind].prisma);
    const organizationId = randomUUID();

    const events = [];
    for (let index = 1; index <= 4; index += 1) events.push(await audit.record(anEntry(organizationId, index)));

    expect(events.map((event) => event.position)).toEqual([1, 2, 3, 4]);
    expect(events[0].previousHash).toBe(GENESIS_HASH);
    expect(events.map((event) => hashOf(event))).toEqual(events.map((event) => event.hash));
    expect(events.slice(1).map((event) => event.previousHash)).toEqual(events.slice(0, -1).map((event) => event.hash));
    expect(await audit.verify(organizationId)).toEqual({ events: 4, organizations: 1, problems: [] });
  });

  test('concurrent first writes of an organization all land, at positions 1..n, and the chain verifies', async () => {
    const audit = new AuditLog(handles[kind].prisma);
    const organizationId = randomUUID();

    const events = await Promise.all(Array.from({ length: 8 }, (_, index) => audit.record(anEntry(organizationId, index))));

    expect(events.map((event) => event.position).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(await audit.verify(organizationId)).toEqual({ events: 8, organizations: 1, problems: [] });
  });
});
