import { describe, expect, it } from 'vitest';
import { computeFibonacci, fibonacci } from './fibonacci.js';
import { FibonacciPool, INLINE_MAX_INDEX } from './pool.js';

function iterative(n: number): bigint {
  let [a, b] = [0n, 1n];
  for (let i = 0; i < n; i++) [a, b] = [b, a + b];
  return a;
}

describe('fibonacci', () => {
  it.each([
    [0, 0n],
    [1, 1n],
    [2, 1n],
    [3, 2n],
    [10, 55n],
    [90, 2880067194370816120n],
  ])('fib(%i) = %s', (n, expected) => {
    expect(fibonacci(n)).toBe(expected);
  });

  it('agrees with the plain iteration for every n up to 500', () => {
    let [a, b] = [0n, 1n];
    for (let n = 0; n <= 500; n++) {
      expect(fibonacci(n)).toBe(a);
      [a, b] = [b, a + b];
    }
  });

  it('gives fib(1000) with 209 digits', () => {
    const digits = fibonacci(1000).toString();
    expect(digits).toHaveLength(209);
    expect(digits.startsWith('43466557686937456435')).toBe(true);
    expect(digits.endsWith('76137795166849228875')).toBe(true);
  });

  it('satisfies the doubling identities at a large n', () => {
    const n = 50_000;
    const [f, next, f2, f2next] = [fibonacci(n), fibonacci(n + 1), fibonacci(2 * n), fibonacci(2 * n + 1)];
    expect(f2).toBe(f * (2n * next - f));
    expect(f2next).toBe(f * f + next * next);
    expect(fibonacci(5_000)).toBe(iterative(5_000));
  });

  it('computes fib(10^6) with its decimal string', () => {
    // How fast is measured by `npm run bench`, never asserted: a shared machine's load would fail it.
    const { value } = computeFibonacci(1_000_000);
    expect(value).toHaveLength(208_988);
    expect(value.startsWith('19532821287077577316')).toBe(true);
  });

  it('refuses negative and fractional input', () => {
    expect(() => fibonacci(-1)).toThrow(RangeError);
    expect(() => fibonacci(1.5)).toThrow(RangeError);
  });

  it('reports the decimal digits and the time taken', () => {
    const result = computeFibonacci(20);
    expect(result.value).toBe('6765');
    expect(result.computeMs).toBeGreaterThanOrEqual(0);
  });
});

describe('FibonacciPool', () => {
  it('computes small values in place and large ones on a thread, with the same results', async () => {
    const pool = new FibonacciPool(2, 30_000);
    try {
      const [small, large] = await Promise.all([pool.compute(INLINE_MAX_INDEX), pool.compute(INLINE_MAX_INDEX + 1)]);
      expect(small.value).toBe(fibonacci(INLINE_MAX_INDEX).toString());
      expect(large.value).toBe(fibonacci(INLINE_MAX_INDEX + 1).toString());
      const sizes = [30_000, 40_000, 50_000, 60_000, 70_000];
      const many = await Promise.all(sizes.map((n) => pool.compute(n)));
      expect(many.map((result) => result.value)).toEqual(sizes.map((n) => fibonacci(n).toString()));
    } finally {
      await pool.close();
    }
  });

  it('abandons a computation over the timeout and keeps working afterwards', async () => {
    const pool = new FibonacciPool(1, 1_500);
    try {
      await expect(pool.compute(30_000_000)).rejects.toThrow(/took over 1500 ms/);
      expect((await pool.compute(50_000)).value).toBe(fibonacci(50_000).toString());
    } finally {
      await pool.close();
    }
  });
});
