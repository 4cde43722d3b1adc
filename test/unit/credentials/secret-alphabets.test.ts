// Keys and tokens are printable ASCII: an API key, an AWS secret access key and session token
// with a look-alike letter, an invisible character or a typographic dash is damaged by copying,
// and is refused on its own field without repeating it.
import { type AuthRequest, resolveAuth } from '../../../src/credentials/credential-auth';
import { BadUserInputError } from '../../../src/errors/app-error';
import { thrownBy } from '../../support/failures';

const OPTIONS = { googleTokenUrl: 'https://oauth2.googleapis.com/token' };

function expectRefused(auth: AuthRequest, field: string, secret: string): BadUserInputError {
  const error = thrownBy(() => resolveAuth(auth, 'input.auth', OPTIONS), BadUserInputError);
  expect(error.field).toBe(field);
  expect(error.message).not.toContain(secret);
  expect(JSON.stringify(error.toExtensions())).not.toContain(secret);
  return error;
}

const DAMAGED = [
  ['a Cyrillic letter', 'sk-pr\u043ej-0123456789abcdef'],
  ['a zero-width space', 'sk-proj-0123\u200b456789abcdef'],
  ['an en dash', 'sk\u2013proj-0123456789abcdef'],
  ['a non-breaking hyphen', 'sk\u2011proj-0123456789abcdef'],
  ['an accented letter', 'sk-pr\u00f3j-0123456789abcdef'],
  ['an emoji', 'sk-proj-0123456789abcdef\u{1f511}'],
  ['a full-width letter', 'sk-proj-\uff41123456789abcdef'],
] as const;

describe('API keys', () => {
  test.each(DAMAGED)('with %s are refused on input.auth.apiKey.apiKey', (_label, apiKey) => {
    expectRefused({ apiKey: { apiKey } }, 'input.auth.apiKey.apiKey', apiKey);
  });

  test('the refusal says why', () => {
    expect(expectRefused({ apiKey: { apiKey: 'sk-pr\u043ej-0123456789' } }, 'input.auth.apiKey.apiKey', 'sk-pr').message).toBe(
      'The API key must be printable ASCII (letters, digits and punctuation); other characters, such as look-alike letters or invisible ones, come from copying it.',
    );
  });

  test.each(DAMAGED)('Bedrock API keys with %s are refused on input.auth.bedrockApiKey.apiKey', (_label, apiKey) => {
    expectRefused({ bedrockApiKey: { apiKey } }, 'input.auth.bedrockApiKey.apiKey', apiKey);
  });

  test('every printable ASCII character is accepted', () => {
    let printable = '';
    for (let code = 0x21; code <= 0x7e; code += 1) printable += String.fromCharCode(code);
    expect(resolveAuth({ apiKey: { apiKey: printable } }, 'input.auth', OPTIONS).secretPayload).toEqual({ apiKey: printable });
  });
});

describe('AWS keys', () => {
  const ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';

  test.each(DAMAGED)('a secretAccessKey with %s is refused on input.auth.awsKeys.secretAccessKey', (_label, secretAccessKey) => {
    expectRefused({ awsKeys: { accessKeyId: ACCESS_KEY_ID, secretAccessKey } }, 'input.auth.awsKeys.secretAccessKey', secretAccessKey);
  });

  test.each(DAMAGED)('a sessionToken with %s is refused on input.auth.awsKeys.sessionToken', (_label, sessionToken) => {
    expectRefused(
      { awsKeys: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', sessionToken } },
      'input.auth.awsKeys.sessionToken',
      sessionToken,
    );
  });

  test('keys as AWS issues them are accepted', () => {
    const auth = {
      awsKeys: {
        accessKeyId: ACCESS_KEY_ID,
        secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
        sessionToken: 'FwoGZXIvYXdzEBY+/=',
      },
    };
    expect(resolveAuth(auth, 'input.auth', OPTIONS).authType).toBe('AWS_KEYS');
  });
});
