import { LiveRegion, useAnnouncer } from '../../lib/LiveRegion';
import { LiveUpdatesStatus } from '../../lib/LiveUpdatesStatus';
import { PageHeading } from '../../lib/PageHeading';
import { CalculatedValues } from './CalculatedValues';
import { SeenIndexes } from './SeenIndexes';
import { SubmitForm } from './SubmitForm';
import { useValuesFeed, type ShownValue } from './use-values-feed';

function announcementOf({ index, value, digits, truncated }: ShownValue): string {
  return `Fibonacci(${index}) = ${truncated ? `a ${digits.toLocaleString('en')}-digit number` : value}`;
}

/** `/`: the form, the submitted indexes, and their values, kept current by the event stream. */
export function HomePage() {
  const [announcement, announce] = useAnnouncer();
  const feed = useValuesFeed((value) => announce(announcementOf(value)));

  return (
    <>
      <PageHeading id="home-title" title="Fibonacci calculator" />
      <p className="lede">Submit an index; its Fibonacci number is computed exactly and appears below as soon as it is ready.</p>
      <SubmitForm onSubmitted={feed.addSubmission} />
      <LiveRegion announcement={announcement} />
      <LiveUpdatesStatus status={feed.live} />

      {feed.status === 'error' && (
        <div className="banner" role="alert">
          <p>{feed.error}</p>
          <button type="button" onClick={() => void feed.reload()}>
            Retry
          </button>
        </div>
      )}

      <SeenIndexes seen={feed.seen} status={feed.status} />
      <CalculatedValues seen={feed.seen} values={feed.values} status={feed.status} />

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
