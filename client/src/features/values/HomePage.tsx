import { useState } from 'react';
import type { ResultEvent, SubmitResponse } from '@fibstack/contract/values';
import { useResultEvents } from '../../lib/use-result-events';
import { CalculatedValues } from './CalculatedValues';
import { SeenIndexes } from './SeenIndexes';
import { SubmitForm } from './SubmitForm';
import { useValuesFeed } from './use-values-feed';

type Announced = Pick<ResultEvent, 'index' | 'value' | 'digits' | 'truncated'>;

function announcementOf({ index, value, digits, truncated }: Announced): string {
  return `Fibonacci(${index}) = ${truncated ? `a ${digits.toLocaleString('en')}-digit number` : value}`;
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
    // Fetch again when a result may have been announced before the stream could deliver it.
    onOpen: (reconnected) => {
      if (reconnected || feed.status !== 'ready' || feed.waiting) void feed.reload();
    },
  });

  const submitted = (response: SubmitResponse) => {
    feed.addSubmission(response);
    if (response.status === 'done') setAnnouncement(announcementOf(response));
  };

  return (
    <>
      <h1>Fibonacci calculator</h1>
      <p className="lede">Submit an index; its Fibonacci number is computed exactly and appears below as soon as it is ready.</p>
      <SubmitForm onSubmitted={submitted} />
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
