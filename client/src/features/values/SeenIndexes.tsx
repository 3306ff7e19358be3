import { Link } from '../../lib/router';
import type { FeedStatus, Submission } from './values-feed-state';

const EMPTY_TEXT: Record<FeedStatus, string> = {
  loading: 'Loading…',
  ready: 'Nothing submitted yet.',
  error: 'Unavailable until the API answers.',
};

/** Each index once, most recently submitted first, with how often it was submitted. */
function countByIndex(submissions: Submission[]): Array<{ index: number; count: number }> {
  const counts = new Map<number, number>();
  for (const { index } of submissions) counts.set(index, (counts.get(index) ?? 0) + 1);
  return [...counts].map(([index, count]) => ({ index, count }));
}

/** The indexes asked for, each a link to its value. */
export function SeenIndexes({ submissions, status }: { submissions: Submission[]; status: FeedStatus }) {
  const seen = countByIndex(submissions);
  return (
    <section aria-labelledby="seen-title" className="card">
      <h2 id="seen-title">Indexes I have seen</h2>
      {seen.length === 0 ? (
        <p className="muted">{EMPTY_TEXT[status]}</p>
      ) : (
        <ul className="chips">
          {seen.map(({ index, count }) => (
            <li key={index}>
              <Link href={`/values/${index}`} className="chip">
                {index}
                {count > 1 && (
                  <>
                    <span className="chip-count" aria-hidden="true">
                      ×{count}
                    </span>
                    <span className="visually-hidden"> (submitted {count} times)</span>
                  </>
                )}
              </Link>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
