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

function toHttpError(error: unknown): HttpError | undefined {
  if (error instanceof HttpError) return error;
  // The router could not percent-decode a path parameter (`/api/values/%E0`): no such resource.
  if (error instanceof URIError) return new HttpError('not_found', 'the path is not validly encoded');
  if (isConnectionError(error)) return new HttpError('service_unavailable', 'the database is unavailable, try again shortly');
  return undefined;
}

/** The last handler of a router or app: whatever reached it matched no route. */
export const notFound: RequestHandler = (req) => {
  throw new HttpError('not_found', `no route for ${req.method} ${req.path.slice(0, 200)}`);
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
