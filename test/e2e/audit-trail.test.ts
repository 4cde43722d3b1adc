// The audit trail over real HTTP and PostgreSQL: every credential write leaves one event, written
// in the same transaction (a write that fails leaves none, and an event that cannot be written
// undoes its write); events carry the actor, the request id, changed field names and versions but
// never a secret; the table refuses UPDATE, DELETE and TRUNCATE; the hash chain verifies, and
// `audit:verify` reports an edited, removed or truncated chain; auditEvents (GraphQL) and
// GET /admin/audit-events (REST) page through it for admins and viewers of the organization only.
import { randomUUID } from 'node:crypto';
import { AuditLog } from '../../src/audit/audit-log';
import { main as auditVerify } from '../../src/cli/audit-verify';
import { aCredentialInput, anApiKey, apiKeyAuth, uniqueName } from '../support/factories';
import { anOrganization, type Organization } from '../support/organizations';
import { scrapeMetrics } from '../support/metrics-scrape';
import { aProviderInput } from '../support/provider-client';
import { restClient } from '../support/rest-client';
import { runtimeClient } from '../support/runtime-client';
import { sleep } from '../support/sleep';
import { postGraphQL, startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { CREATE_CREDENTIAL, dataOf, expectBadUserInput, expectError, UPDATE_CREDENTIAL } from '../support/vault-client';

let database: TestDatabase;
let vault: TestApp;

beforeAll(async () => {
  database = await createTestDatabase('audit_trail');
  vault = await startTestApp({ databaseUrl: database.url });
});

afterAll(async () => {
  await vault?.stop();
  await database?.drop();
});

const AUDIT_EVENTS = `query AuditEvents($first: Int, $after: String, $targetId: ID, $action: String) {
  auditEvents(first: $first, after: $after, targetId: $targetId, action: $action) {
    edges { cursor node { id at action actor targetType targetId changedFields secretVersion changeNote requestId } }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
}`;

interface EventView {
  id: string;
  at: string;
  action: string;
  actor: string;
  targetType: string | null;
  targetId: string | null;
  changedFields: string[];
  secretVersion: number | null;
  changeNote: string | null;
  requestId: string | null;
}

interface AuditPage {
  auditEvents: {
    edges: { cursor: string; node: EventView }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    totalCount: number;
  };
}

async function eventsOf(token: string, variables: Record<string, unknown> = {}): Promise<AuditPage['auditEvents']> {
  return dataOf(await vault.graphql<AuditPage>(AUDIT_EVENTS, variables, { token })).auditEvents;
}

/** Rows of audit_events as the database holds them, every column as text. */
async function storedEvents(organizationId: string): Promise<Record<string, string | null>[]> {
  return database.query(`SELECT row_to_json(e)::text AS row FROM audit_events e WHERE organization_id = $1 ORDER BY position`, [
    organizationId,
  ]);
}

async function verify(...args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await auditVerify(
    args,
    { DATABASE_URL: database.url, DATA_DIR: vault.dataDir },
    {
      stdout: (text) => (out += text),
      stderr: (text) => (out += text),
    },
  );
  return { code, out };
}

/** Runs `statements` with the append-only trigger off, as a database owner tampering by hand would. */
async function tamper(statements: string): Promise<void> {
  await database.query(`ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only`);
  try {
    await database.query(statements);
  } finally {
    await database.query(`ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only`);
  }
}

describe('credential writes', () => {
  let org: Organization;
  let events: EventView[];
  let credentialId: string;
  const firstKey = anApiKey();
  const secondKey = anApiKey();
  const requestIds = { create: `req-create-${randomUUID()}`, rename: `req-rename-${randomUUID()}`, rotate: `req-rotate-${randomUUID()}` };

  beforeAll(async () => {
    org = anOrganization(vault);
    const created = await postGraphQL<{ createCredential: { id: string } }>(
      vault.url,
      CREATE_CREDENTIAL,
      { input: aCredentialInput({ name: 'audited', modelProvider: 'OPENAI', auth: apiKeyAuth(firstKey), changeNote: 'first key' }) },
      { token: org.admin.token, headers: { 'x-request-id': requestIds.create, 'user-agent': 'audit-test/1.0' } },
    );
    credentialId = dataOf(created).createCredential.id;
    const update = (input: Record<string, unknown>, requestId: string) =>
      vault.graphql(UPDATE_CREDENTIAL, { id: credentialId, input }, { token: org.admin.token, headers: { 'x-request-id': requestId } });
    dataOf(await update({ name: 'audited-renamed' }, requestIds.rename));
    dataOf(await update({ auth: apiKeyAuth(secondKey), changeNote: 'rotated after a leak' }, requestIds.rotate));
    dataOf(await org.admin.delete(credentialId));
    events = (await eventsOf(org.viewer.token)).edges.map((edge) => edge.node);
  });

  test('create, rename, rotate and delete are four events, newest first, about the credential, by the admin', () => {
    expect(events.map((event) => event.action)).toEqual([
      'credential.deleted',
      'credential.rotated',
      'credential.updated',
      'credential.created',
    ]);
    for (const event of events) {
      expect(event).toMatchObject({ targetType: 'credential', targetId: credentialId, actor: 'test-user' });
    }
  });

  test('each event names the fields it changed, the secret version and the change note', () => {
    const [deleted, rotated, renamed, created] = events;
    expect(created).toMatchObject({ secretVersion: 1, changeNote: 'first key' });
    expect(created.changedFields).toEqual(expect.arrayContaining(['auth', 'name', 'settings']));
    expect(renamed).toMatchObject({ changedFields: ['changeNote', 'name'], secretVersion: 1, changeNote: null });
    expect(rotated).toMatchObject({ changedFields: ['auth', 'changeNote'], secretVersion: 2, changeNote: 'rotated after a leak' });
    expect(deleted).toMatchObject({ changedFields: [], secretVersion: null });
  });

  test("each event carries its request's X-Request-Id; the database also keeps the client address and user agent", async () => {
    expect(events.slice(1).map((event) => event.requestId)).toEqual([requestIds.rotate, requestIds.rename, requestIds.create]);
    const [created] = await database.query<{ client_ip: string; user_agent: string }>(
      `SELECT client_ip, user_agent FROM audit_events WHERE request_id = $1`,
      [requestIds.create],
    );
    expect(created.client_ip).toMatch(/127\.0\.0\.1/);
    expect(created.user_agent).toBe('audit-test/1.0');
  });

  test('no event holds either key, in any column', async () => {
    const rows = JSON.stringify(await storedEvents(org.id));
    expect(rows).toContain(credentialId);
    expect(rows).not.toContain(firstKey);
    expect(rows).not.toContain(secondKey);
    expect(rows).not.toContain(firstKey.slice(-12));
  });
});

describe('provider writes', () => {
  test('create, repoint and delete are three events naming the changed fields, with old and new backing in the database', async () => {
    const org = anOrganization(vault);
    const first = await org.admin.created(aCredentialInput({ modelProvider: 'OPENAI', auth: apiKeyAuth() }));
    const second = await org.admin.created(aCredentialInput({ modelProvider: 'OPENAI', auth: apiKeyAuth() }));
    const provider = await org.admin.providers.created(aProviderInput(first.id));
    dataOf(await org.admin.providers.update(provider.id, { credentialId: second.id }));
    dataOf(await org.admin.providers.delete(provider.id));

    const events = (await eventsOf(org.admin.token, { targetId: provider.id })).edges.map((edge) => edge.node);
    expect(events.map(({ action, targetType, changedFields }) => ({ action, targetType, changedFields }))).toEqual([
      { action: 'provider.deleted', targetType: 'provider', changedFields: [] },
      { action: 'provider.updated', targetType: 'provider', changedFields: ['credentialId'] },
      {
        action: 'provider.created',
        targetType: 'provider',
        changedFields: ['credentialId', 'modelProvider', 'name', 'oauthPassthrough', 'settings'],
      },
    ]);
    const [repointed] = await database.query<{ details: unknown }>(
      `SELECT details FROM audit_events WHERE target_id = $1 AND action = 'provider.updated'`,
      [provider.id],
    );
    expect(repointed.details).toEqual({ credentialId: { from: first.id, to: second.id } });
  });
});

describe('one transaction with the change', () => {
  test('a write that fails (a duplicate name) leaves no event', async () => {
    const org = anOrganization(vault);
    const name = uniqueName('dup');
    await org.admin.created(aCredentialInput({ name, modelProvider: 'OPENAI', auth: apiKeyAuth() }));

    expectError(await org.admin.create(aCredentialInput({ name, modelProvider: 'OPENAI', auth: apiKeyAuth() })), {
      code: 'CONFLICT',
      field: 'input.name',
    });

    expect((await eventsOf(org.admin.token)).edges.map((edge) => edge.node.action)).toEqual(['credential.created']);
  });

  test('an event that cannot be written undoes the change it records, and is counted in audit_write_failures_total', async () => {
    const org = anOrganization(vault);
    const credential = await org.admin.created(aCredentialInput({ name: 'kept-name', modelProvider: 'OPENAI', auth: apiKeyAuth() }));
    const failuresBefore = (await scrapeMetrics(vault.baseUrl)).value('audit_write_failures_total');
    await database.query(
      `ALTER TABLE audit_events ADD CONSTRAINT refuse_for_test CHECK (organization_id <> '${org.id}'::uuid OR action <> 'credential.updated')`,
    );
    try {
      const response = await org.admin.update(credential.id, { name: 'lost-name' });
      expect(response.body.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    } finally {
      await database.query('ALTER TABLE audit_events DROP CONSTRAINT refuse_for_test');
    }

    const [row] = await database.query<{ name: string; revision: number }>('SELECT name, revision FROM credentials WHERE id = $1', [
      credential.id,
    ]);
    expect(row).toEqual({ name: 'kept-name', revision: 1 });
    expect((await eventsOf(org.admin.token)).totalCount).toBe(1);
    expect((await scrapeMetrics(vault.baseUrl)).value('audit_write_failures_total')).toBe(failuresBefore + 1);
  });
});

describe('append-only', () => {
  test('UPDATE, DELETE and TRUNCATE of audit_events are refused by the database', async () => {
    const org = anOrganization(vault);
    await org.admin.created(aCredentialInput({ modelProvider: 'OPENAI', auth: apiKeyAuth() }));

    for (const statement of [
      `UPDATE audit_events SET actor = 'someone-else' WHERE organization_id = '${org.id}'`,
      `DELETE FROM audit_events WHERE organization_id = '${org.id}'`,
      'TRUNCATE audit_events',
    ]) {
      await expect(database.query(statement)).rejects.toThrow(/audit_events is append-only/);
    }
    expect((await eventsOf(org.admin.token)).edges[0].node.actor).toBe('test-user');
  });
});

describe('the hash chain and audit:verify', () => {
  test('holds after concurrent writes of one organization: no fork, positions 1..n', async () => {
    const org = anOrganization(vault);
    await Promise.all(
      Array.from({ length: 12 }, () => org.admin.created(aCredentialInput({ modelProvider: 'OPENAI', auth: apiKeyAuth() }))),
    );

    const positions = await database.query<{ position: string }>(
      'SELECT position FROM audit_events WHERE organization_id = $1 ORDER BY position',
      [org.id],
    );
    expect(positions.map((row) => Number(row.position))).toEqual(Array.from({ length: 12 }, (_, index) => index + 1));
    expect(await verify('--org', org.id)).toEqual({ code: 0, out: expect.stringContaining('every chain holds') });
  });

  test('reports an edited row, a removed row and rows removed from the end', async () => {
    const cases: [string, (org: string) => string, RegExp][] = [
      [
        'edited',
        (org) => `UPDATE audit_events SET actor = 'intruder' WHERE organization_id = '${org}' AND position = 2`,
        /position 2: edited/,
      ],
      ['removed', (org) => `DELETE FROM audit_events WHERE organization_id = '${org}' AND position = 2`, /position 2: missing/],
      ['truncated', (org) => `DELETE FROM audit_events WHERE organization_id = '${org}' AND position = 3`, /rows removed from the end/],
    ];
    for (const [, statement, expected] of cases) {
      const org = anOrganization(vault);
      for (let index = 0; index < 3; index += 1) await org.admin.created(aCredentialInput({ modelProvider: 'OPENAI', auth: apiKeyAuth() }));
      expect((await verify('--org', org.id)).code).toBe(0);

      await tamper(statement(org.id));

      const outcome = await verify('--org', org.id);
      expect(outcome.code).toBe(1);
      expect(outcome.out).toMatch(expected);
    }
  });

  test('retention removes only the oldest events, keeps each chain head, and the chain still verifies', async () => {
    const org = anOrganization(vault);
    for (let index = 0; index < 4; index += 1) await org.admin.created(aCredentialInput({ modelProvider: 'OPENAI', auth: apiKeyAuth() }));
    // A prune run 31 days from now, with a 30-day retention: every event is past it.
    const log = new AuditLog(vault.app.database.prisma);
    const removedBefore = await log.prune(30, new Date(Date.now() + 31 * 86_400_000));
    expect(removedBefore).toBeGreaterThanOrEqual(3);

    const left = await database.query<{ position: string }>('SELECT position FROM audit_events WHERE organization_id = $1', [org.id]);
    expect(left.map((row) => Number(row.position))).toEqual([4]);
    expect((await verify('--org', org.id)).code).toBe(0);
    await org.admin.created(aCredentialInput({ modelProvider: 'OPENAI', auth: apiKeyAuth() }));
    expect((await verify('--org', org.id)).code).toBe(0);
  });
});

describe('reading the trail', () => {
  test('pages newest first with cursors, filters by target and action, and counts what matches', async () => {
    const org = anOrganization(vault);
    const ids: string[] = [];
    for (let index = 0; index < 5; index += 1)
      ids.push((await org.admin.created(aCredentialInput({ modelProvider: 'OPENAI', auth: apiKeyAuth() }))).id);
    dataOf(await org.admin.update(ids[0], { name: uniqueName('renamed') }));

    const seen: string[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 10; pages += 1) {
      const page = await eventsOf(org.admin.token, { first: 2, after });
      expect(page.totalCount).toBe(6);
      seen.push(...page.edges.map((edge) => edge.node.targetId ?? ''));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual([ids[0], ids[4], ids[3], ids[2], ids[1], ids[0]]);

    const aboutFirst = await eventsOf(org.admin.token, { targetId: ids[0] });
    expect(aboutFirst.edges.map((edge) => edge.node.action)).toEqual(['credential.updated', 'credential.created']);
    const updates = await eventsOf(org.admin.token, { action: 'credential.updated' });
    expect({ count: updates.totalCount, target: updates.edges[0].node.targetId }).toEqual({ count: 1, target: ids[0] });
  });

  test('another organization sees none of it; a runtime token is refused; bad arguments are coded errors naming them', async () => {
    const owner = anOrganization(vault);
    const stranger = anOrganization(vault);
    await owner.admin.created(aCredentialInput({ modelProvider: 'OPENAI', auth: apiKeyAuth() }));

    expect((await eventsOf(stranger.admin.token)).totalCount).toBe(0);
    expectError(await vault.graphql(AUDIT_EVENTS, {}, { token: runtimeClient(vault, owner.id).token }), { code: 'FORBIDDEN' });
    expectBadUserInput(await vault.graphql(AUDIT_EVENTS, { action: 'credential.exploded' }, { token: owner.admin.token }), 'action');
    expectBadUserInput(await vault.graphql(AUDIT_EVENTS, { after: 'not-a-cursor' }, { token: owner.admin.token }), 'after');
    expectBadUserInput(await vault.graphql(AUDIT_EVENTS, { targetId: 'nope' }, { token: owner.admin.token }), 'targetId');
  });

  test('GET /admin/audit-events answers the same events in snake_case, with next_cursor and total_count', async () => {
    const org = anOrganization(vault);
    const first = await org.admin.created(aCredentialInput({ modelProvider: 'OPENAI', auth: apiKeyAuth() }));
    const second = await org.admin.created(aCredentialInput({ modelProvider: 'OPENAI', auth: apiKeyAuth() }));
    const rest = restClient(vault, { token: org.viewer.token });

    const page = await rest.get<{ events: Record<string, unknown>[]; next_cursor: string | null; total_count: number }>(
      '/audit-events?first=1',
    );
    expect(page.status).toBe(200);
    expect(page.body.total_count).toBe(2);
    expect(page.body.events).toEqual([
      expect.objectContaining({
        action: 'credential.created',
        target_type: 'credential',
        target_id: second.id,
        secret_version: 1,
        actor: 'test-user',
      }),
    ]);
    const next = await rest.get<{ events: Record<string, unknown>[]; next_cursor: string | null }>(
      `/audit-events?first=1&after=${encodeURIComponent(page.body.next_cursor ?? '')}`,
    );
    expect(next.body.events.map((event) => event.target_id)).toEqual([first.id]);
    expect(next.body.next_cursor).toBeNull();

    for (const [query, field] of [
      ['?first=abc', 'first'],
      ['?action=nope', 'action'],
      ['?target_id=1&target_id=2', 'target_id'],
    ] as const) {
      const refused = await rest.get<{ error: { param: string | null } }>(`/audit-events${query}`);
      expect({ query, status: refused.status, param: refused.body.error.param }).toEqual({ query, status: 400, param: field });
    }
  });
});

describe('runtime resolves', () => {
  test('are one credential.resolved event per credential per minute, by the runtime caller', async () => {
    const org = anOrganization(vault);
    const credential = await org.admin.created(aCredentialInput({ modelProvider: 'OPENAI', auth: apiKeyAuth() }));
    const gateway = runtimeClient(vault, org.id);
    for (let index = 0; index < 5; index += 1) await gateway.credential(credential.id);

    let resolved: EventView[] = [];
    for (let attempt = 0; attempt < 100 && resolved.length === 0; attempt += 1) {
      resolved = (await eventsOf(org.admin.token, { action: 'credential.resolved' })).edges.map((edge) => edge.node);
      if (resolved.length === 0) await sleep(20);
    }
    expect(resolved).toEqual([expect.objectContaining({ targetId: credential.id, actor: 'gateway-data-plane', secretVersion: 1 })]);
  });
});
