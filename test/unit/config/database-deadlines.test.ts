// DATABASE_CONNECT_TIMEOUT_MS, DATABASE_STATEMENT_TIMEOUT_MS, DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS
// and DATABASE_QUERY_TIMEOUT_MS: how long PostgreSQL may take, read by loadConfig as milliseconds.
// The client-side bound must stay above the server's statement timeout; a bad value is a
// ConfigError naming the variable.
import { loadConfig } from '../../../src/config/config';
import { CONFIG_TEST_CWD, problemsOf } from '../../support/config-problems';

const CWD = CONFIG_TEST_CWD;

const deadlinesOf = (env: Record<string, string>) => loadConfig(env, CWD).databaseDeadlines;

describe('database deadlines', () => {
  test('default to 5 s to connect, 10 s per statement and per idle transaction, 11 s on the client', () => {
    expect(deadlinesOf({})).toEqual({
      connectTimeoutMs: 5000,
      statementTimeoutMs: 10_000,
      idleInTransactionTimeoutMs: 10_000,
      queryTimeoutMs: 11_000,
    });
  });

  test('the empty string counts as unset', () => {
    expect(deadlinesOf({ DATABASE_CONNECT_TIMEOUT_MS: ' ', DATABASE_QUERY_TIMEOUT_MS: '' }).connectTimeoutMs).toBe(5000);
  });

  test('each is read from its variable', () => {
    expect(
      deadlinesOf({
        DATABASE_CONNECT_TIMEOUT_MS: '1500',
        DATABASE_STATEMENT_TIMEOUT_MS: '30000',
        DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '60000',
        DATABASE_QUERY_TIMEOUT_MS: '32000',
      }),
    ).toEqual({ connectTimeoutMs: 1500, statementTimeoutMs: 30_000, idleInTransactionTimeoutMs: 60_000, queryTimeoutMs: 32_000 });
  });

  test('unset, the client-side bound and the idle transaction timeout follow the statement timeout', () => {
    expect(deadlinesOf({ DATABASE_STATEMENT_TIMEOUT_MS: '30000' })).toMatchObject({
      idleInTransactionTimeoutMs: 30_000,
      queryTimeoutMs: 31_000,
    });
  });

  test.each([
    'DATABASE_CONNECT_TIMEOUT_MS',
    'DATABASE_STATEMENT_TIMEOUT_MS',
    'DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS',
    'DATABASE_QUERY_TIMEOUT_MS',
  ])('%s must be a positive integer of milliseconds', (name) => {
    for (const text of ['0', '-5', '1.5', '5s', 'soon']) {
      expect(problemsOf({ [name]: text })).toEqual([`${name} must be a positive integer, got "${text}"`]);
    }
  });

  test('a deadline longer than Node timers and PostgreSQL take (2^31 - 1 ms) is refused', () => {
    expect(problemsOf({ DATABASE_CONNECT_TIMEOUT_MS: '2147483648' })).toEqual([
      'DATABASE_CONNECT_TIMEOUT_MS must be at most 2147483647 milliseconds, got "2147483648"',
    ]);
  });

  test.each(['10000', '9000'])('DATABASE_QUERY_TIMEOUT_MS=%s is refused: it must exceed the statement timeout (10000)', (text) => {
    expect(problemsOf({ DATABASE_QUERY_TIMEOUT_MS: text })).toEqual([
      `DATABASE_QUERY_TIMEOUT_MS (${text}) must be greater than DATABASE_STATEMENT_TIMEOUT_MS (10000), so that a live server's own timeout answers first`,
    ]);
  });

  test('are reported together with the other bad variables', () => {
    const problems = problemsOf({ DATABASE_CONNECT_TIMEOUT_MS: 'never', DATABASE_STATEMENT_TIMEOUT_MS: '0', PORT: 'eighty' });

    expect(problems.map((problem) => problem.split(' ')[0])).toEqual(
      expect.arrayContaining(['DATABASE_CONNECT_TIMEOUT_MS', 'DATABASE_STATEMENT_TIMEOUT_MS', 'PORT']),
    );
  });
});
