/** The largest index `fibonacci` accepts: beyond it the value outgrows V8's BigInt limit (2^30 bits) anyway. */
export declare const MAX_COMPUTABLE_INDEX: number;
/**
 * Fibonacci(n), exact, by fast doubling: walking the bits of n from the top, each step turns
 * (F(k), F(k+1)) into (F(2k), F(2k+1)) with
 *   F(2k)   = F(k) · (2·F(k+1) − F(k))
 *   F(2k+1) = F(k)² + F(k+1)²
 * and a set bit moves one further along. That is O(log n) big-number multiplications, against the
 * exponential time of the textbook recursion. The last step computes F(n) alone, which saves one or
 * two of its three multiplications — the largest ones of the whole run (fib(10^6): ~30% faster).
 */
export declare function fibonacci(n: number): bigint;
/** A value as decimal digits, with the time computing and converting it took. */
export interface ComputedValue {
    value: string;
    computeMs: number;
}
/**
 * Fibonacci(n) as decimal digits. V8's own BigInt `toString` is used: it is already subquadratic, and a
 * divide-and-conquer conversion in JavaScript (splitting by 10^(2^k · leaf) with BigInt division) was no
 * faster on Node 20 — fib(10^6): 97 ms with `toString`, 112–155 ms divide-and-conquer.
 */
export declare function computeFibonacci(n: number): ComputedValue;
