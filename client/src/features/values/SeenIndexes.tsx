import type { Submission } from './use-values-feed';

/** Every submission, newest first, repeats included: the history of what was asked. */
export function SeenIndexes({ submissions, loading }: { submissions: Submission[]; loading: boolean }) {
  return (
    <section aria-labelledby="seen-title" className="card">
      <h2 id="seen-title">Indexes I have seen</h2>
      {loading && submissions.length === 0 ? (
        <p className="muted">Loading…</p>
      ) : submissions.length === 0 ? (
        <p className="muted">Nothing submitted yet.</p>
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
