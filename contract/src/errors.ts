import { z } from 'zod/mini';

/**
 * Every error the API returns has this body: `{"error": {"code", "message"}}`.
 * `code` is stable and meant for programs; `message` is meant for people.
 */
export const apiErrorSchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
  }),
});

export type ApiError = z.infer<typeof apiErrorSchema>;

/** The error codes the API can answer with, and the HTTP status each travels with. */
export const errorStatus = {
  invalid_json: 400,
  invalid_query: 400,
  invalid_last_event_id: 400,
  unauthorized: 401,
  not_found: 404,
  payload_too_large: 413,
  unsupported_media_type: 415,
  body_not_object: 422,
  index_required: 422,
  index_not_number: 422,
  index_not_integer: 422,
  index_negative: 422,
  index_too_large: 422,
  rate_limited: 429,
  too_many_streams: 429,
  internal_error: 500,
  service_unavailable: 503,
  streams_at_capacity: 503,
} as const;

export type ErrorCode = keyof typeof errorStatus;
