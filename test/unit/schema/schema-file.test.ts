import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { buildSchema, isInputObjectType, isObjectType, parse } from 'graphql';
import { printServedSchema } from '../../../src/cli/print-schema';

const committed = readFileSync(path.resolve(__dirname, '../../../schema.graphql'), 'utf8');

test('schema.graphql is exactly what the server serves (run `npm run schema:print` after a schema change)', async () => {
  expect(committed).toBe(await printServedSchema());
});

test('schema.graphql builds as a schema and as a Federation 2 subgraph', () => {
  expect(() => buildSchema(committed)).not.toThrow();
  expect(() => buildSubgraphSchema({ typeDefs: parse(committed) })).not.toThrow();
  expect(committed).toMatch(/@link\(url: "https:\/\/specs\.apollo\.dev\/federation\/v2\.\d+"/);
});

test('CredentialAuthInput is declared @oneOf in schema.graphql', () => {
  const type = buildSchema(committed).getType('CredentialAuthInput');
  expect(isInputObjectType(type) && type.isOneOf).toBe(true);
});

test.each(['Credential', 'Provider'])('%s is an entity keyed by id', (typeName) => {
  expect(committed).toMatch(new RegExp(`type ${typeName}\\s+@key\\(fields: "id"\\)`));
});

test.each([
  'PageInfo',
  'CredentialConnection',
  'CredentialEdge',
  'ProviderConnection',
  'ProviderEdge',
  'AuditEventConnection',
  'AuditEventEdge',
])('%s is a shareable value type, as every Relay-style subgraph defines its own', (typeName) => {
  expect(committed).toMatch(new RegExp(`type ${typeName}\\s+@shareable\\s*\\{`));
});

test("PageInfo has the four fields of Relay's specification, which a neighbour's PageInfo declares too", () => {
  const type = buildSchema(committed).getType('PageInfo');
  const fields = isObjectType(type) ? Object.values(type.getFields()) : [];
  expect(Object.fromEntries(fields.map((field) => [field.name, String(field.type)]))).toEqual({
    hasNextPage: 'Boolean!',
    hasPreviousPage: 'Boolean!',
    startCursor: 'String',
    endCursor: 'String',
  });
});
