import { useCallback, useEffect, useRef, useState } from 'react';
import { parseJson } from '@fibstack/contract/json';
import { resultEventSchema, streamReadySchema, type ResultEvent } from '@fibstack/contract/values';

/**
 * The event stream as a person should know it: `paused` while it is down (results are not arriving),
 * `resumed` once it is back after a pause.
 */
export type LiveStatus = 'connecting' | 'live' | 'paused' | 'resumed';

/** What to do with the events of `GET /api/events`. */
export interface ResultEventHandlers {
  onResult: (event: ResultEvent) => void;
  /** Called each time the stream opens, the first time and after each break: the API answers again. */
  onOpen?: () => void;
  /**
   * Called when results may have been missed: a stream started without resuming (the first time, or
   * after a break the server could not bridge: too far behind). Whatever the page shows as pending may
   * be stale. A stream that resumes is sent every result it missed, so this is not called for it.
   */
  onMissed?: () => void;
}

/** The browser retries a dropped stream itself, but gives up on an HTTP error (a proxy's 502); then we do. */
const RESUBSCRIBE_DELAYS_MS = [1_000, 2_000, 5_000, 10_000, 30_000];

/** Where a new stream starts: after the last event seen, if any (an EventSource cannot send Last-Event-ID itself). */
function eventsUrl(lastEventId: string): string {
  return lastEventId ? `/api/events?lastEventId=${encodeURIComponent(lastEventId)}` : '/api/events';
}

/**
 * Listens to `GET /api/events` for as long as the component is mounted, and says whether it is live.
 * Every event carries an id; the browser resumes from the last one by itself when a stream drops, and
 * a stream this hook opens again (after the browser gave up) resumes from it too. The handlers may
 * change between renders without reopening the stream. `isOpen` answers at once (the status only
 * after the next render).
 */
export function useResultEvents(handlers: ResultEventHandlers): { status: LiveStatus; isOpen: () => boolean } {
  const latest = useRef(handlers);
  latest.current = handlers;
  const [status, setStatus] = useState<LiveStatus>('connecting');
  const open = useRef(false);

  useEffect(() => {
    let source: EventSource;
    let resubscribe: ReturnType<typeof setTimeout> | undefined;
    let failures = 0;
    /** The stream was down (dropped, or failed to open) before it opened: it comes back, "resumed". */
    let broken = false;
    /** The id of the last event received: where the next stream starts. */
    let lastEventId = '';

    const subscribe = () => {
      source = new EventSource(eventsUrl(lastEventId));
      source.addEventListener('ready', (message) => {
        const ready = streamReadySchema.safeParse(parseJson((message as MessageEvent<string>).data));
        if (!ready.success) return;
        lastEventId = message.lastEventId;
        if (!ready.data.resumed) latest.current.onMissed?.();
      });
      source.addEventListener('result', (message) => {
        const parsed = resultEventSchema.safeParse(parseJson((message as MessageEvent<string>).data));
        if (!parsed.success) return;
        lastEventId = message.lastEventId;
        latest.current.onResult(parsed.data);
      });
      source.addEventListener('open', () => {
        failures = 0;
        open.current = true;
        setStatus(broken ? 'resumed' : 'live');
        latest.current.onOpen?.();
      });
      source.addEventListener('error', () => {
        open.current = false;
        broken = true;
        setStatus('paused');
        if (source.readyState !== EventSource.CLOSED) return;
        const delay = RESUBSCRIBE_DELAYS_MS[Math.min(failures++, RESUBSCRIBE_DELAYS_MS.length - 1)];
        resubscribe = setTimeout(subscribe, delay);
      });
    };

    subscribe();
    return () => {
      clearTimeout(resubscribe);
      source.close();
      open.current = false;
    };
  }, []);

  return { status, isOpen: useCallback(() => open.current, []) };
}
