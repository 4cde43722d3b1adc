// The operation limits as validation rules over the served schema: how cost is estimated (page
// sizes from literals, defaults and variables), how fragments count, which mutations count as
// validation mutations, and how graphql-js's token limit becomes a coded error.
import { type GraphQLError, type GraphQLSchema, isObjectType, parse, validate } from 'graphql';
import { QueryTooComplexError } from '../../../src/errors/app-error';
import { MAX_PAGE_SIZE } from '../../../src/pagination/page-cursor';
import {
  OPERATION_LIMIT_DEFAULTS,
  operationLimitRules,
  type OperationLimits,
  operationParseOptions,
  tokenLimitErrorOf,
  VALIDATION_MUTATIONS,
} from '../../../src/request-guards/operation-limits';
import { createSchema } from '../../../src/schema';
import { thrownBy } from '../../support/failures';

let schema: GraphQLSchema;

beforeAll(async () => {
  schema = await createSchema();
});

/** What the limit rules report for `source` under `limits` (the defaults, with overrides). */
function refusals(source: string, limits: Partial<OperationLimits> = {}): { limit: unknown; max: unknown; message: string }[] {
  const errors: readonly GraphQLError[] = validate(schema, parse(source), operationLimitRules({ ...OPERATION_LIMIT_DEFAULTS, ...limits }));
  return errors.map((error) => {
    expect(error).toBeInstanceOf(QueryTooComplexError);
    return { limit: error.extensions.limit, max: error.extensions.max, message: error.message };
  });
}

/** The estimated cost of `source`, read back from the cost limit's refusal at a limit of 1. */
function costOf(source: string): number {
  const refusal = refusals(source, { maxCost: 1, maxDepth: 1000, maxAliases: 1000 }).find((candidate) => candidate.limit === 'cost');
  if (!refusal) return 1;
  return Number(/estimated cost (\d+)/.exec(refusal.message)?.[1]);
}

describe('cost', () => {
  test('one per field, and one per field of every item of a page: first: 10 of three fields costs 32', () => {
    // credentials (1) + edges (1) + 10 × (node + id + name)
    expect(costOf('{ credentials(first: 10) { edges { node { id name } } } }')).toBe(32);
  });

  test('fields outside the list (totalCount, pageInfo) are counted once', () => {
    expect(costOf('{ credentials(first: 10) { totalCount pageInfo { hasNextPage } edges { node { id name } } } }')).toBe(32 + 3);
  });

  test('first left out counts as the argument’s default page (50)', () => {
    expect(costOf('{ credentials { edges { node { id name } } } }')).toBe(2 + 50 * 3);
  });

  test(`first from a variable counts as the largest page (${MAX_PAGE_SIZE}), whatever value the request carries`, () => {
    expect(costOf('query ($n: Int) { credentials(first: $n) { edges { node { id name } } } }')).toBe(2 + MAX_PAGE_SIZE * 3);
  });

  test(`a literal first above ${MAX_PAGE_SIZE} counts as ${MAX_PAGE_SIZE} (the service caps it), and first: 0 as no items`, () => {
    expect(costOf('{ credentials(first: 1000) { edges { node { id name } } } }')).toBe(2 + MAX_PAGE_SIZE * 3);
    expect(costOf('{ credentials(first: 0) { edges { node { id name } } } }')).toBe(2);
  });

  test('pages inside pages multiply: each provider of a page counts its credential’s fields', () => {
    // credentials(first: 10): 2 + 10 × (node + providers + credential + id) — providers has no page size: one item.
    expect(costOf('{ credentials(first: 10) { edges { node { providers { credential { id } } } } } }')).toBe(2 + 10 * 4);
  });

  test('named and inline fragments cost what their fields cost where they are spread', () => {
    const direct = costOf('{ credentials(first: 10) { edges { node { id name } } } }');

    expect(costOf('{ credentials(first: 10) { ...Page } } fragment Page on CredentialConnection { edges { node { id name } } }')).toBe(
      direct,
    );
    expect(costOf('{ credentials(first: 10) { edges { node { ... on Credential { id name } } } } }')).toBe(direct);
  });

  test('aliases repeat the cost: the 1,000-alias bomb costs a thousand pages', () => {
    const page = 'credentials(first: 100) { edges { node { id name } } }';
    const aliases = Array.from({ length: 1000 }, (_, index) => `a${index}: ${page}`).join(' ');

    expect(costOf(`{ ${aliases} }`)).toBe(1000 * costOf(`{ ${page} }`));
  });

  test('fragments that spread each other twice over, 40 levels deep, are costed once each (no exponential walk)', () => {
    const levels = 40;
    const fragments = Array.from({ length: levels }, (_, index) => `fragment F${index} on Query { ...F${index + 1} ...F${index + 1} }`);
    const source = `{ ...F0 } ${fragments.join(' ')} fragment F${levels} on Query { __typename }`;

    expect(refusals(source).map((refusal) => refusal.limit)).toEqual(['cost']);
  });

  test('a fragment cycle ends the walk (graphql-js reports the cycle itself)', () => {
    expect(refusals('{ ...A } fragment A on Query { __typename ...B } fragment B on Query { ...A }')).toEqual([]);
  });
});

describe('validation mutations', () => {
  const validation = (alias: string) => `${alias}: validateAwsRole(input: { credentialId: "c" }) { ok }`;

  test('aliases, inline fragments and named fragments all count', () => {
    const source = `mutation { ${validation('a')} ... on Mutation { ${validation('b')} } ...More }
      fragment More on Mutation { ${validation('c')} ${validation('d')} }`;

    expect(refusals(source)).toEqual([
      {
        limit: 'validationMutations',
        max: 3,
        message: 'The operation exceeds the validation mutation limit of 3 (4 validation mutations).',
      },
    ]);
  });

  test('three are allowed', () => {
    expect(refusals(`mutation { ${validation('a')} ${validation('b')} ${validation('c')} }`)).toEqual([]);
  });

  test('every mutation of the schema whose name starts with "validate" is counted as one', () => {
    const mutation = schema.getMutationType();
    const validating = isObjectType(mutation) ? Object.keys(mutation.getFields()).filter((name) => name.startsWith('validate')) : [];

    expect([...VALIDATION_MUTATIONS].sort()).toEqual(validating.sort());
  });
});

describe('depth, aliases and directives (GraphQL Armor)', () => {
  test('fragments add no level of depth', () => {
    const source = '{ credentials { ...Edges } } fragment Edges on CredentialConnection { edges { node { id } } }';

    expect(refusals(source, { maxDepth: 4 })).toEqual([]);
    expect(refusals(source, { maxDepth: 3 })).toEqual([{ limit: 'depth', max: 3, message: expect.stringContaining('depth limit of 3') }]);
  });

  test('aliases of __typename are free', () => {
    const typenames = Array.from({ length: 20 }, (_, index) => `t${index}: __typename`).join(' ');

    expect(refusals(`{ ${typenames} }`)).toEqual([]);
  });

  test('directives in fragments count', () => {
    const source = '{ ...A } fragment A on Query { a: __typename @skip(if: false) b: __typename @include(if: true) }';

    expect(refusals(source, { maxDirectives: 1 })).toEqual([
      { limit: 'directives', max: 1, message: 'The operation exceeds the directive limit of 1 (2 directives).' },
    ]);
  });
});

describe('tokens (graphql-js)', () => {
  test("graphql-js's parse error past the limit becomes QUERY_TOO_COMPLEX for the token limit", () => {
    const error = thrownBy(() => parse('{ a b c d e f }', operationParseOptions({ ...OPERATION_LIMIT_DEFAULTS, maxTokens: 5 })));

    const refusal = tokenLimitErrorOf(error);

    expect(refusal).toBeInstanceOf(QueryTooComplexError);
    expect(refusal?.toExtensions()).toEqual({ code: 'QUERY_TOO_COMPLEX', limit: 'tokens', max: 5 });
    expect(refusal?.message).toBe('The operation exceeds the token limit of 5.');
  });

  test('other syntax errors are left alone', () => {
    expect(tokenLimitErrorOf(thrownBy(() => parse('{ a ')))).toBeUndefined();
  });
});
