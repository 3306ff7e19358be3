import { expect, inject, it } from 'vitest';

/**
 * Run once by .ci/run, which requires this run to exit non-zero: proof that a failing test fails the
 * runner. It uses the same global setup as the real suites (embedded Postgres), whose exit hook once
 * turned every failing run into exit 0.
 */
it('passes (the setup worked)', () => {
  expect(inject('postgresAdminUrl')).toMatch(/^postgres:\/\//);
});

it('fails on purpose', () => {
  expect('this test').toBe('failing, as it must');
});
