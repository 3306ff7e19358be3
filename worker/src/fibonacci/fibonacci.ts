/**
 * Fibonacci(n), exact, by fast doubling: walking the bits of n from the top, each step turns
 * (F(k), F(k+1)) into (F(2k), F(2k+1)) with
 *   F(2k)   = F(k) · (2·F(k+1) − F(k))
 *   F(2k+1) = F(k)² + F(k+1)²
 * and a set bit moves one further along. That is O(log n) big-number multiplications, against the
 * exponential time of the textbook recursion.
 */
export function fibonacci(n: number): bigint {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`fibonacci needs a whole number ≥ 0, got ${n}`);
  let current = 0n; // F(k)
  let next = 1n; // F(k+1)
  for (let bit = 31 - Math.clz32(n); bit >= 0 && n > 0; bit--) {
    const doubled = current * (2n * next - current);
    const doubledNext = current * current + next * next;
    if ((n >>> bit) & 1) {
      current = doubledNext;
      next = doubled + doubledNext;
    } else {
      current = doubled;
      next = doubledNext;
    }
  }
  return current;
}

/** The value as decimal digits, and how long computing and converting took. */
export interface ComputedValue {
  value: string;
  computeMs: number;
}

export function computeFibonacci(n: number): ComputedValue {
  const started = performance.now();
  const value = fibonacci(n).toString();
  return { value, computeMs: performance.now() - started };
}
