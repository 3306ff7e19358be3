import { useEffect, useRef } from 'react';
import { resultEventSchema, type ResultEvent } from '@fibstack/contract/values';

/** What to do with the events of `GET /api/events`. */
export interface ResultEventHandlers {
  onResult: (event: ResultEvent) => void;
  /**
   * Called each time the stream opens. Results announced before that were not received: on the first
   * open, those since the page fetched its data; after a break (`reconnected`), those during it.
   */
  onOpen?: (reconnected: boolean) => void;
}

/** Malformed event data is ignored like any other event that does not match the contract. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Listens to `GET /api/events` for as long as the component is mounted. EventSource reconnects by
 * itself; the handlers may change between renders without reopening the stream.
 */
export function useResultEvents(handlers: ResultEventHandlers): void {
  const latest = useRef(handlers);
  latest.current = handlers;

  useEffect(() => {
    const source = new EventSource('/api/events');
    let opened = false;
    source.addEventListener('result', (message) => {
      const parsed = resultEventSchema.safeParse(parseJson((message as MessageEvent<string>).data));
      if (parsed.success) latest.current.onResult(parsed.data);
    });
    source.addEventListener('open', () => {
      latest.current.onOpen?.(opened);
      opened = true;
    });
    return () => source.close();
  }, []);
}
