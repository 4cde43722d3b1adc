// Writes in few round trips: a change and its audit event are one transaction, and the event is one
// statement in it (lock the chain head, insert the event, move the head on). A createCredential is
// the insert, the event and the commit. Statements are counted with Prisma's query events (which
// leave out the BEGIN that opens a transaction), only while one request is in flight.
import { aCredentialInput, apiKeyAuth } from '../support/factories';
import { anAdmin, type Member } from '../support/organizations';
import { aProviderInput } from '../support/provider-client';
import { startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { dataOf } from '../support/vault-client';

let database: TestDatabase;
let vault: TestApp;
/** Statements seen while a request is being measured; null otherwise. */
let recording: string[] | null = null;

/** Every SQL statement issued while `request` ran. */
async function statementsOf(request: () => Promise<unknown>): Promise<string[]> {
  recording = [];
  try {
    await request();
    return recording;
  } finally {
    recording = null;
  }
}

/** The statements that touch the audit trail's tables. */
function auditStatements(statements: string[]): string[] {
  return statements.filter((sql) => /audit_events|audit_chain_heads/.test(sql));
}

/** An admin of a new organization that has written once already (its audit chain exists). */
async function anOrganizationThatHasWritten(): Promise<Member> {
  const admin = anAdmin(vault);
  await admin.created(aCredentialInput({ modelProvider: 'OPENAI', auth: apiKeyAuth() }));
  return admin;
}

beforeAll(async () => {
  database = await createTestDatabase('write_statements');
  vault = await startTestApp({ databaseUrl: database.url });
  vault.app.database.prisma.$on('query', (event) => {
    recording?.push(event.query);
  });
});

afterAll(async () => {
  await vault?.stop();
  await database?.drop();
});

describe('createCredential', () => {
  test('is three statements once its organization has an audit chain: the insert, the audit event and the commit', async () => {
    const admin = await anOrganizationThatHasWritten();

    const statements = await statementsOf(() => admin.created(aCredentialInput({ modelProvider: 'OPENAI', auth: apiKeyAuth() })));

    expect(statements).toHaveLength(3);
    expect(statements[0]).toMatch(/^INSERT INTO "public"\."credentials"/);
    expect(auditStatements(statements)).toEqual([statements[1]]);
    expect(statements[2]).toBe('COMMIT');
  });

  test('the first write of an organization also starts its audit chain: two statements more', async () => {
    const admin = anAdmin(vault);

    const statements = await statementsOf(() => admin.created(aCredentialInput({ modelProvider: 'OPENAI', auth: apiKeyAuth() })));

    expect(statements).toHaveLength(5);
    expect(statements.filter((sql) => /INSERT INTO audit_chain_heads/.test(sql))).toHaveLength(1);
    const [row] = await database.query<{ position: string }>('SELECT position FROM audit_chain_heads WHERE organization_id = $1', [
      admin.orgId,
    ]);
    expect(row.position).toBe('1');
  });
});

describe('every other write records its audit event in one statement', () => {
  test('updateCredential, createProvider, updateProvider, deleteProvider and deleteCredential', async () => {
    const admin = await anOrganizationThatHasWritten();
    const credential = await admin.created(aCredentialInput({ modelProvider: 'OPENAI', auth: apiKeyAuth() }));
    const other = await admin.created(aCredentialInput({ modelProvider: 'OPENAI', auth: apiKeyAuth() }));
    let providerId = '';

    const writes: [string, () => Promise<unknown>][] = [
      ['updateCredential', async () => dataOf(await admin.update(credential.id, { name: 'renamed' }))],
      ['createProvider', async () => (providerId = (await admin.providers.created(aProviderInput(credential.id))).id)],
      ['updateProvider', () => admin.providers.updated(providerId, { credentialId: other.id })],
      ['deleteProvider', async () => dataOf(await admin.providers.delete(providerId))],
      ['deleteCredential', async () => dataOf(await admin.delete(credential.id))],
    ];
    for (const [write, request] of writes) {
      expect({ write, audit: auditStatements(await statementsOf(request)) }).toEqual({
        write,
        audit: [expect.stringMatching(/^\s*WITH head/)],
      });
    }
  });
});
