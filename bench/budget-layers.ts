/**
 * The steps of a POST /api/values, in the order the budget adds them: each rung of the ladder is a server
 * doing the steps up to and including one more. Step 0, always there, is Express routing a POST and
 * answering it with JSON.
 */
export const BUDGET_LAYERS = [
  'body parsing',
  'validation',
  'request id',
  'request log',
  'security headers',
  'metrics',
  'submit (batcher + Postgres)',
  'enqueue (batcher + BullMQ)',
] as const;
