// Settings nest at most SETTINGS_MAX_DEPTH levels (objects and arrays alike). The depth is checked
// before anything walks the value recursively, so no depth can exhaust the stack.
import { BadUserInputError } from '../../../src/errors/app-error';
import { checkSettings, SETTINGS_MAX_DEPTH } from '../../../src/fields/field-checks';
import { thrownBy } from '../../support/failures';

/** An object `depth` levels deep, built without recursion. */
function nested(depth: number, innermost: unknown = 1): Record<string, unknown> {
  let value: unknown = innermost;
  for (let level = 0; level < depth; level += 1) value = { n: value };
  return value as Record<string, unknown>;
}

test(`${SETTINGS_MAX_DEPTH} levels are accepted`, () => {
  expect(checkSettings('input.settings', nested(SETTINGS_MAX_DEPTH))).toEqual(nested(SETTINGS_MAX_DEPTH));
});

test(`${SETTINGS_MAX_DEPTH + 1} levels are refused, naming the field and the limit`, () => {
  const error = thrownBy(() => checkSettings('input.settings', nested(SETTINGS_MAX_DEPTH + 1)), BadUserInputError);

  expect({ field: error.field, message: error.message }).toEqual({
    field: 'input.settings',
    message: `settings must be nested at most ${SETTINGS_MAX_DEPTH} levels deep.`,
  });
});

test('arrays are levels too', () => {
  const withArray = nested(SETTINGS_MAX_DEPTH - 1, [1]);

  expect(checkSettings('input.settings', withArray)).toBe(withArray);
  expect(thrownBy(() => checkSettings('input.settings', nested(SETTINGS_MAX_DEPTH - 1, [[1]])), BadUserInputError).field).toBe(
    'input.settings',
  );
});

test('100,000 levels are refused with BAD_USER_INPUT, not a stack overflow', () => {
  expect(thrownBy(() => checkSettings('input.settings', nested(100_000)), BadUserInputError).code).toBe('BAD_USER_INPUT');
});
