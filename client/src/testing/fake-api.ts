import { vi } from 'vitest';

type Handler = (init?: RequestInit) => Response | Promise<Response>;

export function jsonResponse(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

/**
 * Replaces `fetch` at the browser boundary with canned answers by "METHOD path"; component tests check
 * what the page does with answers, the end-to-end suite checks the real API.
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

/** A stand-in EventSource: tests emit `result` events into the page as the server would. */
export class FakeEventSource {
  static last: FakeEventSource | undefined;
  private readonly listeners = new Map<string, Array<(event: MessageEvent) => void>>();
  closed = false;

  constructor(readonly url: string) {
    FakeEventSource.last = this;
  }

  addEventListener(type: string, listener: (event: MessageEvent) => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  emit(type: string, data?: unknown) {
    const event = new MessageEvent(type, { data: data === undefined ? undefined : JSON.stringify(data) });
    for (const listener of this.listeners.get(type) ?? []) listener(event);
  }

  close() {
    this.closed = true;
  }
}

export function installFakeEventSource() {
  vi.stubGlobal('EventSource', FakeEventSource);
}
