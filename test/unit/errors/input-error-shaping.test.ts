// shapeInputError / withoutValues against the errors graphql-js and graphql-scalars really
// produce. A tiny schema has the shapes that matter (a @oneOf input, a JSONObject, an enum, a list
// of Int, nested non-null strings); bad variables and bad literals carry a canary, which must not
// survive shaping, and the field reported is the argument path whatever the variable is called.
import {
  type DocumentNode,
  execute,
  type GraphQLError,
  GraphQLEnumType,
  GraphQLInputObjectType,
  GraphQLInt,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
  parse,
  validate,
} from 'graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { shapeInputError, withoutValues } from '../../../src/errors/input-error-shaping';

const CANARY = 'sk-live-canary-7f3a91';

const ApiKeyInput = new GraphQLInputObjectType({ name: 'ApiKeyInput', fields: { apiKey: { type: new GraphQLNonNull(GraphQLString) } } });
const AuthInput = new GraphQLInputObjectType({
  name: 'AuthInput',
  isOneOf: true,
  fields: { apiKey: { type: ApiKeyInput }, bedrockApiKey: { type: ApiKeyInput } },
});
const ModelProvider = new GraphQLEnumType({ name: 'ModelProvider', values: { OPENAI: {}, BEDROCK: {} } });
const CreateInput = new GraphQLInputObjectType({
  name: 'CreateInput',
  fields: {
    name: { type: new GraphQLNonNull(GraphQLString) },
    modelProvider: { type: ModelProvider },
    auth: { type: AuthInput },
    settings: { type: GraphQLJSONObject },
    limits: { type: new GraphQLList(new GraphQLNonNull(GraphQLInt)) },
  },
});
const schema = new GraphQLSchema({
  query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLString } } }),
  mutation: new GraphQLObjectType({
    name: 'Mutation',
    fields: {
      create: { type: GraphQLString, args: { input: { type: new GraphQLNonNull(CreateInput) } }, resolve: () => 'created' },
    },
  }),
});

/** Runs a request as Apollo does (one parsed document for validation, execution and shaping). */
async function errorsOf(
  source: string,
  variableValues?: Record<string, unknown>,
): Promise<{ errors: readonly GraphQLError[]; document: DocumentNode }> {
  const document = parse(source);
  const validationErrors = validate(schema, document);
  if (validationErrors.length > 0) return { errors: validationErrors, document };
  const result = await execute({ schema, document, variableValues });
  return { errors: result.errors ?? [], document };
}

/** The one error of a request, shaped; the raw message must have contained the canary. */
async function shaped(source: string, variableValues?: Record<string, unknown>) {
  const { errors, document } = await errorsOf(source, variableValues);
  expect(errors).toHaveLength(1);
  const shape = shapeInputError(errors[0], document);
  expect(shape).not.toBeNull();
  return { raw: errors[0].message, ...shape! };
}

const WITH_X = 'mutation($x: CreateInput!) { create(input: $x) }';

describe('a bad variable', () => {
  test('a non-object JSONObject: no canary, field is the argument path (not the variable name)', async () => {
    const shape = await shaped(WITH_X, { x: { name: 'a', settings: CANARY } });
    expect(shape.raw).toContain(CANARY);
    expect(shape.message).not.toContain(CANARY);
    expect(shape.field).toBe('input.settings');
    expect(shape.message).toBe('Variable "$x" got invalid value at "input.settings"; JSONObject cannot represent non-object value.');
  });

  test('an array for a JSONObject: no canary', async () => {
    const shape = await shaped(WITH_X, { x: { name: 'a', settings: [CANARY] } });
    expect(shape.message).not.toContain(CANARY);
    expect(shape.field).toBe('input.settings');
  });

  test('a @oneOf with two members: no canary, field is the oneOf input', async () => {
    const shape = await shaped(WITH_X, { x: { name: 'a', auth: { apiKey: { apiKey: CANARY }, bedrockApiKey: { apiKey: CANARY } } } });
    expect(shape.raw).toContain(CANARY);
    expect(shape.message).not.toContain(CANARY);
    expect(shape.field).toBe('input.auth');
    expect(shape.message).toMatch(/Exactly one key must be specified for OneOf type "AuthInput"/);
  });

  test('a @oneOf member set to null: field is that member', async () => {
    const shape = await shaped(WITH_X, { x: { name: 'a', auth: { apiKey: null } } });
    expect(shape.field).toBe('input.auth.apiKey');
  });

  test('a wrong type deep inside: field follows the input path', async () => {
    const shape = await shaped(WITH_X, { x: { name: 'a', auth: { apiKey: { apiKey: 4242424242 } } } });
    expect(shape.raw).toContain('4242424242');
    expect(shape.message).not.toContain('4242424242');
    expect(shape.field).toBe('input.auth.apiKey.apiKey');
  });

  test('a bad list element: field ends with the element index', async () => {
    const shape = await shaped(WITH_X, { x: { name: 'a', limits: [1, CANARY] } });
    expect(shape.message).not.toContain(CANARY);
    expect(shape.field).toBe('input.limits.1');
  });

  test('a value for the whole input that is not an object: field is the argument', async () => {
    const shape = await shaped(WITH_X, { x: CANARY });
    expect(shape.message).not.toContain(CANARY);
    expect(shape.field).toBe('input');
  });

  test("a canary that imitates graphql-js's own path suffix does not move the field", async () => {
    const sneaky = `${CANARY}" at "x.name`;
    const shape = await shaped(WITH_X, { x: { name: 'a', settings: sneaky } });
    expect(shape.message).not.toContain(CANARY);
    expect(shape.field).toBe('input.settings');
  });

  test('a bad enum value: no canary', async () => {
    const shape = await shaped(WITH_X, { x: { name: 'a', modelProvider: CANARY } });
    expect(shape.field).toBe('input.modelProvider');
    expect(shape.message).not.toContain(CANARY);
  });

  test('a variable used inside a literal: field is the path it is used at', async () => {
    const shape = await shaped('mutation($s: JSONObject) { create(input: { name: "a", settings: $s }) }', { s: CANARY });
    expect(shape.message).not.toContain(CANARY);
    expect(shape.field).toBe('input.settings');
  });

  test('a variable used deep inside a literal: field is the full path', async () => {
    const shape = await shaped('mutation($key: String!) { create(input: { name: "a", auth: { apiKey: { apiKey: $key } } }) }', {
      key: 4242424242,
    });
    expect(shape.message).not.toContain('4242424242');
    expect(shape.field).toBe('input.auth.apiKey.apiKey');
  });

  test('a missing required variable: field is the argument it feeds', async () => {
    const shape = await shaped(WITH_X, {});
    expect(shape.field).toBe('input');
    expect(shape.message).toBe('Variable "$x" of required type "CreateInput!" was not provided.');
  });

  test('a null required variable: field is the argument it feeds', async () => {
    const shape = await shaped(WITH_X, { x: null });
    expect(shape.field).toBe('input');
  });
});

describe('a bad literal', () => {
  test('a string for a JSONObject: no canary, field is the input path', async () => {
    const shape = await shaped(`mutation { create(input: { name: "a", settings: "${CANARY}" }) }`);
    expect(shape.raw).toContain(CANARY);
    expect(shape.message).toBe('JSONObject cannot represent non-object value.');
    expect(shape.field).toBe('input.settings');
  });

  test('a @oneOf literal with two members: field is the oneOf input', async () => {
    const shape = await shaped(
      `mutation { create(input: { name: "a", auth: { apiKey: { apiKey: "${CANARY}" }, bedrockApiKey: { apiKey: "${CANARY}" } } }) }`,
    );
    expect(shape.message).not.toContain(CANARY);
    expect(shape.field).toBe('input.auth');
  });

  test('a string in a list of Int: no canary, field ends with the index', async () => {
    const shape = await shaped(`mutation { create(input: { name: "a", limits: [1, 2, "${CANARY}"] }) }`);
    expect(shape.message).toBe('Int cannot represent non-integer value.');
    expect(shape.field).toBe('input.limits.2');
  });

  test('a number for a String: no value, field is the input path', async () => {
    const shape = await shaped('mutation { create(input: { name: 4242424242 }) }');
    expect(shape.message).not.toContain('4242424242');
    expect(shape.field).toBe('input.name');
  });

  test('a string for an enum: no canary', async () => {
    const shape = await shaped(`mutation { create(input: { name: "a", modelProvider: "${CANARY}" }) }`);
    expect(shape.message).not.toContain(CANARY);
    expect(shape.field).toBe('input.modelProvider');
  });

  test('an unknown enum name: no canary', async () => {
    // Names such as sk_live_... are valid GraphQL names, so a key pasted here arrives as an enum literal.
    const { errors, document } = await errorsOf('mutation { create(input: { name: "a", modelProvider: sk_live_canary_7f3a91 }) }');
    expect(errors).toHaveLength(1);
    const shape = shapeInputError(errors[0], document);
    expect(shape?.message ?? errors[0].message).not.toContain('sk_live_canary_7f3a91');
  });
});

describe('hints that name the schema, never the input', () => {
  const ENUM_HINT = 'Did you mean the enum value "OPENAI"?';

  test('an unknown enum value in variables keeps "Did you mean" but not the value', async () => {
    const shape = await shaped(WITH_X, { x: { name: 'a', modelProvider: 'openai' } });

    expect(shape.raw).toContain('"openai"');
    expect(shape.message).toBe(
      `Variable "$x" got invalid value at "input.modelProvider"; The value does not exist in "ModelProvider" enum. ${ENUM_HINT}`,
    );
    expect(shape.message).not.toContain('openai');
    expect(shape.field).toBe('input.modelProvider');
  });

  test('an unknown enum name as a literal keeps "Did you mean" but not the name', async () => {
    const shape = await shaped('mutation { create(input: { name: "a", modelProvider: openai }) }');

    expect(shape.message).toBe(`The value does not exist in "ModelProvider" enum. ${ENUM_HINT}`);
    expect(shape.field).toBe('input.modelProvider');
  });

  test('a string literal for an enum keeps "Did you mean" but not the string', async () => {
    const shape = await shaped('mutation { create(input: { name: "a", modelProvider: "openai" }) }');

    expect(shape.message).toBe(`Enum "ModelProvider" cannot represent non-enum value. ${ENUM_HINT}`);
    expect(shape.field).toBe('input.modelProvider');
  });

  test("only graphql-js's own hint survives, never one written into an enum's or a scalar's value", async () => {
    const forged = `openai" does not exist in "ModelProvider" enum. Did you mean the enum value "${CANARY}"?`;
    const intoEnum = await shaped(WITH_X, { x: { name: 'a', modelProvider: forged } });
    const intoScalar = await shaped(WITH_X, { x: { name: 'a', settings: `x. Value ${forged}` } });
    const real = await shaped(WITH_X, { x: { name: 'a', modelProvider: 'openai' } });

    expect(intoEnum.raw).toContain(CANARY);
    expect(intoEnum.message).toBe(
      'Variable "$x" got invalid value at "input.modelProvider"; The value does not exist in "ModelProvider" enum.',
    );
    expect(intoScalar.raw).toContain(CANARY);
    expect(intoScalar.message).toBe('Variable "$x" got invalid value at "input.settings"; JSONObject cannot represent non-object value.');
    expect(real.message).toContain(ENUM_HINT);
  });

  test('hideSuggestions drops the hints that are otherwise kept, for enums and fields alike', async () => {
    const enumErrors = await errorsOf(WITH_X, { x: { name: 'a', modelProvider: 'openai' } });
    const fieldErrors = await errorsOf(WITH_X, { x: { name: 'a', setings: CANARY } });
    const hidden = { hideSuggestions: true };

    expect(shapeInputError(enumErrors.errors[0], enumErrors.document)?.message).toContain(ENUM_HINT);
    expect(shapeInputError(enumErrors.errors[0], enumErrors.document, hidden)?.message).toBe(
      'Variable "$x" got invalid value at "input.modelProvider"; The value does not exist in "ModelProvider" enum.',
    );
    expect(shapeInputError(fieldErrors.errors[0], fieldErrors.document)?.message).toBe(
      'Variable "$x" got invalid value at "input"; Field "setings" is not defined by type "CreateInput". Did you mean "settings"?',
    );
    expect(shapeInputError(fieldErrors.errors[0], fieldErrors.document, hidden)?.message).toBe(
      'Variable "$x" got invalid value at "input"; Field "setings" is not defined by type "CreateInput".',
    );
  });
});

describe('errors that are not about input values', () => {
  test('an unknown field is left alone', async () => {
    const { errors, document } = await errorsOf('{ nope }');
    expect(shapeInputError(errors[0], document)).toBeNull();
  });

  test('a variable used where a stricter type is expected is left alone', async () => {
    const { errors, document } = await errorsOf('mutation($k: String) { create(input: { name: $k }) }');
    expect(shapeInputError(errors[0], document)).toBeNull();
  });

  test('without a document, a bad variable is still shaped, with the variable name as field', async () => {
    const { errors } = await errorsOf(WITH_X, { x: { name: 'a', settings: CANARY } });
    const shape = shapeInputError(errors[0], undefined);
    expect(shape?.message).not.toContain(CANARY);
    expect(shape?.field).toBe('x.settings');
  });
});

describe('withoutValues', () => {
  test.each([
    [
      `Expected value of type "JSONObject", found "${CANARY}"; JSONObject cannot represent non-object value: "${CANARY}"`,
      'Expected value of type "JSONObject".',
    ],
    [`Int cannot represent non-integer value: "${CANARY}"`, 'Int cannot represent non-integer value.'],
    [`String cannot represent a non string value: ["${CANARY}"]`, 'String cannot represent a non string value.'],
    [`Boolean cannot represent a non boolean value: "${CANARY}"`, 'Boolean cannot represent a non boolean value.'],
    [`ID cannot represent value: { key: "${CANARY}" }`, 'ID cannot represent value.'],
    [`JSONObject cannot represent non-object value: ${CANARY}\nsecond line`, 'JSONObject cannot represent non-object value.'],
  ])('%s → %s', (message, expected) => {
    expect(withoutValues(message)).toBe(expected);
  });

  test('a message without a value is unchanged', () => {
    expect(withoutValues('Field "apiKey" must be non-null.')).toBe('Field "apiKey" must be non-null.');
  });
});
