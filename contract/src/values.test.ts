import { describe, expect, it } from 'vitest';
import { checkIndex, previewOf, PREVIEW_DIGITS } from './values.js';

describe('checkIndex', () => {
  it.each([
    [undefined, 'index_required'],
    ['10', 'index_not_number'],
    ['abc', 'index_not_number'],
    [true, 'index_not_number'],
    [null, 'index_not_number'],
    [[1], 'index_not_number'],
    [{ n: 1 }, 'index_not_number'],
    [1.5, 'index_not_integer'],
    [Number.POSITIVE_INFINITY, 'index_not_integer'],
    [Number.NaN, 'index_not_integer'],
    [-3, 'index_negative'],
    [101, 'index_too_large'],
    [2 ** 53 + 1, 'index_too_large'],
  ])('rejects %j with %s', (input, code) => {
    const result = checkIndex(input, 100);
    expect(result).toMatchObject({ ok: false, code });
    if (!result.ok) expect(result.message).toMatch(/^index /);
  });

  it('accepts whole numbers from 0 to the maximum', () => {
    expect(checkIndex(0, 100)).toEqual({ ok: true, index: 0 });
    expect(checkIndex(100, 100)).toEqual({ ok: true, index: 100 });
  });

  it('stores -0 as 0', () => {
    const result = checkIndex(-0, 100);
    expect(result.ok && Object.is(result.index, 0)).toBe(true);
  });
});

describe('previewOf', () => {
  it('keeps short values whole', () => {
    expect(previewOf('55')).toEqual({ value: '55', truncated: false });
  });

  it('shortens long values to their leading digits', () => {
    const long = '9'.repeat(PREVIEW_DIGITS + 1);
    expect(previewOf(long)).toEqual({ value: `${'9'.repeat(PREVIEW_DIGITS)}…`, truncated: true });
  });
});
