import { describe, expect, it } from 'vitest';
import { fibonacciJob, JOB_OPTIONS, jobDataSchema, jobIdFor } from './jobs.js';

describe('jobs', () => {
  it('gives each index one job id, so a repeated submission finds its job already there', () => {
    expect(jobIdFor(7)).toBe('fib-7');
    expect(jobIdFor(0)).toBe('fib-0');
  });

  it('builds every Fibonacci job alike: its name, its data, the retry policy and the id of its index', () => {
    const job = fibonacciJob({ index: 12, requestId: 'r-12' });
    expect(job).toEqual({ name: 'fibonacci', data: { index: 12, requestId: 'r-12' }, opts: { ...JOB_OPTIONS, jobId: 'fib-12' } });
    expect(fibonacciJob({ index: 12, requestId: 'r' }, { metadata: 'm' }).opts).toEqual({
      ...JOB_OPTIONS,
      jobId: 'fib-12',
      telemetry: { metadata: 'm' },
    });
  });

  it('accepts job data with a whole, non-negative index and a request id', () => {
    expect(jobDataSchema.safeParse({ index: 0, requestId: 'r-1' })).toMatchObject({ success: true, data: { index: 0, requestId: 'r-1' } });
  });

  it.each([
    ['a negative index', { index: -1, requestId: 'r' }],
    ['a fractional index', { index: 2.5, requestId: 'r' }],
    ['an index as a string', { index: '3', requestId: 'r' }],
    ['no request id', { index: 3 }],
  ])('refuses job data with %s', (_what, data) => {
    expect(jobDataSchema.safeParse(data).success).toBe(false);
  });
});
