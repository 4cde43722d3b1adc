// Three instances of the service on one PostgreSQL database (sharing the key ring, as replicas
// share a key service), driven concurrently: idempotent creates retried on every replica at once,
// rotations with and without expectedSecretVersion, renames and deletes racing across them. No
// update is lost, nothing is created twice, each secret version has one winner, every secret opens
// to what its winner sent, the runtime route of every replica answers the winner, and the audit
// chain verifies with one event per successful write.
import { randomUUID } from 'node:crypto';
import { AuditLog } from '../../src/audit/audit-log';
import { aCredentialInput, anApiKey, apiKeyAuth, uniqueName } from '../support/factories';
import { runtimeClient } from '../support/runtime-client';
import { startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { CREATE_CREDENTIAL, DELETE_CREDENTIAL, openSecret, UPDATE_CREDENTIAL } from '../support/vault-client';

jest.setTimeout(120_000);

const CREDENTIALS = 6;

let database: TestDatabase;
let replicas: TestApp[];
const orgId = randomUUID();

beforeAll(async () => {
  database = await createTestDatabase('replicas');
  const first = await startTestApp({ databaseUrl: database.url });
  replicas = [first, ...(await Promise.all([0, 1].map(() => startTestApp({ databaseUrl: database.url, dataDir: first.dataDir }))))];
});

afterAll(async () => {
  for (const replica of [...(replicas ?? [])].reverse()) await replica.stop();
  await database?.drop();
});

const token = () => replicas[0].token({ orgId, roles: ['admin'], sub: 'replica-admin' });

interface Answer<Data> {
  data?: Data | null;
  errors?: { extensions?: { code?: string } }[];
}

async function on<Data>(replica: TestApp, query: string, variables: Record<string, unknown>, headers: Record<string, string> = {}) {
  return (await replica.graphql<Data>(query, variables, { token: token(), headers })).body as Answer<Data>;
}

const codeOf = (answer: Answer<unknown>) => answer.errors?.[0]?.extensions?.code ?? 'OK';

/** The credentials, created once each while every replica receives the same create at the same time. */
let created: { id: string; key: string }[];
/** Per credential: the API key its rotation race ended with. */
const winners = new Map<string, string>();

test('a create retried on all three replicas at once with one Idempotency-Key makes one row, and every replica answers its id', async () => {
  created = await Promise.all(
    Array.from({ length: CREDENTIALS }, async () => {
      const key = anApiKey();
      const input = aCredentialInput({ name: uniqueName('replicated'), modelProvider: 'OPENAI', auth: apiKeyAuth(key) });
      const idempotencyKey = `create-${randomUUID()}`;
      const answers = await Promise.all(
        replicas.map((replica) =>
          on<{ createCredential: { id: string } }>(replica, CREATE_CREDENTIAL, { input }, { 'idempotency-key': idempotencyKey }),
        ),
      );
      const ids = answers.map((answer) => answer.data?.createCredential.id);
      expect(new Set(ids).size).toBe(1);
      expect(ids[0]).toEqual(expect.any(String));
      return { id: ids[0] ?? '', key };
    }),
  );

  const [{ count }] = await database.query<{ count: string }>('SELECT count(*) FROM credentials WHERE organization_id = $1', [orgId]);
  expect(Number(count)).toBe(CREDENTIALS);
});

test('rotations with expectedSecretVersion racing on three replicas: exactly one winner per credential, the rest CONFLICT', async () => {
  await Promise.all(
    created.map(async ({ id }) => {
      const keys = replicas.map(() => anApiKey());
      const answers = await Promise.all(
        replicas.map((replica, index) =>
          on<{ updateCredential: { secretVersion: number } }>(replica, UPDATE_CREDENTIAL, {
            id,
            input: { auth: apiKeyAuth(keys[index]), expectedSecretVersion: 1 },
          }),
        ),
      );
      const outcomes = answers.map(codeOf);
      expect(outcomes.filter((outcome) => outcome === 'OK')).toHaveLength(1);
      expect(outcomes.filter((outcome) => outcome !== 'OK')).toEqual(['CONFLICT', 'CONFLICT']);
      const winner = outcomes.indexOf('OK');
      expect(answers[winner].data?.updateCredential.secretVersion).toBe(2);
      winners.set(id, keys[winner]);
    }),
  );
});

test('rotations without expectedSecretVersion racing on three replicas: all three land, one version each, none lost', async () => {
  await Promise.all(
    created.map(async ({ id }) => {
      const keys = replicas.map(() => anApiKey());
      const answers = await Promise.all(
        replicas.map((replica, index) =>
          on<{ updateCredential: { secretVersion: number } }>(replica, UPDATE_CREDENTIAL, { id, input: { auth: apiKeyAuth(keys[index]) } }),
        ),
      );
      expect(answers.map(codeOf)).toEqual(['OK', 'OK', 'OK']);
      const versions = answers.map((answer) => answer.data?.updateCredential.secretVersion ?? 0);
      expect([...versions].sort()).toEqual([3, 4, 5]);
      winners.set(id, keys[versions.indexOf(5)]);
    }),
  );
});

test('renames racing on three replicas all land: three more revisions, one of the names stored', async () => {
  const { id } = created[0];
  const [before] = await database.query<{ revision: number }>('SELECT revision FROM credentials WHERE id = $1', [id]);
  const names = replicas.map(() => uniqueName('renamed'));
  const answers = await Promise.all(
    replicas.map((replica, index) =>
      on<{ updateCredential: { name: string } }>(replica, UPDATE_CREDENTIAL, { id, input: { name: names[index] } }),
    ),
  );

  expect(answers.map(codeOf)).toEqual(['OK', 'OK', 'OK']);
  const [row] = await database.query<{ name: string; revision: number }>('SELECT name, revision FROM credentials WHERE id = $1', [id]);
  expect(row.revision).toBe(before.revision + 3);
  expect(names).toContain(row.name);
});

test('every secret opens to the last winner, and the runtime route of every replica answers it', async () => {
  for (const { id } of created) {
    const secret = await openSecret(replicas[0], orgId, id);
    expect(secret).toMatchObject({ secretVersion: 5, payload: { apiKey: winners.get(id) } });
    for (const replica of replicas) {
      let headers: unknown;
      for (let attempt = 0; attempt < 100; attempt += 1) {
        headers = (await runtimeClient(replica, orgId).credential(id)).headers;
        if (JSON.stringify(headers).includes(winners.get(id) ?? '-')) break;
      }
      expect(headers).toEqual({ authorization: `Bearer ${winners.get(id)}` });
    }
  }
});

test('a delete racing on three replicas succeeds once; the others are NOT_FOUND', async () => {
  const { id } = created[created.length - 1];
  const answers = await Promise.all(replicas.map((replica) => on<{ deleteCredential: string }>(replica, DELETE_CREDENTIAL, { id })));

  expect(answers.map(codeOf).sort()).toEqual(['NOT_FOUND', 'NOT_FOUND', 'OK']);
});

test('the audit chain verifies, with exactly one event per write that succeeded', async () => {
  const log = new AuditLog(replicas[0].app.database.prisma);
  expect(await log.verify(orgId)).toEqual({ events: expect.any(Number), organizations: 1, problems: [] });

  const counts = await database.query<{ action: string; count: string }>(
    `SELECT action, count(*) FROM audit_events WHERE organization_id = $1 AND action <> 'credential.resolved' GROUP BY action ORDER BY action`,
    [orgId],
  );
  expect(Object.fromEntries(counts.map((row) => [row.action, Number(row.count)]))).toEqual({
    'credential.created': CREDENTIALS,
    'credential.rotated': CREDENTIALS * 4,
    'credential.updated': 3,
    'credential.deleted': 1,
  });
});
