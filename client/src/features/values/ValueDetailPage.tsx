import { useEffect } from 'react';
import { explainCode } from '../../lib/error-messages';
import { useLimits } from '../../lib/limits';
import { LiveUpdatesStatus } from '../../lib/LiveUpdatesStatus';
import { PageHeading } from '../../lib/PageHeading';
import { Link, replacePath } from '../../lib/router';
import { parseIndexInput } from './parse-index-input';
import { useValueDetail } from './use-value-detail';
import { WholeValue } from './WholeValue';

const backHome = (
  <p>
    <Link href="/">Back to the calculator</Link>
  </p>
);

/** Offers to calculate an index never submitted, unless it is beyond what the server accepts. */
function NotSubmitted({
  index,
  calculating,
  failure,
  onCalculate,
}: {
  index: number;
  calculating?: boolean;
  failure?: string;
  onCalculate: () => void;
}) {
  const limits = useLimits();
  if (limits && index > limits.maxIndex) {
    return (
      <p>
        Index {index.toLocaleString('en')} has not been calculated. {explainCode('index_too_large', limits).text}
      </p>
    );
  }
  return (
    <>
      <p>Index {index.toLocaleString('en')} has not been calculated yet.</p>
      <button type="button" onClick={onCalculate} disabled={calculating}>
        {calculating ? 'Sending…' : 'Calculate it'}
      </button>
      {failure && (
        <p role="alert" className="banner">
          {failure}
        </p>
      )}
    </>
  );
}

function Detail({ index }: { index: number }) {
  const { state, retry, calculate, live } = useValueDetail(index);
  const done = state.kind === 'loaded' && state.detail.status === 'done';
  return (
    <section aria-labelledby="detail-title">
      <PageHeading id="detail-title" title={`Fibonacci(${index})`} />
      {state.kind === 'loading' && <p className="muted">Loading…</p>}
      {state.kind === 'not-submitted' && (
        <NotSubmitted index={index} calculating={state.calculating} failure={state.failure} onCalculate={() => void calculate()} />
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
      {state.kind === 'loaded' && state.detail.status === 'done' && <WholeValue detail={state.detail} />}
      {state.kind === 'loaded' && state.detail.status === 'pending' && (
        <>
          <p className="pending">Computing… this page updates by itself when the value is ready.</p>
          <LiveUpdatesStatus status={live} />
        </>
      )}
      {!done && backHome}
    </section>
  );
}

/**
 * `/values/:index`: the whole number, however long, once it is computed. An index written another way
 * ("0010", "1e1") is shown at its canonical address.
 */
export function ValueDetailPage({ indexParam }: { indexParam: string }) {
  const limits = useLimits();
  const checked = parseIndexInput(indexParam);
  const canonical = checked.ok ? String(checked.index) : undefined;
  useEffect(() => {
    if (canonical !== undefined && canonical !== indexParam) replacePath(`/values/${canonical}`);
  }, [canonical, indexParam]);

  if (checked.ok) return canonical === indexParam ? <Detail index={checked.index} /> : null;
  return (
    <section aria-labelledby="detail-title">
      <PageHeading id="detail-title" title="Not an index" />
      <p role="alert">
        “{indexParam}” is not an index. {explainCode(checked.code, limits).text}
      </p>
      {backHome}
    </section>
  );
}
