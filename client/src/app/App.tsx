import { lazy, Suspense, useEffect, useRef } from 'react';
import { HomePage } from '../features/values/HomePage';
import { ErrorBoundary } from './ErrorBoundary';
import { Link, usePathname } from './router';

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
      <h1 id="not-found-title">Page not found</h1>
      <p>
        There is nothing at <code>{pathname}</code>. <Link href="/">Back to the calculator</Link>
      </p>
    </section>
  );
}

/** The page shell: a header, and the page the current path names (deep links work on first load). */
export function App() {
  const pathname = usePathname();
  const detail = DETAIL_ROUTE.exec(pathname);
  const indexParam = detail && decodeParam(detail[1]!);
  const main = useRef<HTMLElement>(null);
  const shown = useRef(pathname);

  // After an in-page navigation, start screen readers and keyboards at the new page, as a load would.
  useEffect(() => {
    if (shown.current === pathname) return;
    shown.current = pathname;
    main.current?.focus();
  }, [pathname]);

  return (
    <>
      <header className="site-header">
        <Link href="/" className="brand">
          fibstack
        </Link>
      </header>
      <main className="page" ref={main} tabIndex={-1}>
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
