import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { startTestApp, type TestApp } from '../support/test-app';

let database: TestDatabase;
let vault: TestApp;

beforeAll(async () => {
  database = await createTestDatabase('smoke');
  vault = await startTestApp({ databaseUrl: database.url });
});

afterAll(async () => {
  await vault?.stop();
  await database?.drop();
});

test('an admin creates a credential and reads it back', async () => {
  const token = vault.token({ orgId: randomUUID() });
  const created = await vault.graphql<{ createCredential: { id: string } }>(
    'mutation($input: CreateCredentialInput!) { createCredential(input: $input) { id } }',
    { input: { name: 'a', modelProvider: 'OPENAI', auth: { apiKey: { apiKey: 'sk-0123456789' } } } },
    { token },
  );
  expect(created.body.errors).toBeUndefined();
  const id = created.body.data!.createCredential.id;
  const read = await vault.graphql<{ credential: { name: string } }>('query($id: ID!) { credential(id: $id) { name } }', { id }, { token });
  expect(read.body.data!.credential.name).toBe('a');
});
