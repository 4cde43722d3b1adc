// CORS_ORIGINS: the exact origins whose pages may call the API. Unset or blank means none (CORS
// off); each entry must be an origin written as browsers send it in the Origin header, and an
// entry that is not is named in the ConfigError with what to write instead.
import { loadConfig } from '../../../src/config/config';
import { CONFIG_TEST_CWD, problemsOf } from '../../support/config-problems';

const CWD = CONFIG_TEST_CWD;

describe('CORS_ORIGINS', () => {
  test('is empty by default: no origin may call the API from a page', () => {
    expect(loadConfig({}, CWD).corsOrigins).toEqual([]);
  });

  test('the empty string, blanks and lone commas count as unset', () => {
    expect(loadConfig({ CORS_ORIGINS: '' }, CWD).corsOrigins).toEqual([]);
    expect(loadConfig({ CORS_ORIGINS: '  ' }, CWD).corsOrigins).toEqual([]);
    expect(loadConfig({ CORS_ORIGINS: ' , ' }, CWD).corsOrigins).toEqual([]);
  });

  test('takes comma-separated origins, trimmed, in order, each once', () => {
    const origins = 'https://portal.example.com, http://localhost:5173 ,http://127.0.0.1:8080,https://portal.example.com';

    expect(loadConfig({ CORS_ORIGINS: origins }, CWD).corsOrigins).toEqual([
      'https://portal.example.com',
      'http://localhost:5173',
      'http://127.0.0.1:8080',
    ]);
  });

  test('takes IPv6 and non-default ports as browsers write them', () => {
    expect(loadConfig({ CORS_ORIGINS: 'http://[::1]:5173,https://portal.example.com:8443' }, CWD).corsOrigins).toEqual([
      'http://[::1]:5173',
      'https://portal.example.com:8443',
    ]);
  });

  test.each([
    ['*', /^CORS_ORIGINS: "\*" is a wildcard, which is refused/],
    ['https://*.example.com', /^CORS_ORIGINS: "https:\/\/\*\.example\.com" is a wildcard, which is refused/],
    ['null', /^CORS_ORIGINS: "null" is refused/],
    ['portal.example.com', /^CORS_ORIGINS: "portal\.example\.com" is not an origin such as https:\/\/portal\.example\.com$/],
    ['ftp://portal.example.com', /must be an http or https origin/],
    ['https://user:pass@portal.example.com', /must not carry a user name or password$/],
  ])('refuses %p', (origin, problem) => {
    expect(problemsOf({ CORS_ORIGINS: origin })).toEqual([expect.stringMatching(problem)]);
  });

  test.each([
    ['https://portal.example.com/', 'https://portal.example.com'],
    ['https://portal.example.com/admin', 'https://portal.example.com'],
    ['https://portal.example.com?x=1', 'https://portal.example.com'],
    ['https://portal.example.com#top', 'https://portal.example.com'],
  ])('refuses %p, which has a path, query or fragment, naming the origin to write instead', (origin, instead) => {
    expect(problemsOf({ CORS_ORIGINS: origin })).toEqual([
      `CORS_ORIGINS: "${origin}" has a path, query or fragment; an origin is scheme, host and port only: "${instead}"`,
    ]);
  });

  test.each([
    ['https://Portal.Example.com', 'https://portal.example.com'],
    ['HTTPS://portal.example.com', 'https://portal.example.com'],
    ['https://portal.example.com:443', 'https://portal.example.com'],
    ['http://localhost:80', 'http://localhost'],
  ])('refuses %p, which a browser never sends, naming how it writes it', (origin, instead) => {
    expect(problemsOf({ CORS_ORIGINS: origin })).toEqual([
      `CORS_ORIGINS: "${origin}" is not written as browsers send it (lower case, no default port): "${instead}"`,
    ]);
  });

  test('names every bad entry at once, with the other bad variables', () => {
    expect(problemsOf({ CORS_ORIGINS: 'https://ok.example.com,*,https://bad.example.com/', PORT: 'x' })).toEqual([
      expect.stringMatching(/^PORT must be a port number/),
      expect.stringMatching(/^CORS_ORIGINS: "\*"/),
      expect.stringMatching(/^CORS_ORIGINS: "https:\/\/bad\.example\.com\/"/),
    ]);
  });
});
