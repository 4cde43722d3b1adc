// Opaque cursors over (createdAt, id): they round-trip, anything else is BAD_USER_INPUT on the
// `after` argument, and page sizes are capped at 100 with negatives refused.
import { BadUserInputError } from '../../../src/errors/app-error';
import { thrownBy } from '../../support/failures';
import { base64urlJson } from '../../support/tokens';
import { decodeCursor, DEFAULT_PAGE_SIZE, encodeCursor, MAX_PAGE_SIZE, pageSize } from '../../../src/pagination/page-cursor';

const ID = '3f2b9c1e-8a4d-4e6f-9b0a-1c2d3e4f5a6b';

describe('cursors', () => {
  test('round-trip createdAt (to the millisecond) and id', () => {
    const cursor = { createdAt: new Date('2026-11-26T15:00:00.123Z'), id: ID };
    expect(decodeCursor('after', encodeCursor(cursor))).toEqual(cursor);
  });

  test('are URL-safe text', () => {
    const encoded = encodeCursor({ createdAt: new Date('2026-01-01T00:00:00.000Z'), id: ID });
    expect(encoded).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  test('differ for rows created in the same millisecond', () => {
    const createdAt = new Date('2026-11-26T15:00:00.000Z');
    expect(encodeCursor({ createdAt, id: ID })).not.toBe(encodeCursor({ createdAt, id: ID.replace(/b$/, 'c') }));
  });

  test.each([
    ['not base64 JSON', 'not a cursor!'],
    ['empty', ''],
    ['JSON that is not an object', base64urlJson('a string')],
    ['JSON null', base64urlJson(null)],
    ['an object without t', base64urlJson({ i: ID })],
    ['an object without i', base64urlJson({ t: '2026-01-01T00:00:00.000Z' })],
    ['a non-string t', base64urlJson({ t: 1, i: ID })],
    ['an id that is not a UUID', base64urlJson({ t: '2026-01-01T00:00:00.000Z', i: 'canary' })],
    ['an upper-case UUID', base64urlJson({ t: '2026-01-01T00:00:00.000Z', i: ID.toUpperCase() })],
    ['an impossible date', base64urlJson({ t: 'not-a-date', i: ID })],
    ['an injection attempt', base64urlJson({ t: "2026-01-01' OR 1=1 --", i: ID })],
  ])('%s is BAD_USER_INPUT on field after, without echoing the cursor', (_label, value) => {
    const error = thrownBy(() => decodeCursor('after', value), BadUserInputError);
    expect(error.toExtensions()).toEqual({ code: 'BAD_USER_INPUT', field: 'after' });
    expect(error.message).toBe('after is not a cursor returned by this API.');
  });

  test('the field reported is the argument given', () => {
    expect(thrownBy(() => decodeCursor('input.after', 'x'), BadUserInputError).field).toBe('input.after');
  });
});

describe('pageSize', () => {
  test(`omitted or null is the default, ${DEFAULT_PAGE_SIZE}`, () => {
    expect(pageSize('first', undefined)).toBe(50);
    expect(pageSize('first', null)).toBe(50);
  });

  test('0 is allowed (counts only)', () => {
    expect(pageSize('first', 0)).toBe(0);
  });

  test(`${MAX_PAGE_SIZE} is allowed as asked`, () => {
    expect(pageSize('first', 100)).toBe(100);
  });

  test.each([101, 1000, Number.MAX_SAFE_INTEGER])('%d is capped at 100', (first) => {
    expect(pageSize('first', first)).toBe(100);
  });

  test.each([-1, -100])('%d is BAD_USER_INPUT on field first', (first) => {
    const error = thrownBy(() => pageSize('first', first), BadUserInputError);
    expect(error.toExtensions()).toEqual({ code: 'BAD_USER_INPUT', field: 'first' });
    expect(error.message).toBe('first must be a non-negative integer.');
  });

  test.each([1.5, Number.NaN, Number.POSITIVE_INFINITY])('%d is not an integer, so BAD_USER_INPUT', (first) => {
    expect(thrownBy(() => pageSize('first', first), BadUserInputError).field).toBe('first');
  });
});
