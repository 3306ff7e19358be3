import { vi } from 'vitest';

type Handler = (init?: RequestInit) => Response | Promise<Response>;

export function jsonResponse(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

/**
 * Replaces `fetch` at the browser boundary with canned answers by "METHOD path"; component tests check
 * what the page does with answers, the browser suites check the real API. A path without an answer
 * fails as an unreachable API would. Returns every call made, in order.
 */
export function stubApi(routes: Record<string, Handler>) {
  const calls: string[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init?: RequestInit) => {
      const key = `${init?.method ?? 'GET'} ${url}`;
      calls.push(key);
      const handler = routes[key];
      if (!handler) throw new TypeError(`Failed to fetch ${key}`);
      return handler(init);
    }),
  );
  return calls;
}

/** The calls that read values, leaving out the page's one-off `GET /api/limits`. */
export const valueCalls = (calls: string[]) => calls.filter((call) => call.includes('/api/values'));

/** A stand-in EventSource: tests open, break and feed the stream as the server and network would. */
export class FakeEventSource {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 2;
  static last: FakeEventSource | undefined;
  static opened = 0;
  private readonly listeners = new Map<string, Array<(event: MessageEvent) => void>>();
  readyState = FakeEventSource.CONNECTING;

  constructor(readonly url: string) {
    FakeEventSource.last = this;
    FakeEventSource.opened++;
  }

  addEventListener(type: string, listener: (event: MessageEvent) => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  /** Dispatches one event; `lastEventId` is the id the server gave it (its SSE `id:` field). */
  emit(type: string, data?: unknown, lastEventId = '') {
    if (type === 'open') this.readyState = FakeEventSource.OPEN;
    const event = new MessageEvent(type, { data: data === undefined ? undefined : JSON.stringify(data), lastEventId });
    for (const listener of this.listeners.get(type) ?? []) listener(event);
  }

  /** The stream opens as the server starts every stream: `open`, then `ready` with the id it starts after. */
  start({ resumed = false, lastEventId = '1' } = {}) {
    this.emit('open');
    this.emit('ready', { resumed }, lastEventId);
  }

  /** The connection breaks: the browser retries by itself, unless the server answered an HTTP error (`gaveUp`). */
  fail({ gaveUp = false } = {}) {
    this.readyState = gaveUp ? FakeEventSource.CLOSED : FakeEventSource.CONNECTING;
    this.emit('error');
  }

  close() {
    this.readyState = FakeEventSource.CLOSED;
  }
}

export function installFakeEventSource() {
  FakeEventSource.opened = 0;
  vi.stubGlobal('EventSource', FakeEventSource);
}
