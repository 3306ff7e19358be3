import { useCallback, useEffect, useRef, useState } from 'react';
import type { ValueDetail } from '@fibstack/contract/values';
import { ApiRequestError } from '../../lib/http';
import { useResultEvents } from '../../lib/use-result-events';
import { getValue } from './api';

/** What the detail page knows about its index. */
export type DetailState =
  | { kind: 'loading' }
  | { kind: 'loaded'; detail: ValueDetail; arrivedLive?: boolean }
  | { kind: 'not-submitted' }
  | { kind: 'error'; message: string };

const messageOf = (error: unknown) =>
  error instanceof ApiRequestError ? error.message : 'The value could not be loaded.';

/**
 * `GET /api/values/:index`, fetched again when the stream announces that index or (re)opens before the
 * value is known, so a pending page turns into the value by itself.
 */
export function useValueDetail(index: number) {
  const [state, setState] = useState<DetailState>({ kind: 'loading' });
  const requests = useRef(0);

  const load = useCallback(async () => {
    const request = ++requests.current;
    // Keep what is shown while refreshing a pending value; a late answer must not overwrite a newer one.
    setState((current) => (current.kind === 'loaded' ? current : { kind: 'loading' }));
    let next: DetailState;
    try {
      next = { kind: 'loaded', detail: await getValue(index) };
    } catch (error) {
      if (error instanceof ApiRequestError && error.status === 404) next = { kind: 'not-submitted' };
      else next = { kind: 'error', message: messageOf(error) };
    }
    if (request !== requests.current) return;
    const arrived = next.kind === 'loaded' && next.detail.status === 'done';
    setState((current) =>
      arrived && current.kind === 'loaded' && current.detail.status === 'pending' ? { ...next, arrivedLive: true } : next,
    );
  }, [index]);

  useEffect(() => {
    void load();
  }, [load]);

  const done = state.kind === 'loaded' && state.detail.status === 'done';
  useResultEvents({
    onResult: (event) => {
      if (event.index === index && !done) void load();
    },
    onOpen: () => {
      if (!done && state.kind !== 'not-submitted') void load();
    },
  });

  return { state, retry: load };
}
