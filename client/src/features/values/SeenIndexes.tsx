import type { FeedStatus, Submission } from './values-feed-state';

const EMPTY_TEXT: Record<FeedStatus, string> = {
  loading: 'Loading…',
  ready: 'Nothing submitted yet.',
  error: 'Unavailable until the API answers.',
};

/** Every submission, newest first, repeats included: the history of what was asked. */
export function SeenIndexes({ submissions, status }: { submissions: Submission[]; status: FeedStatus }) {
  return (
    <section aria-labelledby="seen-title" className="card">
      <h2 id="seen-title">Indexes I have seen</h2>
      {submissions.length === 0 ? (
        <p className="muted">{EMPTY_TEXT[status]}</p>
      ) : (
        <ul className="chips">
          {submissions.map((submission) => (
            <li key={submission.id}>{submission.index}</li>
          ))}
        </ul>
      )}
    </section>
  );
}
