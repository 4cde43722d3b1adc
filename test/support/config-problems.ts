// The problems a ConfigError lists for an environment, for the configuration tests: loadConfig
// reports every bad variable at once, and tests compare that list.
import { ConfigError, loadConfig } from '../../src/config/config';

/** The working directory the configuration tests resolve DATA_DIR against. */
export const CONFIG_TEST_CWD = '/srv/vault';

/** What loadConfig refuses `env` for; fails the test when it accepts it. */
export function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env, CONFIG_TEST_CWD);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}
