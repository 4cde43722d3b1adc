// The sealed secret columns never travel in an ordinary read. The Prisma client omits them
// (SEALED_SECRET_COLUMNS), so results lack the keys and the SQL never selects them; the whole
// GraphQL surface is checked statement by statement through Prisma's query events; and only the
// files allowed to touch the sealed fields mention them at all.
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type DatabaseHandle, openDatabase } from '../../src/db/database';
import { SEALED_SECRET_COLUMNS } from '../../src/secrets/sealed-columns';
import { findProjectRoot } from '../../src/db/project-paths';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { CREDENTIAL_FIELDS } from '../support/vault-client';
import { anAdmin } from '../support/organizations';
import { startTestApp, type TestApp } from '../support/test-app';
import { columnsRead, readClauses } from '../support/sql-selections';

const SEALED_FIELDS = Object.keys(SEALED_SECRET_COLUMNS);
const SEALED_COLUMNS = ['secret_algorithm', 'secret_ciphertext', 'secret_nonce', 'secret_wrapped_key', 'secret_key_id'];

function sealedKeysOf(row: object | null): string[] {
  return row === null ? [] : Object.keys(row).filter((key) => SEALED_FIELDS.includes(key) || SEALED_COLUMNS.includes(key));
}

/** Statements that read a sealed column back, with the columns they read. */
function sealedReads(statements: string[]): { sql: string; columns: string[] }[] {
  return statements.map((sql) => ({ sql, columns: columnsRead(sql, SEALED_COLUMNS) })).filter((read) => read.columns.length > 0);
}

describe('SEALED_SECRET_COLUMNS', () => {
  test('names exactly the five fields that hold sealed material', () => {
    expect(SEALED_FIELDS.sort()).toEqual(['secretAlgorithm', 'secretCiphertext', 'secretKeyId', 'secretNonce', 'secretWrappedKey']);
  });
});

describe('the SQL check used below', () => {
  // These prove the check can fail; without them, "no sealed column read" could be vacuous.
  test('flags a sealed column in a SELECT list', () => {
    expect(
      columnsRead('SELECT "public"."credentials"."id", "public"."credentials"."secret_nonce" FROM "public"."credentials"', SEALED_COLUMNS),
    ).toEqual(['secret_nonce']);
  });

  test('flags a sealed column in a RETURNING clause', () => {
    expect(
      columnsRead('UPDATE "credentials" SET "name" = $1 RETURNING "credentials"."id", "credentials"."secret_key_id"', SEALED_COLUMNS),
    ).toEqual(['secret_key_id']);
  });

  test('flags SELECT * and RETURNING *, which read every column', () => {
    expect(columnsRead('SELECT * FROM credentials', SEALED_COLUMNS)).toEqual(SEALED_COLUMNS);
    expect(columnsRead('SELECT "credentials".* FROM credentials', SEALED_COLUMNS)).toEqual(SEALED_COLUMNS);
    expect(columnsRead('DELETE FROM credentials RETURNING *', SEALED_COLUMNS)).toEqual(SEALED_COLUMNS);
  });

  test('flags a sealed column selected in a subquery of the SELECT list', () => {
    expect(columnsRead('SELECT id, (SELECT c.secret_ciphertext FROM credentials c LIMIT 1) AS x FROM credentials', SEALED_COLUMNS)).toEqual(
      ['secret_ciphertext'],
    );
  });

  test('does not flag columns an INSERT or UPDATE writes, nor a WHERE clause', () => {
    expect(
      columnsRead('INSERT INTO "credentials" ("id","secret_nonce") VALUES ($1,$2) RETURNING "credentials"."id"', SEALED_COLUMNS),
    ).toEqual([]);
    expect(columnsRead('UPDATE "credentials" SET "secret_nonce" = $1 WHERE "secret_key_id" = $2', SEALED_COLUMNS)).toEqual([]);
  });

  test('does not flag count(*)', () => {
    expect(columnsRead('SELECT COUNT(*) AS "_count" FROM "credentials"', SEALED_COLUMNS)).toEqual([]);
  });

  test('ignores keywords inside quoted identifiers and string literals', () => {
    expect(readClauses(`SELECT "from", 'secret_nonce FROM x' FROM t`)).toEqual([` "from", 'secret_nonce FROM x' `]);
  });
});

describe('ordinary Prisma reads and writes', () => {
  let database: TestDatabase;
  let handle: DatabaseHandle;
  const statements: string[] = [];
  const organizationId = randomUUID();

  const sealed = {
    secretAlgorithm: 'test-algorithm',
    secretCiphertext: new Uint8Array([1, 2, 3]),
    secretNonce: new Uint8Array([4, 5, 6]),
    secretWrappedKey: new Uint8Array([7, 8, 9]),
    secretKeyId: 'test-key',
  };
  const aCredential = (name: string) => ({
    id: randomUUID(),
    organizationId,
    name,
    modelProvider: 'openai',
    authType: 'API_KEY' as const,
    baseUrl: 'https://api.openai.com/v1',
    storesKeyMaterial: true,
    createdBy: 'test',
    updatedBy: 'test',
    ...sealed,
  });

  beforeAll(async () => {
    database = await createTestDatabase('sealed');
    handle = await openDatabase({ databaseUrl: database.url, dataDir: path.join(os.tmpdir(), 'vault-unused-data-dir') });
    handle.prisma.$on('query', (event) => {
      statements.push(event.query);
    });
  });

  afterAll(async () => {
    await handle?.close();
    await database?.drop();
  });

  beforeEach(() => {
    statements.length = 0;
  });

  test('create returns no sealed field, and its INSERT returns no sealed column', async () => {
    const created = await handle.prisma.credential.create({ data: aCredential('create') });
    expect(sealedKeysOf(created)).toEqual([]);
    expect(statements.some((sql) => /^\s*INSERT/i.test(sql))).toBe(true);
    expect(sealedReads(statements)).toEqual([]);
  });

  test('the sealed values were nonetheless written', async () => {
    const { id } = await handle.prisma.credential.create({ data: aCredential('written') });
    const [row] = await database.query<{ secret_key_id: string; secret_ciphertext: Buffer }>(
      'SELECT secret_key_id, secret_ciphertext FROM credentials WHERE id = $1',
      [id],
    );
    expect(row.secret_key_id).toBe('test-key');
    expect([...row.secret_ciphertext]).toEqual([1, 2, 3]);
  });

  test('findFirst returns no sealed field and selects no sealed column', async () => {
    const { id } = await handle.prisma.credential.create({ data: aCredential('find-first') });
    statements.length = 0;
    const found = await handle.prisma.credential.findFirst({ where: { id, organizationId } });
    expect(found).not.toBeNull();
    expect(sealedKeysOf(found)).toEqual([]);
    expect(statements.some((sql) => /^\s*SELECT/i.test(sql))).toBe(true);
    expect(sealedReads(statements)).toEqual([]);
  });

  test('findUnique returns no sealed field and selects no sealed column', async () => {
    const { id } = await handle.prisma.credential.create({ data: aCredential('find-unique') });
    statements.length = 0;
    const found = await handle.prisma.credential.findUnique({ where: { id } });
    expect(sealedKeysOf(found)).toEqual([]);
    expect(sealedReads(statements)).toEqual([]);
  });

  test('findMany returns no sealed field and selects no sealed column', async () => {
    await handle.prisma.credential.create({ data: aCredential('find-many') });
    statements.length = 0;
    const rows = await handle.prisma.credential.findMany({ where: { organizationId } });
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(sealedKeysOf(row)).toEqual([]);
    expect(sealedReads(statements)).toEqual([]);
  });

  test('update returns no sealed field, and its RETURNING has no sealed column, even when it writes them', async () => {
    const { id } = await handle.prisma.credential.create({ data: aCredential('update') });
    statements.length = 0;
    const updated = await handle.prisma.credential.update({ where: { id }, data: { name: 'updated', secretNonce: new Uint8Array([9]) } });
    expect(sealedKeysOf(updated)).toEqual([]);
    expect(statements.some((sql) => /^\s*UPDATE/i.test(sql) && /secret_nonce/.test(sql))).toBe(true);
    expect(sealedReads(statements)).toEqual([]);
  });

  test('upsert and delete return no sealed field and select no sealed column', async () => {
    const data = aCredential('upsert');
    const upserted = await handle.prisma.credential.upsert({ where: { id: data.id }, create: data, update: { name: 'upserted' } });
    const deleted = await handle.prisma.credential.delete({ where: { id: data.id } });
    expect(sealedKeysOf(upserted)).toEqual([]);
    expect(sealedKeysOf(deleted)).toEqual([]);
    expect(sealedReads(statements)).toEqual([]);
  });

  test('createManyAndReturn returns no sealed field and selects no sealed column', async () => {
    const rows = await handle.prisma.credential.createManyAndReturn({ data: [aCredential('many-1'), aCredential('many-2')] });
    expect(rows.flatMap(sealedKeysOf)).toEqual([]);
    expect(sealedReads(statements)).toEqual([]);
  });

  test('an explicit select of a sealed field (as SecretStore.open does) is visible to the check', async () => {
    // The capture is live: the one deliberate read of sealed columns is seen and flagged.
    const { id } = await handle.prisma.credential.create({ data: aCredential('explicit') });
    statements.length = 0;
    const row = await handle.prisma.credential.findFirst({ where: { id }, select: { secretCiphertext: true, secretKeyId: true } });
    expect(row?.secretKeyId).toBe('test-key');
    expect(
      sealedReads(statements)
        .flatMap((read) => read.columns)
        .sort(),
    ).toEqual(['secret_ciphertext', 'secret_key_id']);
  });
});

describe('every GraphQL credential operation', () => {
  let database: TestDatabase;
  let vault: TestApp;
  let token: string;
  const statements: string[] = [];
  const results: { operation: string; errors: unknown }[] = [];

  async function run(operation: string, query: string, variables: Record<string, unknown>): Promise<Record<string, unknown>> {
    const response = await vault.graphql(query, variables, { token });
    results.push({ operation, errors: response.body.errors });
    return response.body.data ?? {};
  }

  beforeAll(async () => {
    database = await createTestDatabase('sealed_graphql');
    vault = await startTestApp({ databaseUrl: database.url });
    token = anAdmin(vault).token;
    vault.app.database.prisma.$on('query', (event) => {
      statements.push(event.query);
    });

    const created = await run(
      'createCredential',
      `mutation($input: CreateCredentialInput!) { createCredential(input: $input) { ${CREDENTIAL_FIELDS} } }`,
      {
        input: {
          name: 'sealed',
          modelProvider: 'OPENAI',
          auth: { apiKey: { apiKey: 'sk-sealed-canary-0001' } },
          settings: { api_version: 'v1' },
        },
      },
    );
    await run('createCredential (BEDROCK awsRole)', `mutation($input: CreateCredentialInput!) { createCredential(input: $input) { id } }`, {
      input: {
        name: 'role',
        modelProvider: 'BEDROCK',
        auth: { awsRole: { iamRoleArn: 'arn:aws:iam::123456789012:role/vault', externalId: 'ext-0001' } },
      },
    });
    const id = (created.createCredential as { id: string }).id;
    await run('credential', `query($id: ID!) { credential(id: $id) { ${CREDENTIAL_FIELDS} } }`, { id });
    await run(
      'credentials',
      `query { credentials(first: 10) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { ${CREDENTIAL_FIELDS} } } } }`,
      {},
    );
    await run(
      'credentials (by provider)',
      `query { credentials(first: 10, modelProvider: BEDROCK) { totalCount edges { node { id } } } }`,
      {},
    );
    await run(
      'updateCredential',
      `mutation($id: ID!, $input: UpdateCredentialInput!) { updateCredential(id: $id, input: $input) { ${CREDENTIAL_FIELDS} } }`,
      {
        id,
        input: { name: 'renamed', settings: { api_version: 'v2' } },
      },
    );
    await run(
      'updateCredential (rotate)',
      `mutation($id: ID!, $input: UpdateCredentialInput!) { updateCredential(id: $id, input: $input) { ${CREDENTIAL_FIELDS} } }`,
      {
        id,
        input: { auth: { apiKey: { apiKey: 'sk-sealed-canary-0002' } }, expectedSecretVersion: 1 },
      },
    );
    await run('deleteCredential', `mutation($id: ID!) { deleteCredential(id: $id) }`, { id });
  });

  afterAll(async () => {
    await vault?.stop();
    await database?.drop();
  });

  test('all operations succeeded', () => {
    expect(results.filter((result) => result.errors !== undefined)).toEqual([]);
    expect(results).toHaveLength(8);
  });

  test('the statements observed include reads, inserts, updates and deletes of credentials', () => {
    for (const verb of ['SELECT', 'INSERT', 'UPDATE', 'DELETE']) {
      expect(statements.some((sql) => new RegExp(`^\\s*${verb}\\b[\\s\\S]*credentials`, 'i').test(sql))).toBe(true);
    }
  });

  test('the sealed columns were written by create and rotate', () => {
    const writes = statements.filter((sql) => /^\s*(INSERT|UPDATE)\b/i.test(sql) && sql.includes('secret_ciphertext'));
    expect(writes.length).toBeGreaterThanOrEqual(3);
  });

  test('no statement selects or returns a sealed column', () => {
    expect(sealedReads(statements)).toEqual([]);
  });
});

describe('the sealed field names in src/', () => {
  const root = findProjectRoot();
  // The column map, and the secret store that reads, writes and re-wraps through it.
  const ALLOWED = ['src/secrets/sealed-columns.ts', 'src/secrets/secret-store.ts'];
  const NAMES = new RegExp(`\\b(${[...SEALED_FIELDS, ...SEALED_COLUMNS].join('|')})\\b`);

  function sourceFiles(directory: string): string[] {
    return readdirSync(path.join(root, directory), { withFileTypes: true }).flatMap((entry) => {
      const relative = path.posix.join(directory, entry.name);
      if (entry.isDirectory()) return relative === 'src/generated' ? [] : sourceFiles(relative);
      return /\.(ts|js|sql)$/.test(entry.name) ? [relative] : [];
    });
  }

  const mentions = sourceFiles('src').filter((file) => NAMES.test(readFileSync(path.join(root, file), 'utf8')));

  test('appear only in the sealed-column map and the secret store', () => {
    expect(mentions.filter((file) => !ALLOWED.includes(file))).toEqual([]);
  });

  test('do appear where they must (so the search itself works)', () => {
    expect(mentions).toEqual(expect.arrayContaining(ALLOWED));
  });
});
