import type { ServerResponse } from 'node:http';

/**
 * Answers with `body` as JSON: the same bytes and Content-Type as Express's res.status().json(), without
 * the ETag hash and freshness check, which only a repeated GET can use. For the submission answer,
 * the API's hottest response.
 */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}
