import type { BrowserContext, Page } from 'playwright-core';

/** What a page's probes recorded. */
export interface Probed {
  /** Text of each live-region change, as assistive technology is told of it, in order. */
  announcements: Array<{ text: string; politeness: 'polite' | 'assertive' }>;
  /** Every `fetch` the page made, as "METHOD path". */
  fetches: string[];
  /** How many times an event stream opened. */
  streamOpens: number;
}

/**
 * Runs before any page script (DevTools init scripts are not subject to the page's CSP): records
 * live-region changes with a MutationObserver, the way screen readers learn of them, and counts the
 * page's requests and event-stream opens. Nothing in the app knows about it.
 */
function probe() {
  const probed: Probed = { announcements: [], fetches: [], streamOpens: 0 };
  (window as unknown as { __probed: Probed }).__probed = probed;

  const regionOf = (node: Node): { element: Element; politeness: 'polite' | 'assertive' } | undefined => {
    for (let element = node instanceof Element ? node : node.parentElement; element; element = element.parentElement) {
      const live = element.getAttribute('aria-live');
      const role = element.getAttribute('role');
      if (live === 'assertive' || role === 'alert') return { element, politeness: 'assertive' };
      if (live === 'polite' || role === 'status' || role === 'log') return { element, politeness: 'polite' };
    }
    return undefined;
  };
  new MutationObserver((mutations) => {
    const changed = new Map<Element, 'polite' | 'assertive'>();
    for (const mutation of mutations) {
      const nodes = mutation.type === 'childList' ? Array.from(mutation.addedNodes) : [mutation.target];
      for (const node of nodes) {
        const region = regionOf(node);
        if (region) changed.set(region.element, region.politeness);
      }
    }
    for (const [element, politeness] of changed) {
      const text = (element.textContent ?? '').trim();
      if (text) probed.announcements.push({ text, politeness });
    }
  }).observe(document, { subtree: true, childList: true, characterData: true });

  const realFetch = window.fetch.bind(window);
  window.fetch = (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input), location.href);
    probed.fetches.push(`${init?.method ?? 'GET'} ${url.pathname}${url.search}`);
    return realFetch(input, init);
  };

  const RealEventSource = window.EventSource;
  window.EventSource = class extends RealEventSource {
    constructor(url: string | URL, init?: EventSourceInit) {
      super(url, init);
      // Registered before the app's own listener, so it has run by the time the app reacts.
      this.addEventListener('open', () => probed.streamOpens++);
    }
  };
}

export async function installProbes(context: BrowserContext): Promise<void> {
  await context.addInitScript(probe);
}

export function probed(page: Page): Promise<Probed> {
  return page.evaluate(() => (window as unknown as { __probed: Probed }).__probed);
}

/** Forgets what was recorded so far, so a check sees only what follows. */
export function resetProbes(page: Page): Promise<void> {
  return page.evaluate(() => {
    const probed = (window as unknown as { __probed: Probed }).__probed;
    probed.announcements.length = 0;
    probed.fetches.length = 0;
  });
}
