import { useEffect, useRef, type ReactNode } from 'react';
import { arrivedWithoutLoad } from './router';

/**
 * A page's `<h1>`. It names the document after the page, and after an in-page navigation it takes the
 * focus, so a screen reader starts reading at the new page's name (not at a long value below it) and
 * the next Tab moves on from there.
 */
export function PageHeading({ id, title, children }: { id: string; title: string; children?: ReactNode }) {
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    document.title = `${title} — fibstack`;
  }, [title]);

  useEffect(() => {
    if (arrivedWithoutLoad()) heading.current?.focus();
  }, []);

  return (
    <h1 id={id} ref={heading} tabIndex={-1}>
      {children ?? title}
    </h1>
  );
}
