import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildSchema, isInputObjectType, printSchema } from 'graphql';
import { printServedSchema } from '../../../src/cli/print-schema';

const committed = readFileSync(path.resolve(__dirname, '../../../schema.graphql'), 'utf8');

test('schema.graphql is exactly what the server serves (run `npm run schema:print` after a schema change)', async () => {
  expect(committed).toBe(await printServedSchema());
});

test('schema.graphql rebuilds and prints back to itself', () => {
  expect(`${printSchema(buildSchema(committed))}\n`).toBe(committed);
});

test('CredentialAuthInput is declared @oneOf in schema.graphql', () => {
  const type = buildSchema(committed).getType('CredentialAuthInput');
  expect(isInputObjectType(type) && type.isOneOf).toBe(true);
  expect(committed).toMatch(/input CredentialAuthInput @oneOf \{/);
});
