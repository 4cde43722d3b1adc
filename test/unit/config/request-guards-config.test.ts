// loadConfig's share of the request guards: GRAPHQL_MAX_* (positive integers, each naming itself
// when it is not one, all at once) and SUBGRAPH_SDL_PUBLIC (true or false, off by default).
import { ConfigError, loadConfig } from '../../../src/config/config';
import { OPERATION_LIMIT_DEFAULTS } from '../../../src/request-guards/operation-limits';
import { thrownBy } from '../../support/failures';

const VARIABLES = {
  GRAPHQL_MAX_DEPTH: 'maxDepth',
  GRAPHQL_MAX_ALIASES: 'maxAliases',
  GRAPHQL_MAX_COST: 'maxCost',
  GRAPHQL_MAX_TOKENS: 'maxTokens',
  GRAPHQL_MAX_DIRECTIVES: 'maxDirectives',
  GRAPHQL_MAX_VALIDATION_MUTATIONS: 'maxValidationMutations',
} as const;

describe('GRAPHQL_MAX_*', () => {
  test('unset: depth 8, aliases 15, cost 5,000, tokens 1,000, directives 10, validation mutations 3', () => {
    expect(loadConfig({}).operationLimits).toEqual({
      maxDepth: 8,
      maxAliases: 15,
      maxCost: 5000,
      maxTokens: 1000,
      maxDirectives: 10,
      maxValidationMutations: 3,
    });
    expect(OPERATION_LIMIT_DEFAULTS).toEqual(loadConfig({}).operationLimits);
  });

  test.each(Object.entries(VARIABLES))('%s sets %s', (variable, key) => {
    expect(loadConfig({ [variable]: '42' }).operationLimits[key]).toBe(42);
  });

  test('an empty value counts as unset', () => {
    expect(loadConfig({ GRAPHQL_MAX_DEPTH: '', GRAPHQL_MAX_COST: ' ' }).operationLimits).toEqual(OPERATION_LIMIT_DEFAULTS);
  });

  test('values that are not positive integers are each named, all in one error', () => {
    const error = thrownBy(
      () =>
        loadConfig({
          GRAPHQL_MAX_DEPTH: '0',
          GRAPHQL_MAX_ALIASES: '-1',
          GRAPHQL_MAX_COST: 'lots',
          GRAPHQL_MAX_TOKENS: '1.5',
          GRAPHQL_MAX_DIRECTIVES: '1e3',
          GRAPHQL_MAX_VALIDATION_MUTATIONS: '99999999999999999999',
        }),
      ConfigError,
    );

    expect(error.problems).toEqual([
      'GRAPHQL_MAX_DEPTH must be a positive integer, got "0"',
      'GRAPHQL_MAX_ALIASES must be a positive integer, got "-1"',
      'GRAPHQL_MAX_COST must be a positive integer, got "lots"',
      'GRAPHQL_MAX_TOKENS must be a positive integer, got "1.5"',
      'GRAPHQL_MAX_DIRECTIVES must be a positive integer, got "1e3"',
      'GRAPHQL_MAX_VALIDATION_MUTATIONS must be a positive integer, got "99999999999999999999"',
    ]);
  });
});

describe('SUBGRAPH_SDL_PUBLIC', () => {
  test('unset: false', () => {
    expect(loadConfig({}).subgraphSdlPublic).toBe(false);
  });

  test.each([
    ['true', true],
    ['TRUE', true],
    ['1', true],
    ['false', false],
    ['0', false],
  ])('%s reads as %s', (value, expected) => {
    expect(loadConfig({ SUBGRAPH_SDL_PUBLIC: value }).subgraphSdlPublic).toBe(expected);
  });

  test('anything else is refused by name', () => {
    expect(thrownBy(() => loadConfig({ SUBGRAPH_SDL_PUBLIC: 'yes' }), ConfigError).problems).toEqual([
      'SUBGRAPH_SDL_PUBLIC must be true or false',
    ]);
  });
});
