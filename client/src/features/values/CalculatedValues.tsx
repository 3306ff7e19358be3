import { Link } from '../../lib/router';
import type { FeedStatus, KnownValue, SeenIndex } from './values-feed-state';

const EMPTY_TEXT: Record<FeedStatus, string> = {
  loading: 'Loading…',
  ready: 'Values you ask for will appear here.',
  error: 'Unavailable until the API answers.',
};

/** One row per index submitted, with its value once the worker has stored it. */
export function CalculatedValues({ seen, values, status }: { seen: SeenIndex[]; values: Record<number, KnownValue>; status: FeedStatus }) {
  const indexes = seen.map((entry) => entry.index);
  return (
    <section aria-labelledby="calculated-title" className="card">
      <h2 id="calculated-title">Calculated values</h2>
      {indexes.length === 0 ? (
        <p className="muted">{EMPTY_TEXT[status]}</p>
      ) : (
        <ul className="values">
          {indexes.map((index) => {
            const known = values[index];
            return (
              <li key={index} data-status={known ? 'done' : 'pending'}>
                <span>
                  For index <Link href={`/values/${index}`}>{index}</Link> I calculated{' '}
                </span>
                {known ? (
                  <span className="value">
                    {known.value}
                    {known.truncated && (
                      <>
                        {' '}
                        <Link href={`/values/${index}`}>({known.digits.toLocaleString('en')} digits, see all)</Link>
                      </>
                    )}
                  </span>
                ) : (
                  <span className="pending">pending…</span>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
