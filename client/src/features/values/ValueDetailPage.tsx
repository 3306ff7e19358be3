import { useCallback, useEffect, useState } from 'react';
import type { ValueDetail } from '@fibstack/contract/values';
import { Link } from '../../app/router';
import { ApiRequestError } from '../../lib/http';
import { useResultEvents } from '../../lib/use-result-events';
import { getValue } from './api';

type DetailState =
  | { kind: 'loading' }
  | { kind: 'loaded'; detail: ValueDetail }
  | { kind: 'not-submitted' }
  | { kind: 'error'; message: string };

const WHOLE_NUMBER = /^\d{1,9}$/;

function CopyButton({ text }: { text: string }) {
  const [feedback, setFeedback] = useState('');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setFeedback('Copied');
    } catch {
      setFeedback('Copying is not available here; select the number and copy it instead.');
    }
  };
  return (
    <div className="copy">
      <button type="button" onClick={() => void copy()}>
        Copy
      </button>
      <span role="status">{feedback}</span>
    </div>
  );
}

/** `/values/:index`: the whole number, however long, once it is computed. */
export function ValueDetailPage({ indexParam }: { indexParam: string }) {
  const index = WHOLE_NUMBER.test(indexParam) ? Number(indexParam) : undefined;
  const [state, setState] = useState<DetailState>({ kind: 'loading' });

  const load = useCallback(async () => {
    if (index === undefined) return;
    setState({ kind: 'loading' });
    try {
      setState({ kind: 'loaded', detail: await getValue(index) });
    } catch (error) {
      if (error instanceof ApiRequestError && error.status === 404) setState({ kind: 'not-submitted' });
      else setState({ kind: 'error', message: error instanceof ApiRequestError ? error.message : 'The value could not be loaded.' });
    }
  }, [index]);

  useEffect(() => {
    void load();
  }, [load]);

  const waiting = state.kind === 'loaded' && state.detail.status === 'pending';
  useResultEvents({
    onResult: (event) => {
      if (event.index === index && waiting) void load();
    },
    // The result may have been announced while the stream was down.
    onReconnect: () => {
      if (waiting) void load();
    },
  });

  if (index === undefined) {
    return (
      <section aria-labelledby="detail-title">
        <h1 id="detail-title">Not an index</h1>
        <p role="alert">“{indexParam}” is not a whole number, so there is no value for it.</p>
        <Link href="/">Back to the calculator</Link>
      </section>
    );
  }

  return (
    <section aria-labelledby="detail-title">
      <h1 id="detail-title">Fibonacci({index})</h1>
      {state.kind === 'loading' && <p className="muted">Loading…</p>}
      {state.kind === 'not-submitted' && (
        <p>
          Index {index} has not been submitted yet. <Link href="/">Submit it on the calculator</Link>
        </p>
      )}
      {state.kind === 'error' && (
        <div className="banner" role="alert">
          <p>{state.message}</p>
          <button type="button" onClick={() => void load()}>
            Retry
          </button>
        </div>
      )}
      {state.kind === 'loaded' && state.detail.status === 'pending' && (
        <p className="pending" aria-live="polite">
          Computing… this page updates by itself when the value is ready.
        </p>
      )}
      {state.kind === 'loaded' && state.detail.status === 'done' && (
        <>
          <dl className="facts">
            <dt>Digits</dt>
            <dd>{state.detail.digits.toLocaleString('en')}</dd>
            <dt>Computed in</dt>
            <dd>{state.detail.computeMs < 1 ? '< 1' : Math.round(state.detail.computeMs).toLocaleString('en')} ms</dd>
            <dt>Computed at</dt>
            <dd>
              <time dateTime={state.detail.computedAt}>{new Date(state.detail.computedAt).toLocaleString()}</time>
            </dd>
          </dl>
          <CopyButton text={state.detail.value} />
          <p className="whole-value">{state.detail.value}</p>
        </>
      )}
      <p>
        <Link href="/">Back to the calculator</Link>
      </p>
    </section>
  );
}
