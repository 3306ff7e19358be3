import { useEffect, useState, type AnchorHTMLAttributes, type MouseEvent } from 'react';

const NAVIGATE_EVENT = 'fibstack:navigate';

/** Whether the page shown was reached without a page load (a link or back/forward inside the app). */
let navigatedInPage = false;

window.addEventListener('popstate', () => {
  navigatedInPage = true;
});

/** Moves to `path` without a page load; every `usePathname` re-renders. */
function navigate(path: string): void {
  navigatedInPage = true;
  window.history.pushState(null, '', path);
  window.scrollTo(0, 0);
  window.dispatchEvent(new Event(NAVIGATE_EVENT));
}

/** Replaces the address of the page shown (e.g. with its canonical form): no new history entry, no page change. */
export function replacePath(path: string): void {
  window.history.replaceState(null, '', path);
  window.dispatchEvent(new Event(NAVIGATE_EVENT));
}

/** After an in-page navigation the new page takes the focus, as a page load would give it to the document. */
export function arrivedWithoutLoad(): boolean {
  return navigatedInPage;
}

/** The current path, following links, back and forward. Two routes do not need a router library. */
export function usePathname(): string {
  const [pathname, setPathname] = useState(window.location.pathname);
  useEffect(() => {
    const update = () => setPathname(window.location.pathname);
    window.addEventListener('popstate', update);
    window.addEventListener(NAVIGATE_EVENT, update);
    // A child's effect may have replaced the path before this one listened (effects run children first).
    update();
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(NAVIGATE_EVENT, update);
    };
  }, []);
  return pathname;
}

/** An ordinary link (it works with a middle click or without JavaScript) that navigates in place. */
export function Link({ href, onClick, ...props }: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  const handleClick = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    const newTab = event.metaKey || event.ctrlKey || event.shiftKey || event.altKey;
    if (event.defaultPrevented || event.button !== 0 || newTab) return;
    event.preventDefault();
    navigate(href);
  };
  return <a href={href} onClick={handleClick} {...props} />;
}
