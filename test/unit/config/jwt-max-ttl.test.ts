// JWT_MAX_TTL: the longest token lifetime the service accepts, read by loadConfig as a duration
// (24h, 90m, 3600s, 2d or plain seconds); a bad value is a ConfigError naming the variable.
import { loadConfig } from '../../../src/config/config';
import { CONFIG_TEST_CWD, problemsOf } from '../../support/config-problems';

const CWD = CONFIG_TEST_CWD;

describe('JWT_MAX_TTL', () => {
  test('defaults to a day (86400 seconds)', () => {
    expect(loadConfig({}, CWD).jwt.maxTtlSeconds).toBe(86_400);
  });

  test('the empty string counts as unset', () => {
    expect(loadConfig({ JWT_MAX_TTL: '  ' }, CWD).jwt.maxTtlSeconds).toBe(86_400);
  });

  test.each([
    ['24h', 86_400],
    ['90m', 5_400],
    ['3600s', 3_600],
    ['3600', 3_600],
    ['2d', 172_800],
    ['1H', 3_600],
    [' 45 m ', 2_700],
  ])('%p is %p seconds', (text, seconds) => {
    expect(loadConfig({ JWT_MAX_TTL: text }, CWD).jwt.maxTtlSeconds).toBe(seconds);
  });

  test.each(['0', '0h', '-5m', '1.5h', '24 hours', 'h', '1w', 'forever', '99999999999999999999'])(
    '%p is refused with a problem naming JWT_MAX_TTL',
    (text) => {
      const problems = problemsOf({ JWT_MAX_TTL: text });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^JWT_MAX_TTL must be a positive duration such as 24h, 90m, 3600s/);
    },
  );

  test('is reported together with the other bad variables', () => {
    const problems = problemsOf({ JWT_MAX_TTL: 'soon', PORT: 'eighty' });
    expect(problems.some((problem) => problem.startsWith('JWT_MAX_TTL'))).toBe(true);
    expect(problems.some((problem) => problem.startsWith('PORT'))).toBe(true);
  });
});
