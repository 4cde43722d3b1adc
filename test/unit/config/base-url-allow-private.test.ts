// BASE_URL_ALLOW_PRIVATE: whether credentials' base URLs may use plain http and point at loopback,
// private or link-local hosts. Off unless set; empty counts as unset; a bad value is named in the
// ConfigError. An operator's choice, so production does not refuse it.
import { loadConfig } from '../../../src/config/config';
import { CONFIG_TEST_CWD, problemsOf } from '../../support/config-problems';

const CWD = CONFIG_TEST_CWD;
const PRODUCTION = {
  NODE_ENV: 'production',
  JWT_SECRET: 'a-jwt-secret-that-is-long-enough-0123456789',
  KMS_KEY_NAME: 'projects/p/locations/global/keyRings/r/cryptoKeys/k',
  DATABASE_URL: 'postgresql://vault@db.internal:5432/vault',
};

describe('BASE_URL_ALLOW_PRIVATE', () => {
  test('is off by default', () => {
    expect(loadConfig({}, CWD).baseUrlAllowPrivate).toBe(false);
  });

  test('the empty string counts as unset', () => {
    expect(loadConfig({ BASE_URL_ALLOW_PRIVATE: ' ' }, CWD).baseUrlAllowPrivate).toBe(false);
  });

  test.each([
    ['true', true],
    ['TRUE', true],
    ['1', true],
    ['false', false],
    ['0', false],
  ])('%s is %s', (text, value) => {
    expect(loadConfig({ BASE_URL_ALLOW_PRIVATE: text }, CWD).baseUrlAllowPrivate).toBe(value);
  });

  test('another value is a ConfigError naming the variable', () => {
    expect(problemsOf({ BASE_URL_ALLOW_PRIVATE: 'sometimes' })).toEqual(['BASE_URL_ALLOW_PRIVATE must be true or false']);
  });

  test('is independent of OUTBOUND_ALLOW_PRIVATE', () => {
    expect(loadConfig({ OUTBOUND_ALLOW_PRIVATE: 'true' }, CWD).baseUrlAllowPrivate).toBe(false);
    expect(loadConfig({ BASE_URL_ALLOW_PRIVATE: 'true' }, CWD).outboundAllowPrivate).toBe(false);
  });

  test('is accepted in production: model servers inside the gateway network are an operator decision', () => {
    expect(loadConfig({ ...PRODUCTION, BASE_URL_ALLOW_PRIVATE: 'true' }, CWD).baseUrlAllowPrivate).toBe(true);
  });
});
