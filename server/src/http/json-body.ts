import express, { type RequestHandler } from 'express';
import { HttpError } from './errors.js';

const BODY_LIMIT = '16kb';

/**
 * Without `strict`, a top-level `null`, number or string parses too, so the route can answer it with
 * `body_not_object` (422) rather than a parse error: the body is valid JSON, just not an object.
 */
const parse = express.json({ limit: BODY_LIMIT, strict: false });

/** Turns whatever body-parser reports (bad JSON, size, charset, a corrupt gzip stream) into the API's error. */
function bodyError(error: unknown): unknown {
  const { status, type } = (error ?? {}) as { status?: number; type?: string };
  if (status === 413) return new HttpError('payload_too_large', `request body must be at most ${BODY_LIMIT.toUpperCase()}`);
  if (status === 415) return new HttpError('unsupported_media_type', 'unsupported charset or content encoding');
  if (type === 'entity.parse.failed') return new HttpError('invalid_json', 'request body is not valid JSON');
  // Any other client-side failure (cut-off body, wrong Content-Length, undecodable gzip) is unreadable JSON.
  if (status !== undefined && status >= 400 && status < 500) {
    return new HttpError('invalid_json', 'request body could not be read');
  }
  return error;
}

/**
 * Accepts only `Content-Type: application/json` (415 otherwise) and parses at most 16 KB of it into
 * `req.body`, mapping every parse failure to a JSON API error so bad input never becomes a 500.
 */
export const jsonBody: RequestHandler = (req, res, next) => {
  if (!req.is('application/json')) {
    throw new HttpError('unsupported_media_type', 'send the body as JSON with Content-Type: application/json');
  }
  parse(req, res, (error?: unknown) => next(error === undefined ? undefined : bodyError(error)));
};
