import { lazy, Suspense } from 'react';
import { HomePage } from '../features/values/HomePage';
import { PageHeading } from '../lib/PageHeading';
import { Link, usePathname } from '../lib/router';
import { ErrorBoundary } from './ErrorBoundary';

const DETAIL_ROUTE = /^\/values\/([^/]+)\/?$/;

// Its own chunk: the first load of the home page stays within the JavaScript budget.
const ValueDetailPage = lazy(async () => ({
  default: (await import('../features/values/ValueDetailPage')).ValueDetailPage,
}));

/** A malformed escape such as `%E0` is shown as typed rather than breaking the page. */
function decodeParam(param: string): string {
  try {
    return decodeURIComponent(param);
  } catch {
    return param;
  }
}

function NotFound({ pathname }: { pathname: string }) {
  return (
    <section aria-labelledby="not-found-title">
      <PageHeading id="not-found-title" title="Page not found" />
      <p>
        There is nothing at <code>{pathname}</code>. <Link href="/">Back to the calculator</Link>
      </p>
    </section>
  );
}

/**
 * The page shell: a header, and the page the current path names (deep links work on first load). It
 * repeats the static shell of index.html, which it replaces, so the first paint does not move.
 */
export function App() {
  const pathname = usePathname();
  const detail = DETAIL_ROUTE.exec(pathname);
  const indexParam = detail && decodeParam(detail[1]!);

  return (
    <>
      <header className="site-header">
        <Link href="/" className="brand">
          fibstack
        </Link>
      </header>
      <main className="page">
        {indexParam !== null ? (
          <ErrorBoundary key={indexParam}>
            <Suspense fallback={<p className="muted">Loading…</p>}>
              <ValueDetailPage indexParam={indexParam} />
            </Suspense>
          </ErrorBoundary>
        ) : pathname === '/' ? (
          <HomePage />
        ) : (
          <NotFound pathname={pathname} />
        )}
      </main>
    </>
  );
}
