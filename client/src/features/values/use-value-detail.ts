import { useCallback, useEffect, useRef, useState } from 'react';
import type { ValueDetail } from '@fibstack/contract/values';
import { explain } from '../../lib/error-messages';
import { ApiRequestError } from '../../lib/http';
import { useResultEvents } from '../../lib/use-result-events';
import { getValue, submitIndex } from './api';

/** What the detail page knows about its index. */
export type DetailState =
  | { kind: 'loading' }
  | { kind: 'loaded'; detail: ValueDetail; arrivedLive?: boolean }
  | { kind: 'not-submitted'; calculating?: boolean; failure?: string }
  | { kind: 'error'; message: string };

/**
 * `GET /api/values/:index`, fetched again when the stream announces that index, or starts without
 * resuming while the value may have been stored unannounced, so a pending page turns into the value by itself.
 * `calculate` submits an index that was never submitted.
 */
export function useValueDetail(index: number) {
  const [state, setState] = useState<DetailState>({ kind: 'loading' });
  const requests = useRef(0);
  /** The result of this index was announced while a request was out: a pending answer is already stale. */
  const heard = useRef(false);
  /** A stream started without resuming while the value was on its way: that answer may predate the result. */
  const recheck = useRef(false);

  const show = useCallback((next: DetailState) => {
    const arrived = next.kind === 'loaded' && next.detail.status === 'done';
    setState((current) =>
      arrived && current.kind === 'loaded' && current.detail.status === 'pending' ? { ...next, arrivedLive: true } : next,
    );
  }, []);

  const load = useCallback(async (): Promise<void> => {
    const request = ++requests.current;
    heard.current = false;
    // Keep what is shown while refreshing a pending value; a late answer must not overwrite a newer one.
    setState((current) => (current.kind === 'loaded' ? current : { kind: 'loading' }));
    let next: DetailState;
    try {
      next = { kind: 'loaded', detail: await getValue(index) };
    } catch (error) {
      if (error instanceof ApiRequestError && error.status === 404) next = { kind: 'not-submitted' };
      else next = { kind: 'error', message: explain(error).text };
    }
    if (request !== requests.current) return;
    show(next);
    if (heard.current && next.kind === 'loaded' && next.detail.status === 'pending') return load();
  }, [index, show]);

  const calculate = useCallback(async () => {
    const request = ++requests.current;
    heard.current = false;
    setState({ kind: 'not-submitted', calculating: true });
    try {
      const answer = await submitIndex(index);
      if (request !== requests.current) return;
      if (answer.status === 'done' || heard.current) return void (await load());
      setState({ kind: 'loaded', detail: answer });
    } catch (error) {
      setState({ kind: 'not-submitted', failure: explain(error).text });
    }
  }, [index, load]);

  useEffect(() => {
    void load();
  }, [load]);

  const pending = state.kind === 'loaded' && state.detail.status === 'pending';
  const stream = useResultEvents({
    onResult: (event) => {
      if (event.index !== index) return;
      heard.current = true;
      if (pending) void load();
    },
    onOpen: () => {
      if (state.kind === 'error') void load();
    },
    onMissed: () => {
      if (state.kind === 'loading') recheck.current = true;
      else if (pending) void load();
    },
  });

  // The result may be announced after the submission was answered but before the page rendered it as
  // pending; the stream's handler then saw no pending value. Fetch once it is shown as pending.
  useEffect(() => {
    if (pending && heard.current) void load();
  }, [pending, load]);

  useEffect(() => {
    if (!recheck.current || state.kind === 'loading') return;
    recheck.current = false;
    if (pending) void load();
  }, [state.kind, pending, load]);

  return { state, retry: load, calculate, live: stream.status };
}
