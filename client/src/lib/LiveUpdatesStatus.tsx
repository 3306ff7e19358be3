import type { LiveStatus } from './use-result-events';

/**
 * Says when live updates stop and come back. The status region is always there (screen readers only
 * follow regions that existed before they changed); it is empty while all is well.
 */
export function LiveUpdatesStatus({ status }: { status: LiveStatus }) {
  return (
    <div role="status" className="live-status">
      {status === 'paused' && <p className="notice">Live updates paused — reconnecting…</p>}
      {status === 'resumed' && <p className="visually-hidden">Live updates resumed.</p>}
    </div>
  );
}
