import { HomePage } from '../features/values/HomePage';
import { ValueDetailPage } from '../features/values/ValueDetailPage';
import { Link, usePathname } from './router';

const DETAIL_ROUTE = /^\/values\/([^/]+)\/?$/;

/** The page shell: a header, and the page the current path names (deep links work on first load). */
export function App() {
  const pathname = usePathname();
  const detail = DETAIL_ROUTE.exec(pathname);
  return (
    <>
      <header className="site-header">
        <Link href="/" className="brand">
          fibstack
        </Link>
      </header>
      <main className="page">
        {detail ? (
          <ValueDetailPage indexParam={decodeURIComponent(detail[1]!)} />
        ) : pathname === '/' ? (
          <HomePage />
        ) : (
          <section aria-labelledby="not-found-title">
            <h1 id="not-found-title">Page not found</h1>
            <p>
              There is nothing at <code>{pathname}</code>. <Link href="/">Back to the calculator</Link>
            </p>
          </section>
        )}
      </main>
    </>
  );
}
