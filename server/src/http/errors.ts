import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { errorStatus, type ErrorCode } from '@fibstack/contract/errors';
import { isConnectionError } from '@fibstack/service-kit/postgres';

/** An error meant for the caller: it becomes `{"error": {"code", "message"}}` with the code's status. */
export class HttpError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** body-parser's errors carry a `type`; these are the ones a client can cause. */
const bodyParserErrors: Record<string, [ErrorCode, string]> = {
  'entity.parse.failed': ['invalid_json', 'request body is not valid JSON'],
  'entity.too.large': ['payload_too_large', 'request body must be at most 16 KB'],
  'encoding.unsupported': ['unsupported_media_type', 'unsupported content encoding'],
  'charset.unsupported': ['unsupported_media_type', 'unsupported charset'],
  'request.aborted': ['invalid_json', 'request body was cut off'],
  'request.size.invalid': ['invalid_json', 'request body length does not match Content-Length'],
};

function toHttpError(error: unknown): HttpError | undefined {
  if (error instanceof HttpError) return error;
  const type = (error as { type?: string } | null)?.type;
  const known = type ? bodyParserErrors[type] : undefined;
  if (known) return new HttpError(...known);
  if (isConnectionError(error)) return new HttpError('service_unavailable', 'the database is unavailable, try again shortly');
  return undefined;
}

export const notFound: RequestHandler = (req) => {
  throw new HttpError('not_found', `no route for ${req.method} ${req.path}`);
};

/**
 * The one error handler: known errors become their JSON error; anything else is logged with its stack
 * and answered as a bare 500, so no stack trace or SQL ever reaches a caller.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const known = toHttpError(error);
    const httpError = known ?? new HttpError('internal_error', 'something went wrong on our side');
    if (!known) (req.log ?? logger).error({ err: error }, 'unhandled error');
    else if (httpError.code === 'service_unavailable') (req.log ?? logger).warn({ err: error }, 'dependency unavailable');
    if (res.headersSent) return void res.end();
    res.status(errorStatus[httpError.code]).json({ error: { code: httpError.code, message: httpError.message } });
  };
}
