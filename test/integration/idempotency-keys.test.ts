// The Idempotency-Key mechanism itself (src/idempotency/idempotency-keys.ts) on real PostgreSQL and
// on the embedded database, with short lifetimes: concurrent calls run a create once, a waiting
// call is not fooled by a long create that keeps its claim alive, a claim nobody renews any more
// (its process died) is taken over after the lease, a failed create frees the key for a waiting
// call, and a wait has a limit. The create is a counter, so what ran is exactly what is counted.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Principal } from '../../src/auth/principal';
import { type DatabaseHandle, openDatabase } from '../../src/db/database';
import { ConflictError, ForbiddenError } from '../../src/errors/app-error';
import { IdempotencyKeyRepository } from '../../src/idempotency/idempotency-key.repository';
import { requestFingerprint } from '../../src/idempotency/idempotency-key';
import { type IdempotencyTiming, IdempotencyKeys } from '../../src/idempotency/idempotency-keys';
import { createLogger } from '../../src/logging/logger';
import { anIdempotencyKey } from '../support/idempotency-keys';
import { TempDirs } from '../support/temp-dirs';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import type * as HostRequire from '../support/host-require';

// PGlite is loaded by Node's own loader instead of Jest's (see host-require.ts): the genuine package.
jest.mock('@electric-sql/pglite', () =>
  jest.requireActual<typeof HostRequire>('../support/host-require').hostRequire('@electric-sql/pglite'),
);

// PGlite takes a few seconds to start.
jest.setTimeout(60_000);

const logger = createLogger({ level: 'silent' });
const temporaryDirectories = new TempDirs('vault-idempotency-');

let database: TestDatabase;
let postgres: DatabaseHandle;
let embedded: DatabaseHandle;

beforeAll(async () => {
  database = await createTestDatabase('idempotency_keys');
  postgres = await openDatabase({ databaseUrl: database.url, dataDir: '/nonexistent' });
  embedded = await openDatabase({ dataDir: temporaryDirectories.make() });
});

afterAll(async () => {
  await postgres?.close();
  await embedded?.close();
  await database?.drop();
  temporaryDirectories.removeAll();
});

const anAdminPrincipal = (): Principal => ({ userId: 'admin-1', orgId: randomUUID(), roles: ['admin'] });

/** A create that counts its runs, takes `ms`, and then answers a new id (or fails). */
function aCountedCreate(options: { ms?: number; fails?: boolean } = {}) {
  const created: string[] = [];
  let runs = 0;
  const run = async () => {
    runs += 1;
    await sleep(options.ms ?? 0);
    if (options.fails) throw new Error('the create failed');
    const id = randomUUID();
    created.push(id);
    return { id };
  };
  return {
    get runs() {
      return runs;
    },
    created,
    call: { operation: 'createCredential', noun: 'credential', request: { name: 'prod' }, run, reread: async (id: string) => ({ id }) },
  };
}

describe.each([
  ['PostgreSQL', () => postgres],
  ['the embedded database', () => embedded],
])('on %s', (_name, handle) => {
  const keysWith = (timing: Partial<IdempotencyTiming> = {}) =>
    new IdempotencyKeys({ repository: new IdempotencyKeyRepository(handle().prisma), logger, timing });

  test('ten concurrent calls with one key run the create once and all answer its result', async () => {
    const keys = keysWith();
    const principal = anAdminPrincipal();
    const key = anIdempotencyKey();
    const create = aCountedCreate({ ms: 200 });

    const results = await Promise.all(Array.from({ length: 10 }, () => keys.once(principal, key, create.call)));

    expect(create.runs).toBe(1);
    expect(results).toEqual(Array.from({ length: 10 }, () => ({ id: create.created[0] })));
  });

  test('a call waits for a create that keeps its claim alive past the lease, and answers its result', async () => {
    const keys = keysWith({ heartbeatMs: 50, leaseMs: 250 });
    const principal = anAdminPrincipal();
    const key = anIdempotencyKey();
    const create = aCountedCreate({ ms: 1000 });

    const first = keys.once(principal, key, create.call);
    await sleep(100);
    const second = await keys.once(principal, key, create.call);

    expect(second).toEqual(await first);
    expect(create.runs).toBe(1);
  });

  test('a claim nobody renews any more (its process died) is taken over after the lease, and the next call runs', async () => {
    const keys = keysWith({ leaseMs: 300 });
    const principal = anAdminPrincipal();
    const key = anIdempotencyKey();
    const scope = { organizationId: principal.orgId, key };
    const repository = new IdempotencyKeyRepository(handle().prisma);
    // A claim as a process makes it just before it dies: pending, and never renewed.
    const fingerprint = requestFingerprint(scope, 'createCredential', { name: 'prod' });
    expect(await repository.claim(scope, { operation: 'createCredential', fingerprint })).not.toBeNull();
    const create = aCountedCreate();

    await sleep(400);
    const result = await keys.once(principal, key, create.call);

    expect(create.runs).toBe(1);
    expect(result).toEqual({ id: create.created[0] });
    expect(await keys.once(principal, key, create.call)).toEqual(result);
    expect(create.runs).toBe(1);
  });

  test('a failed create frees the key at once: a call waiting for it runs the create itself', async () => {
    const keys = keysWith();
    const principal = anAdminPrincipal();
    const key = anIdempotencyKey();
    const failing = aCountedCreate({ ms: 200, fails: true });
    const working = aCountedCreate();

    const first = keys.once(principal, key, failing.call);
    await sleep(50);
    const second = keys.once(principal, key, working.call);

    await expect(first).rejects.toThrow('the create failed');
    expect(await second).toEqual({ id: working.created[0] });
    expect([failing.runs, working.runs]).toEqual([1, 1]);
  });

  test('a call that waits longer than the wait limit gives up with CONFLICT naming the header; the create holding the key goes on', async () => {
    const keys = keysWith({ waitMs: 200, heartbeatMs: 50 });
    const principal = anAdminPrincipal();
    const key = anIdempotencyKey();
    const create = aCountedCreate({ ms: 800 });

    const first = keys.once(principal, key, create.call);
    await sleep(50);
    const waiting = keys.once(principal, key, create.call);

    await expect(waiting).rejects.toThrow(ConflictError);
    await expect(waiting).rejects.toThrow('A request with this Idempotency-Key is still in progress');
    expect(await first).toEqual({ id: create.created[0] });
    expect(create.runs).toBe(1);
  });

  test('a viewer is refused (FORBIDDEN) before the key is claimed or answered', async () => {
    const keys = keysWith();
    const principal = anAdminPrincipal();
    const key = anIdempotencyKey();
    const create = aCountedCreate();
    await keys.once(principal, key, create.call);

    await expect(keys.once({ ...principal, roles: ['viewer'] }, key, create.call)).rejects.toThrow(ForbiddenError);
    await expect(keys.once({ ...principal, roles: ['viewer'] }, anIdempotencyKey(), create.call)).rejects.toThrow(ForbiddenError);
    expect(create.runs).toBe(1);
  });
});
