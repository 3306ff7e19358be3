import type { RequestHandler } from 'express';

/**
 * CORS for one allowed origin (CORS_ORIGIN), for a client served from another host. The bundled client is
 * same-origin, so by default this is not mounted and no CORS header is ever sent.
 */
export function cors(origin: string): RequestHandler {
  return (req, res, next) => {
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Vary', 'Origin');
    // Lets a cross-origin script read the request id, so a user can quote it (counts on actual responses).
    res.setHeader('Access-Control-Expose-Headers', 'X-Request-Id');
    if (req.method !== 'OPTIONS') return next();
    res.setHeader('Access-Control-Allow-Methods', 'GET, POST');
    res.setHeader('Access-Control-Allow-Headers', 'Content-Type, X-Request-Id');
    res.setHeader('Access-Control-Max-Age', '600');
    res.status(204).end();
  };
}
