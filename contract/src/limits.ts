import { z } from 'zod/mini';

/**
 * `GET /api/limits`: the rules this server instance enforces, so a client explains and checks them
 * before sending instead of assuming the defaults (an operator may set MAX_INDEX).
 */
export const limitsSchema = z.object({
  /** The largest index `POST /api/values` accepts; the smallest is 0. */
  maxIndex: z.number().check(z.int(), z.nonnegative()),
});

export type Limits = z.infer<typeof limitsSchema>;
