import { DEFAULT_MAX_INDEX, type ValueDetail } from '@fibstack/contract/values';
import { Link } from '../../app/router';
import { CopyButton } from './CopyButton';
import { parseIndexInput } from './parse-index-input';
import { useValueDetail } from './use-value-detail';

type DoneDetail = Extract<ValueDetail, { status: 'done' }>;

const backHome = <Link href="/">Back to the calculator</Link>;

function WholeValue({ detail }: { detail: DoneDetail }) {
  return (
    <>
      <dl className="facts">
        <dt>Digits</dt>
        <dd>{detail.digits.toLocaleString('en')}</dd>
        <dt>Computed in</dt>
        <dd>{detail.computeMs < 1 ? '< 1' : Math.round(detail.computeMs).toLocaleString('en')} ms</dd>
        <dt>Computed at</dt>
        <dd>
          <time dateTime={detail.computedAt}>{new Date(detail.computedAt).toLocaleString()}</time>
        </dd>
      </dl>
      <CopyButton text={detail.value} />
      <p className="whole-value" data-testid="whole-value">
        {detail.value}
      </p>
    </>
  );
}

function Detail({ index }: { index: number }) {
  const { state, retry } = useValueDetail(index);
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
          <button type="button" onClick={() => void retry()}>
            Retry
          </button>
        </div>
      )}
      <p className="visually-hidden" aria-live="polite">
        {state.kind === 'loaded' && state.arrivedLive && `Fibonacci(${index}) is ready.`}
      </p>
      {state.kind === 'loaded' &&
        (state.detail.status === 'done' ? (
          <WholeValue detail={state.detail} />
        ) : (
          <p className="pending">Computing… this page updates by itself when the value is ready.</p>
        ))}
      <p>{backHome}</p>
    </section>
  );
}

/** `/values/:index`: the whole number, however long, once it is computed. */
export function ValueDetailPage({ indexParam }: { indexParam: string }) {
  const checked = parseIndexInput(indexParam, DEFAULT_MAX_INDEX);
  if (checked.ok && String(checked.index) === indexParam) return <Detail index={checked.index} />;
  return (
    <section aria-labelledby="detail-title">
      <h1 id="detail-title">Not an index</h1>
      <p role="alert">
        “{indexParam}” is not an index: {checked.ok ? 'write it as digits only' : checked.message}.
      </p>
      <p>{backHome}</p>
    </section>
  );
}
