import { useEffect, useRef } from 'react';
import { resultEventSchema, type ResultEvent } from '@fibstack/contract/values';

export interface ResultEventHandlers {
  onResult: (event: ResultEvent) => void;
  /** Called when the stream is back after a break: events sent meanwhile were missed. */
  onReconnect?: () => void;
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
    let broken = false;
    source.addEventListener('result', (message) => {
      const parsed = resultEventSchema.safeParse(JSON.parse((message as MessageEvent<string>).data));
      if (parsed.success) latest.current.onResult(parsed.data);
    });
    source.addEventListener('error', () => (broken = true));
    source.addEventListener('open', () => {
      if (broken) latest.current.onReconnect?.();
      broken = false;
    });
    return () => source.close();
  }, []);
}
