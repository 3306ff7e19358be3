import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Express, RequestHandler } from 'express';
import type { Level, Logger } from 'pino';

declare module 'http' {
  interface IncomingMessage {
    /** This request's id (see request-id.ts). */
    id: string;
    /** A logger whose lines carry this request's id, method and URL. */
    readonly log: Logger;
  }
}

const requestLogger = Symbol('requestLogger');
type LoggedRequest = IncomingMessage & { originalUrl?: string; [requestLogger]?: Logger };

function describe(req: LoggedRequest) {
  return { id: req.id, method: req.method, url: req.originalUrl ?? req.url };
}

/** A 503 is an outage already reported once by the connection that failed, not a bug. */
function levelFor(status: number): Level {
  if (status >= 500) return status === 503 ? 'warn' : 'error';
  return status >= 400 ? 'warn' : 'info';
}

/**
 * One log line per answered request: `{"req":{"id","method","url"},"res":{"statusCode"},"responseTime"}`,
 * at warn for 4xx and 503, error for other 5xx. `req.log` is a logger bound to the request, made only
 * when a handler logs through it (most requests never do); requests to `quietPaths` (probes, scrapes) are
 * not logged. Measured by `npm run bench`: a child logger made for every request, as pino-http does, cost
 * more than the log line itself.
 */
export function requestLogging(app: Express, logger: Logger, quietPaths: ReadonlySet<string>): RequestHandler {
  Object.defineProperty(app.request, 'log', {
    configurable: true,
    get(this: LoggedRequest): Logger {
      return (this[requestLogger] ??= logger.child({ req: describe(this) }));
    },
  });
  const logAnswer = (req: LoggedRequest, res: ServerResponse, startedAt: number) => {
    const status = res.statusCode;
    logger[levelFor(status)](
      { req: describe(req), res: { statusCode: status }, responseTime: Date.now() - startedAt },
      status >= 500 ? 'request errored' : 'request completed',
    );
  };
  return (req, res, next) => {
    if (!quietPaths.has(req.url)) {
      const startedAt = Date.now();
      // 'close' follows 'finish', and also comes when the client leaves before the answer.
      res.once('close', () => logAnswer(req, res, startedAt));
    }
    next();
  };
}
