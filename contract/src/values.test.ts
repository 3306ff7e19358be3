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

  it.each([
    [undefined, 'index is required'],
    ['10', 'index must be a number, got the string "10"'],
    ['x'.repeat(50), `index must be a number, got the string "${'x'.repeat(40)}"`],
    [null, 'index must be a number, got null'],
    [[1], 'index must be a number, got an array'],
    [{ n: 1 }, 'index must be a number, got a object'],
    [true, 'index must be a number, got a boolean'],
    [1.5, 'index must be a whole number, got 1.5'],
    [Number.NaN, 'index must be a whole number, got NaN'],
    [-3, 'index must not be negative, got -3'],
    [101, 'index must be at most 100, got 101'],
  ])('explains %j in words: %s', (input, message) => {
    expect(checkIndex(input, 100)).toMatchObject({ ok: false, message });
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

  it('keeps a value of exactly PREVIEW_DIGITS digits whole', () => {
    const exact = '7'.repeat(PREVIEW_DIGITS);
    expect(previewOf(exact)).toEqual({ value: exact, truncated: false });
  });

  it('shortens long values to their leading digits', () => {
    const long = '9'.repeat(PREVIEW_DIGITS + 1);
    expect(previewOf(long)).toEqual({ value: `${'9'.repeat(PREVIEW_DIGITS)}…`, truncated: true });
  });
});
