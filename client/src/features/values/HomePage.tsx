import { useState } from 'react';
import type { ResultEvent } from '@fibstack/contract/values';
import { useResultEvents } from '../../lib/use-result-events';
import { CalculatedValues } from './CalculatedValues';
import { SeenIndexes } from './SeenIndexes';
import { SubmitForm } from './SubmitForm';
import { useValuesFeed } from './use-values-feed';

function announcementOf(event: ResultEvent): string {
  return `Fibonacci(${event.index}) = ${event.truncated ? `a ${event.digits}-digit number` : event.value}`;
}

/** `/`: the form, every submission, and every value, kept current by the event stream. */
export function HomePage() {
  const feed = useValuesFeed();
  const [announcement, setAnnouncement] = useState('');

  useResultEvents({
    onResult: (event) => {
      feed.applyResult(event);
      setAnnouncement(announcementOf(event));
    },
    onReconnect: () => void feed.reload(),
  });

  return (
    <>
      <h1>Fibonacci calculator</h1>
      <p className="lede">Submit an index; its Fibonacci number is computed exactly and appears below as soon as it is ready.</p>
      <SubmitForm onSubmitted={feed.addSubmission} />
      <p className="visually-hidden" aria-live="polite" aria-atomic="true">
        {announcement}
      </p>

      {feed.status === 'error' && (
        <div className="banner" role="alert">
          <p>{feed.error}</p>
          <button type="button" onClick={() => void feed.reload()}>
            Retry
          </button>
        </div>
      )}

      <SeenIndexes submissions={feed.submissions} status={feed.status} />
      <CalculatedValues submissions={feed.submissions} values={feed.values} status={feed.status} />

      {feed.nextCursor && (
        <button type="button" className="load-more" onClick={() => void feed.loadMore()} disabled={feed.loadingMore}>
          {feed.loadingMore ? 'Loading…' : 'Load more'}
        </button>
      )}
      {feed.status === 'ready' && feed.error && (
        <p className="field-error" role="alert">
          {feed.error}
        </p>
      )}
    </>
  );
}
