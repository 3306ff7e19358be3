import { Link } from '../../app/router';
import type { KnownValue, Submission } from './use-values-feed';

function distinctIndexes(submissions: Submission[]): number[] {
  return [...new Set(submissions.map((submission) => submission.index))];
}

/** One row per index submitted, with its value once the worker has stored it. */
export function CalculatedValues({
  submissions,
  values,
  loading,
}: {
  submissions: Submission[];
  values: Record<number, KnownValue>;
  loading: boolean;
}) {
  const indexes = distinctIndexes(submissions);
  return (
    <section aria-labelledby="calculated-title" className="card">
      <h2 id="calculated-title">Calculated values</h2>
      {loading && indexes.length === 0 ? (
        <p className="muted">Loading…</p>
      ) : indexes.length === 0 ? (
        <p className="muted">Values you ask for will appear here.</p>
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
