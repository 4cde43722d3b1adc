// Names of credentials and providers: stored in one Unicode spelling (NFC), and refused when they
// hold characters that change how they read without being seen (bidirectional overrides,
// zero-width characters, tag characters). The refusal names the field and never repeats the name.
import { BadUserInputError } from '../../../src/errors/app-error';
import { checkName } from '../../../src/fields/field-checks';
import { thrownBy } from '../../support/failures';

describe('checkName normalizes', () => {
  test('a decomposed accent to its composed form (NFC)', () => {
    const name = checkName('input.name', 'Cafe\u0301 prod');
    expect(name).toBe('Caf\u00e9 prod');
    expect(name).toHaveLength(9);
  });

  test('a Hangul syllable spelled as jamo to the syllable', () => {
    expect(checkName('input.name', '\u1112\u1161\u11ab')).toBe('\ud55c');
  });

  test('an already composed name is kept as given', () => {
    expect(checkName('input.name', 'Z\u00fcrich prod')).toBe('Z\u00fcrich prod');
  });

  test('the length limit applies to the normalized name', () => {
    // 200 letters each followed by a combining accent: 400 code units given, 200 stored.
    expect(checkName('input.name', 'e\u0301'.repeat(200))).toHaveLength(200);
  });
});

describe('checkName refuses invisible formatting characters', () => {
  test.each([
    ['LEFT-TO-RIGHT EMBEDDING', '\u202a'],
    ['RIGHT-TO-LEFT EMBEDDING', '\u202b'],
    ['POP DIRECTIONAL FORMATTING', '\u202c'],
    ['LEFT-TO-RIGHT OVERRIDE', '\u202d'],
    ['RIGHT-TO-LEFT OVERRIDE', '\u202e'],
    ['LEFT-TO-RIGHT ISOLATE', '\u2066'],
    ['RIGHT-TO-LEFT ISOLATE', '\u2067'],
    ['FIRST STRONG ISOLATE', '\u2068'],
    ['POP DIRECTIONAL ISOLATE', '\u2069'],
    ['RIGHT-TO-LEFT MARK', '\u200f'],
    ['ZERO WIDTH SPACE', '\u200b'],
    ['ZERO WIDTH NON-JOINER', '\u200c'],
    ['ZERO WIDTH JOINER', '\u200d'],
    ['WORD JOINER', '\u2060'],
    ['ZERO WIDTH NO-BREAK SPACE (byte-order mark)', '\ufeff'],
    ['SOFT HYPHEN', '\u00ad'],
    ['LANGUAGE TAG', '\u{e0001}'],
    ['TAG LATIN CAPITAL LETTER A', '\u{e0041}'],
    ['CANCEL TAG', '\u{e007f}'],
    ['the unassigned tag U+E0000', '\u{e0000}'],
    ['HANGUL FILLER', '\u3164'],
    ['LINE SEPARATOR', '\u2028'],
  ])('%s inside the name', (_label, character) => {
    const error = thrownBy(() => checkName('input.name', `prod${character}openai`), BadUserInputError);
    expect(error.field).toBe('input.name');
    expect(error.message).toBe(
      'name must not contain invisible formatting characters (bidirectional overrides, zero-width or tag characters).',
    );
    expect(error.message).not.toContain('prod');
  });

  test.each([
    ['a leading byte-order mark', '\ufeffprod'],
    ['a trailing zero-width space', 'prod\u200b'],
    ['a trailing right-to-left override', 'prod\u202e'],
  ])('%s, which trimming would hide', (_label, name) => {
    expect(thrownBy(() => checkName('input.provider.name', name), BadUserInputError).field).toBe('input.provider.name');
  });

  test('a control character is still refused as one', () => {
    expect(thrownBy(() => checkName('input.name', 'a\u0007b'), BadUserInputError).message).toBe(
      'name must not contain control characters or unpaired surrogates.',
    );
  });

  test.each([
    'prod openai',
    '\u043f\u0440\u043e\u0434',
    '\u672c\u756a',
    '\u05e4\u05e8\u05d5\u05d3',
    'prod \u2014 openai',
    'rocket \u{1f680}',
  ])('an ordinary name %s is accepted', (name) => {
    expect(checkName('input.name', name)).toBe(name);
  });
});
