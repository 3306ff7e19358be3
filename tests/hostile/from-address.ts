import { request, type IncomingHttpHeaders } from 'node:http';

/**
 * HTTP from a chosen source address. Every 127.0.0.0/8 address is this machine's loopback, so one test
 * can be many clients, each with its own connection address, which is what the edge counts.
 */
export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** From sending the request to its last byte. */
  ms: number;
}

export interface Call {
  from: string;
  method?: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** One request on a connection of its own, answered in full. */
export function send(port: number, call: Call): Promise<Answer> {
  const startedAt = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        localAddress: call.from,
        method: call.method ?? 'GET',
        path: call.path,
        agent: false,
        headers: { Connection: 'close', ...(call.body ? { 'Content-Type': 'application/json' } : {}), ...call.headers },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, ms: performance.now() - startedAt }));
        res.on('error', reject);
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error(`${call.path} from ${call.from}: no answer within 30 s`)));
    req.on('error', reject);
    req.end(call.body);
  });
}

/** GET /api/events as a browser's EventSource holds it: open until closed. */
export interface HeldStream {
  status: number;
  headers: IncomingHttpHeaders;
  /** What the stream carried so far (the whole body when it was refused). */
  text(): string;
  /** Until the answer's headers came. */
  ms: number;
  waitFor(text: string, timeoutMs: number): Promise<void>;
  close(): void;
}

/**
 * Opens an event stream from `from`; resolves once the answer's headers are in: for a refusal (any
 * status but 200), once its whole body is.
 */
export function openStream(port: number, from: string, headers: Record<string, string> = {}): Promise<HeldStream> {
  const startedAt = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        localAddress: from,
        path: '/api/events',
        agent: false,
        headers: { Accept: 'text/event-stream', ...headers },
      },
      (res) => {
        const ms = performance.now() - startedAt;
        // Held open from here on: quiet between the API's pings is no failure.
        req.setTimeout(0);
        let received = '';
        let ended = false;
        const waiting = new Set<() => void>();
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          received += chunk;
          for (const wake of waiting) wake();
        });
        res.on('close', () => {
          ended = true;
          for (const wake of waiting) wake();
        });
        const stream: HeldStream = {
          status: res.statusCode ?? 0,
          headers: res.headers,
          text: () => received,
          ms,
          waitFor: (text, timeoutMs) =>
            new Promise((done, fail) => {
              const timer = setTimeout(
                () => settle(() => fail(new Error(`the stream did not carry ${text} within ${timeoutMs} ms`))),
                timeoutMs,
              );
              const settle = (then: () => void) => {
                clearTimeout(timer);
                waiting.delete(check);
                then();
              };
              const check = () => {
                if (received.includes(text)) settle(done);
                else if (ended) settle(() => fail(new Error(`the stream ended before it carried ${text}`)));
              };
              waiting.add(check);
              check();
            }),
          close: () => req.destroy(),
        };
        if (stream.status === 200) resolve(stream);
        else res.on('end', () => resolve(stream));
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error(`/api/events from ${from}: no answer within 30 s`)));
    req.on('error', reject);
    req.end();
  });
}
