// Where a base URL may point: the gateway sends the credential there, so only public https hosts
// are accepted, in every spelling of an address; no secret may ride in the query; a host must not
// imitate another. BASE_URL_ALLOW_PRIVATE (allowPrivate) lifts only the https and address rules.
import { BadUserInputError } from '../../../src/errors/app-error';
import { checkBaseUrl } from '../../../src/fields/field-checks';
import { thrownBy } from '../../support/failures';

const STRICT = { allowPrivate: false };
const PERMISSIVE = { allowPrivate: true };

function refusal(url: string, policy = STRICT): BadUserInputError {
  const error = thrownBy(() => checkBaseUrl('input.baseUrl', url, policy), BadUserInputError);
  expect(error.field).toBe('input.baseUrl');
  expect(error.message).not.toContain(url);
  return error;
}

describe('accepted', () => {
  test.each([
    'https://api.openai.com/v1',
    'https://vault-test.openai.azure.com/openai',
    'https://example.com/v1?api-version=2024-02-01',
    'https://example.com/v1?apiVersion=2024-02-01&deployment=gpt-4o',
    'https://bedrock-runtime.eu-west-1.amazonaws.com',
    'https://europe-west4-aiplatform.googleapis.com',
    'https://8.8.8.8/v1',
    'https://[2606:4700:4700::1111]/v1',
    'https://api.example.com:8443/v1',
    'https://b\u00fccher.example/v1',
    'https://xn--bcher-kva.example/v1',
    'https://\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444/v1',
    'https://\u4f8b\u3048.jp/v1',
    'https://\u4f8b\u3048.\u30c6\u30b9\u30c8/v1',
    'https://x.test',
  ])('%s', (url) => {
    expect(checkBaseUrl('input.baseUrl', url, STRICT)).toBe(url);
  });

  test('the policy defaults to strict', () => {
    expect(() => checkBaseUrl('input.baseUrl', 'http://api.example.com')).toThrow(BadUserInputError);
  });
});

describe('plain http', () => {
  test.each(['http://api.openai.com/v1', 'http://8.8.8.8/v1', 'HTTP://API.OPENAI.COM/v1'])('%s is refused, saying why', (url) => {
    expect(refusal(url).message).toBe(
      'baseUrl must use https: the gateway sends the credential to this address, and plain http would expose it on the network.',
    );
  });
});

describe('loopback, private, link-local and metadata targets, in every spelling', () => {
  test.each([
    ['loopback', 'https://127.0.0.1/v1'],
    ['short loopback', 'https://127.1/v1'],
    ['loopback as one decimal number', 'https://2130706433/v1'],
    ['loopback in hex', 'https://0x7f.1/v1'],
    ['loopback in hex, all four parts', 'https://0x7f.0x0.0x0.0x1/v1'],
    ['loopback in octal', 'https://0177.0.0.1/v1'],
    ['loopback with a trailing dot', 'https://127.0.0.1./v1'],
    ['other loopback', 'https://127.53.0.9/v1'],
    ['IPv6 loopback', 'https://[::1]/v1'],
    ['IPv6 loopback, long form', 'https://[0:0:0:0:0:0:0:1]/v1'],
    ['IPv4-mapped loopback', 'https://[::ffff:127.0.0.1]/v1'],
    ['IPv4-mapped loopback in hex', 'https://[::ffff:7f00:1]/v1'],
    ['unspecified', 'https://0.0.0.0/v1'],
    ['unspecified as 0', 'https://0/v1'],
    ['IPv6 unspecified', 'https://[::]/v1'],
    ['private 10/8', 'https://10.0.0.5/v1'],
    ['private 172.16/12', 'https://172.16.3.4/v1'],
    ['private 192.168/16', 'https://192.168.1.10/v1'],
    ['private as a decimal number', 'https://167772165/v1'],
    ['carrier-grade NAT', 'https://100.64.0.1/v1'],
    ['unique local IPv6', 'https://[fd00::1]/v1'],
    ['IPv6 link-local', 'https://[fe80::1]/v1'],
    ['link-local', 'https://169.254.10.10/v1'],
    ['cloud metadata', 'https://169.254.169.254/latest/meta-data/'],
    ['cloud metadata as a decimal number', 'https://2852039166/'],
    ['cloud metadata IPv4-mapped', 'https://[::ffff:169.254.169.254]/'],
    ['AWS metadata over IPv6', 'https://[fd00:ec2::254]/'],
    ['metadata.google.internal', 'https://metadata.google.internal/computeMetadata/v1/'],
    ['metadata.google.internal with a trailing dot', 'https://metadata.google.internal./computeMetadata/v1/'],
    ['metadata, upper case', 'https://METADATA.GOOGLE.INTERNAL/'],
    ['metadata.goog', 'https://metadata.goog/'],
    ['the bare name metadata', 'https://metadata/'],
    ['instance-data.ec2.internal', 'https://instance-data.ec2.internal/'],
    ['localhost', 'https://localhost:8080/v1'],
    ['localhost with a trailing dot', 'https://localhost./v1'],
    ['LOCALHOST', 'https://LOCALHOST/v1'],
    ['a name under .localhost', 'https://api.localhost/v1'],
    ['a name under .internal', 'https://llm.corp.internal/v1'],
    ['a name under .local', 'https://vllm.local/v1'],
    ['a name under .home.arpa', 'https://nas.home.arpa/v1'],
    ['a single-label name', 'https://intranet-proxy/v1'],
    ['multicast', 'https://224.0.0.1/'],
    ['broadcast', 'https://255.255.255.255/'],
  ])('%s is refused, saying why', (_label, url) => {
    expect(refusal(url).message).toBe(
      'baseUrl must point at a public host: the gateway sends the credential to this address, and loopback, private, link-local and cloud metadata addresses reach into the network the gateway runs in.',
    );
  });

  test.each(['http://127.0.0.1:8080/v1', 'http://localhost:11434/v1', 'https://[::1]/v1', 'http://10.0.0.5/v1', 'https://vllm.local/v1'])(
    '%s is accepted with allowPrivate (BASE_URL_ALLOW_PRIVATE)',
    (url) => {
      expect(checkBaseUrl('input.baseUrl', url, PERMISSIVE)).toBe(url);
    },
  );
});

describe('a secret in the query', () => {
  test.each([
    'https://api.example.com/v1?api_key=canary-0123456789',
    'https://api.example.com/v1?key=canary-0123456789',
    'https://api.example.com/v1?token=canary-0123456789',
    'https://api.example.com/v1?access_token=canary-0123456789',
    'https://api.example.com/v1?apiKey=canary-0123456789',
    'https://api.example.com/v1?X-Api-Key=canary-0123456789',
    'https://api.example.com/v1?api%5Fkey=canary-0123456789',
    'https://api.example.com/v1?password=canary-0123456789',
    'https://api.example.com/v1?sig=canary-0123456789&sv=2024-01-01',
    'https://api.example.com/v1?X-Amz-Security-Token=canary-0123456789',
    'https://api.example.com/v1?X-Amz-Credential=canary-0123456789',
    'https://api.example.com/v1?api-version=2024-02-01&api-key=canary-0123456789',
    'https://api.example.com/v1?ap\u0456_key=canary-0123456789',
  ])('%s is refused without repeating the value', (url) => {
    const error = refusal(url);
    expect(error.message).toMatch(/must not carry a secret in its query/);
    expect(error.message).not.toContain('canary');
  });

  test('is refused with allowPrivate too', () => {
    expect(refusal('http://127.0.0.1:8080/v1?api_key=canary-0123456789', PERMISSIVE).message).toMatch(/must not carry a secret/);
  });

  test('user and password stay refused with allowPrivate', () => {
    expect(refusal('http://user:canary@127.0.0.1:8080/v1', PERMISSIVE).message).toMatch(/user name or password/);
  });
});

describe('hosts that imitate another', () => {
  test.each([
    ['a Cyrillic a among Latin letters', 'https://\u0430pi.openai.com/v1'],
    ['a Cyrillic o in a Latin name', 'https://g\u043e\u043egle.com/v1'],
    ['a Greek omicron in a Latin name', 'https://api.\u03bfpenai.com/v1'],
    ['its punycode form', 'https://xn--pple-43d.com/v1'],
    ['a Cyrillic label beside a Latin one', 'https://\u043f\u0440\u0438\u043c\u0435\u0440.com/v1'],
  ])('%s is refused: mixed scripts', (_label, url) => {
    expect(refusal(url).message).toMatch(/mixes writing systems/);
  });

  test.each([
    ['Cyrillic letters that spell apple', 'https://\u0430\u0440\u0440\u04cf\u0435.\u0440\u0444/v1'],
    ['the same in punycode', 'https://xn--80ak6aa92e.xn--p1ai/v1'],
    ['Greek letters that spell tokio', 'https://\u03c4\u03bf\u03ba\u03b9\u03bf.\u03b5\u03bb/v1'],
  ])('%s is refused: letters that only look Latin', (_label, url) => {
    expect(refusal(url).message).toMatch(/letters that only look Latin/);
  });

  test('a zero-width space in the host is refused (the URL parser would silently drop it)', () => {
    expect(refusal('https://api.open\u200bai.com/v1').message).toMatch(/invisible characters/);
  });

  test('a bidirectional override in the path is refused', () => {
    expect(refusal('https://api.example.com/\u202ev1').message).toMatch(/invisible characters/);
  });

  test('mixed scripts are refused with allowPrivate too', () => {
    expect(refusal('https://\u0430pi.openai.com/v1', PERMISSIVE).message).toMatch(/mixes writing systems/);
  });
});
