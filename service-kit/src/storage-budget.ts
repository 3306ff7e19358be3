/**
 * What the database holds per index, measured (service-kit/src/storage-budget.test.ts stores values of
 * the lengths Fibonacci values have and compares these estimates with Postgres's table sizes), so that
 * MAX_INDEX and the size of the database's volume can be checked against each other at start-up.
 *
 * A value is stored as its decimal digits, uncompressed (migration 001: STORAGE EXTERNAL), one byte a
 * digit. Up to ~2,000 digits it sits in the row; beyond, Postgres moves it out to TOAST chunks of
 * 1,996 bytes, four to a page, each with a header and an index entry, and the last one partly empty.
 * Each index also has its row in submitted_indexes, its results row and their index entries.
 */

const LOG10_PHI = Math.log10((1 + Math.sqrt(5)) / 2);
const LOG10_SQRT5 = Math.log10(Math.sqrt(5));

/** Digits a value may have and still be stored in its row (the rest of the row fills the 2,032-byte limit). */
const INLINE_MAX_DIGITS = 1_990;
/** Measured: bytes on disk per index and per digit, for a value stored in its row … */
const INLINE = { perIndex: 260, perDigit: 1.15 };
/** … and for one moved out to TOAST chunks. */
const TOASTED = { perIndex: 760, perDigit: 1.042 };

/**
 * The share of the storage budget the values of every index up to MAX_INDEX may fill. The rest is for
 * the write-ahead log (max_wal_size, 1 GB by default), dead row versions until vacuum, and temporary files.
 */
export const VALUES_SHARE = 0.8;

/** Bytes a `pg_dump --format=custom` (compressed) takes per digit stored: decimal digits compress to ~3.9 bits. */
export const DUMP_BYTES_PER_DIGIT = 0.49;

const GIB = 1024 ** 3;

/** How many decimal digits F(n) has. */
export function fibonacciDigits(n: number): number {
  return n < 2 ? 1 : Math.floor(n * LOG10_PHI - LOG10_SQRT5) + 1;
}

/** The largest index whose value is stored in its row. */
const LAST_INLINE_INDEX = Math.floor((INLINE_MAX_DIGITS - 1 + LOG10_SQRT5) / LOG10_PHI);

/** Bytes on disk for index `n`: its value and its rows. */
export function storedBytesOf(n: number): number {
  const digits = fibonacciDigits(n);
  const { perIndex, perDigit } = n <= LAST_INLINE_INDEX ? INLINE : TOASTED;
  return perIndex + perDigit * digits;
}

/**
 * The digits of F(from) … F(to) together: F(0) and F(1) have one each, F(n) has n·log10(φ) − log10(√5)
 * rounded down, plus one, which is that plus a half on average.
 */
function digitsBetween(from: number, to: number): number {
  const single = Math.max(0, Math.min(to, 1) - from + 1);
  const first = Math.max(from, 2);
  if (to < first) return single;
  const count = to - first + 1;
  return single + (LOG10_PHI * ((first + to) * count)) / 2 + (0.5 - LOG10_SQRT5) * count;
}

/** Bytes on disk for the values (and rows) of every index from 0 to `maxIndex`. */
export function storedBytesUpTo(maxIndex: number): number {
  const inlineTo = Math.min(maxIndex, LAST_INLINE_INDEX);
  const inline = INLINE.perIndex * (inlineTo + 1) + INLINE.perDigit * digitsBetween(0, inlineTo);
  const toasted = TOASTED.perIndex * Math.max(0, maxIndex - inlineTo) + TOASTED.perDigit * digitsBetween(inlineTo + 1, maxIndex);
  return inline + toasted;
}

/** Bytes of a compressed dump of every value from 0 to `maxIndex`. */
export function dumpBytesUpTo(maxIndex: number): number {
  return DUMP_BYTES_PER_DIGIT * digitsBetween(0, maxIndex);
}

/** The largest MAX_INDEX whose values fit `VALUES_SHARE` of a budget of `gib` GiB. */
export function largestMaxIndexFor(gib: number): number {
  const bytes = VALUES_SHARE * gib * GIB;
  let low = 0;
  let high = 100_000_000;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (storedBytesUpTo(middle) <= bytes) low = middle;
    else high = middle - 1;
  }
  return low;
}

/** Whether the values of every index up to `maxIndex` fit `VALUES_SHARE` of `gib` GiB. */
export function fitsBudget(maxIndex: number, gib: number): boolean {
  return storedBytesUpTo(maxIndex) <= VALUES_SHARE * gib * GIB;
}
