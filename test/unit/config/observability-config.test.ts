// The settings of metrics, tracing and the KMS deadline: KMS_TIMEOUT_MS (the deadline of every
// Cloud KMS call, 5000 ms unless set), METRICS_PUBLIC (GET /metrics without a token in production;
// off unless set) and OTEL_EXPORTER_OTLP_ENDPOINT (an OTLP/HTTP receiver; unset means no tracing).
// Empty counts as unset; a bad value is named in the ConfigError, with the others.
import { loadConfig } from '../../../src/config/config';
import { otlpTracesUrl } from '../../../src/tracing/otlp-endpoint';
import { CONFIG_TEST_CWD, problemsOf } from '../../support/config-problems';

const CWD = CONFIG_TEST_CWD;

describe('KMS_TIMEOUT_MS', () => {
  test('is 5000 ms by default, as every KMS call had before it was configurable', () => {
    expect(loadConfig({}, CWD).kmsTimeoutMs).toBe(5000);
  });

  test('the empty string counts as unset', () => {
    expect(loadConfig({ KMS_TIMEOUT_MS: ' ' }, CWD).kmsTimeoutMs).toBe(5000);
  });

  test('takes a number of milliseconds', () => {
    expect(loadConfig({ KMS_TIMEOUT_MS: '250' }, CWD).kmsTimeoutMs).toBe(250);
  });

  test.each(['0', '-5', '1.5', '5s', 'soon'])('refuses %p, naming the variable and the value', (text) => {
    expect(problemsOf({ KMS_TIMEOUT_MS: text })).toEqual([`KMS_TIMEOUT_MS must be a positive integer, got "${text}"`]);
  });

  test('refuses a deadline longer than a timer can wait', () => {
    expect(problemsOf({ KMS_TIMEOUT_MS: '9999999999' })).toEqual([
      expect.stringMatching(/^KMS_TIMEOUT_MS must be at most \d+ milliseconds/),
    ]);
  });

  test('is reported together with the other bad variables', () => {
    expect(problemsOf({ KMS_TIMEOUT_MS: 'x', METRICS_PUBLIC: 'maybe', OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toHaveLength(3);
  });
});

describe('METRICS_PUBLIC', () => {
  test('is off by default', () => {
    expect(loadConfig({}, CWD).metricsPublic).toBe(false);
  });

  test.each([
    ['true', true],
    ['TRUE', true],
    ['1', true],
    ['false', false],
    ['0', false],
    [' ', false],
  ])('%p is %s', (text, value) => {
    expect(loadConfig({ METRICS_PUBLIC: text }, CWD).metricsPublic).toBe(value);
  });

  test('refuses anything else, naming the variable', () => {
    expect(problemsOf({ METRICS_PUBLIC: 'yes please' })).toEqual(['METRICS_PUBLIC must be true or false']);
  });
});

describe('OTEL_EXPORTER_OTLP_ENDPOINT', () => {
  test('is unset by default: no tracing', () => {
    expect(loadConfig({}, CWD).otlpEndpoint).toBeUndefined();
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: '' }, CWD).otlpEndpoint).toBeUndefined();
  });

  test('takes the http(s) URL of an OTLP/HTTP receiver', () => {
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, CWD).otlpEndpoint).toBe('http://collector:4318');
  });

  test.each(['collector:4318', 'grpc://collector:4317', 'not a url'])('refuses %p, naming the variable', (text) => {
    expect(problemsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: text })).toEqual([expect.stringContaining('OTEL_EXPORTER_OTLP_ENDPOINT')]);
  });

  test.each([
    ['http://collector:4318', 'http://collector:4318/v1/traces'],
    ['http://collector:4318/', 'http://collector:4318/v1/traces'],
    ['https://otel.example.com/prefix', 'https://otel.example.com/prefix/v1/traces'],
  ])('spans of %p are posted to %p', (endpoint, url) => {
    expect(otlpTracesUrl(endpoint)).toBe(url);
  });
});
