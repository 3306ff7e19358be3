import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import helmet, { type HelmetOptions } from 'helmet';

/** What helmet sets on a response, recorded once: with static options every response gets the same headers. */
function headersSetBy(middleware: ReturnType<typeof helmet>): Array<[string, string]> {
  const headers: Array<[string, string]> = [];
  const recorder = {
    setHeader: (name: string, value: string | number) => headers.push([name, String(value)]),
    // helmet removes X-Powered-By; the app never sets it (app.disable('x-powered-by')).
    removeHeader: () => undefined,
  };
  let passed = false;
  middleware({} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- helmet reports its own errors through next(): rethrow them as they are
    if (error) throw error;
    passed = true;
  });
  if (!passed) throw new Error('helmet did not finish synchronously; its headers cannot be precomputed');
  return headers;
}

/**
 * helmet's security headers, computed once at start-up instead of by a dozen middlewares on every
 * request. Only for options without per-request parts (no CSP nonce function).
 */
export function securityHeaders(options: HelmetOptions): RequestHandler {
  const csp = options.contentSecurityPolicy;
  const directives = typeof csp === 'object' ? Object.values(csp.directives ?? {}) : [];
  if (
    directives.some((value) => typeof value === 'function' || (Array.isArray(value) && value.some((part) => typeof part === 'function')))
  ) {
    throw new Error('a Content-Security-Policy directive computed per request cannot be precomputed: use helmet() directly');
  }
  const headers = headersSetBy(helmet(options));
  return (_req, res, next) => {
    for (const [name, value] of headers) res.setHeader(name, value);
    next();
  };
}
