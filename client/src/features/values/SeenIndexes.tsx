import { Link } from '../../lib/router';
import type { FeedStatus, SeenIndex } from './values-feed-state';

const EMPTY_TEXT: Record<FeedStatus, string> = {
  loading: 'Loading…',
  ready: 'Nothing submitted yet.',
  error: 'Unavailable until the API answers.',
};

/** The indexes asked for, most recently submitted first, each a link to its value with how often it was submitted. */
export function SeenIndexes({ seen, status }: { seen: SeenIndex[]; status: FeedStatus }) {
  return (
    <section aria-labelledby="seen-title" className="card">
      <h2 id="seen-title">Indexes I have seen</h2>
      {seen.length === 0 ? (
        <p className="muted">{EMPTY_TEXT[status]}</p>
      ) : (
        <ul className="chips">
          {seen.map(({ index, submissions: count }) => (
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
