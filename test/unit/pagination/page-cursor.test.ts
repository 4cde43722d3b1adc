// Opaque cursors over a row's sequence number: they round-trip, a cursor of the earlier
// (createdAt, id) order is refused with its own message, anything else is BAD_USER_INPUT on the
// `after` argument, and page sizes are capped at 100 with negatives refused.
import { BadUserInputError } from '../../../src/errors/app-error';
import { thrownBy } from '../../support/failures';
import { base64urlJson } from '../../support/tokens';
import { decodeCursor, DEFAULT_PAGE_SIZE, encodeCursor, MAX_PAGE_SIZE, pageSize } from '../../../src/pagination/page-cursor';

const ID = '3f2b9c1e-8a4d-4e6f-9b0a-1c2d3e4f5a6b';

const LARGEST_BIGINT = 2n ** 63n - 1n;

describe('cursors', () => {
  test.each([1n, 42n, 2n ** 53n + 1n, LARGEST_BIGINT])('round-trip the sequence number %s exactly', (seq) => {
    expect(decodeCursor('after', encodeCursor({ seq }))).toEqual({ seq });
  });

  test('are URL-safe text', () => {
    expect(encodeCursor({ seq: 123456789n })).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  test('differ for neighbouring rows', () => {
    expect(encodeCursor({ seq: 7n })).not.toBe(encodeCursor({ seq: 8n }));
  });

  test('a cursor of the earlier (createdAt, id) order is BAD_USER_INPUT on after, asking to list again from the start', () => {
    const earlier = base64urlJson({ t: '2026-11-26T15:00:00.123Z', i: ID });

    const error = thrownBy(() => decodeCursor('after', earlier), BadUserInputError);

    expect(error.toExtensions()).toEqual({ code: 'BAD_USER_INPUT', field: 'after' });
    expect(error.message).toBe("after is a cursor of an earlier version of this list's order; list again from the start.");
  });

  test.each([
    ['not base64 JSON', 'not a cursor!'],
    ['empty', ''],
    ['JSON that is not an object', base64urlJson('a string')],
    ['JSON null', base64urlJson(null)],
    ['a JSON array', base64urlJson(['1'])],
    ['an object without s', base64urlJson({ seq: '1' })],
    ['a number s', base64urlJson({ s: 1 })],
    ['a zero s', base64urlJson({ s: '0' })],
    ['a negative s', base64urlJson({ s: '-1' })],
    ['an s with a leading zero', base64urlJson({ s: '01' })],
    ['an s with a fraction', base64urlJson({ s: '1.5' })],
    ['an s beyond a BIGINT', base64urlJson({ s: (LARGEST_BIGINT + 1n).toString() })],
    ['an s of twenty digits', base64urlJson({ s: '1'.repeat(20) })],
    ['an s injection attempt', base64urlJson({ s: "1' OR 1=1 --" })],
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
