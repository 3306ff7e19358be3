import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAxe, WCAG_TAGS } from './axe.js';
import { submitIndex } from '@fibstack/devstack/testkit';
import { computed, startE2eStack, type E2eStack } from './e2e-stack.js';

/** The page background of each scheme: the dark palette must really apply when the system asks for it. */
const BACKGROUND = { light: 'rgb(255, 255, 255)', dark: 'rgb(13, 17, 23)' };

/**
 * axe-core (WCAG 2.1 A and AA, and 2.2's target size) in Chromium on every state a person can meet,
 * each in the light and the dark scheme, against the real native stack. Each state is reached for
 * real (an empty database, a stopped worker, a stopped server) and checked to be on screen first.
 */
describe(`accessibility (axe-core: ${WCAG_TAGS.join(', ')})`, () => {
  let e2e: E2eStack;
  let base: string;
  const report: Array<{ state: string; scheme: string; violations: number; passes: number; incomplete: number }> = [];

  beforeAll(async () => {
    e2e = await startE2eStack();
    base = e2e.stack.url;
  });
  afterAll(async () => {
    console.table(report);
    await e2e?.close();
  });

  /** Runs axe on the page as it is, in both schemes; each must have no violation. */
  async function audit(page: Page, state: string): Promise<void> {
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      expect(await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor)).toBe(BACKGROUND[scheme]);
      const result = await runAxe(page);
      report.push({ state, scheme, violations: result.violations.length, passes: result.passes, incomplete: result.incomplete.length });
      expect(result.violations, `${state}, ${scheme}`).toEqual([]);
    }
    await page.emulateMedia({ colorScheme: 'light' });
  }

  async function open(path: string): Promise<Page> {
    const page = await e2e.browser.newPage();
    await page.goto(`${base}${path}`);
    return page;
  }

  /** Holds answers to requests matching `url` until `release`, as a slow network would. */
  async function hold(page: Page, url: string): Promise<() => void> {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route(url, async (route) => {
      await held;
      await route.continue().catch(() => undefined);
    });
    return release;
  }

  const submit = async (page: Page, text: string) => {
    await page.getByRole('textbox', { name: 'Index' }).fill(text);
    await page.getByRole('button', { name: 'Calculate' }).click();
  };

  it('the static shell, before any script has run', async () => {
    const page = await e2e.browser.newPage();
    const release = await hold(page, '**/assets/*.js');
    await page.goto(base, { waitUntil: 'commit' });
    // Painted: the stylesheet (render-blocking) has applied, so colours are the page's own.
    await page.waitForFunction(() => performance.getEntriesByName('first-contentful-paint').length === 1);
    await page.getByRole('button', { name: 'Calculate' }).waitFor();
    await audit(page, 'static shell (script not yet run)');
    release();
    await page.close();
  });

  it('the home page: loading, empty, a refused index', async () => {
    const page = await e2e.browser.newPage();
    const release = await hold(page, '**/api/values');
    await page.goto(base);
    await page.getByRole('region', { name: 'Calculated values' }).getByText('Loading…').waitFor();
    await audit(page, 'home: loading');
    release();
    await page.getByText('Nothing submitted yet.').waitFor();
    await audit(page, 'home: nothing submitted yet');
    await submit(page, 'abc');
    await page
      .getByRole('alert')
      .getByText(/^Use digits only\./)
      .waitFor();
    await audit(page, 'home: refused index (field error)');
    await page.close();
  });

  it('the home page and the detail page with values, pending and computed, short and long', async () => {
    for (const index of [10, 12, 10, 5000]) {
      expect(await submitIndex(base, index)).toBeLessThan(300);
      await computed(base, index);
    }
    await e2e.stack.stopService('worker');
    try {
      expect(await submitIndex(base, 600)).toBe(202);
      const home = await open('/');
      await home.getByText('pending…').waitFor();
      await home.getByRole('link', { name: '(1,045 digits, see all)' }).waitFor();
      await audit(home, 'home: values, pending and computed, chips with counts');
      await home.close();

      const pending = await open('/values/600');
      await pending.getByText(/^Computing…/).waitFor();
      await audit(pending, 'detail: pending');
      await pending.close();
    } finally {
      await e2e.stack.startService('worker');
    }

    const short = await open('/values/10');
    await short.getByTestId('whole-value').waitFor();
    await audit(short, 'detail: short value');
    await short.close();

    const long = await open('/values/5000');
    await long.getByRole('button', { name: 'Show all 1,045 digits' }).waitFor();
    await audit(long, 'detail: long value, collapsed');
    await long.getByRole('button', { name: 'Show all 1,045 digits' }).click();
    await long.getByRole('button', { name: 'Show fewer digits' }).waitFor();
    await audit(long, 'detail: long value, expanded');
    await long.getByRole('button', { name: 'Copy' }).click();
    await long.getByRole('status').filter({ hasText: /Cop/ }).waitFor();
    await audit(long, 'detail: copy feedback');
    await long.close();
  });

  it('the detail page for an index never submitted, a path that is no index, and an unknown page', async () => {
    const never = await open('/values/77777');
    await never.getByRole('button', { name: 'Calculate it' }).waitFor();
    await audit(never, 'detail: never submitted (Calculate it)');
    await never.close();

    const notIndex = await open('/values/abc');
    await notIndex.getByRole('heading', { name: 'Not an index' }).waitFor();
    await audit(notIndex, 'detail: not an index');
    await notIndex.close();

    const unknown = await open('/nowhere');
    await unknown.getByRole('heading', { name: 'Page not found' }).waitFor();
    await audit(unknown, 'page not found');
    await unknown.close();
  });

  it('every page while the API is down', async () => {
    expect(await submitIndex(base, 10)).toBeLessThan(300);
    // 11's value is never fetched while the API is up: a computed value is cached for good (immutable), so
    // only a value the browser has not seen shows the detail page's "API unreachable" state.
    expect(await submitIndex(base, 11)).toBeLessThan(300);
    await computed(base, 10);
    await computed(base, 11);
    // One page has the detail page's code already; the other must fetch it once the server is gone.
    const page = await open('/values/10');
    await page.getByTestId('whole-value').waitFor();
    await page.getByRole('link', { name: 'Back to the calculator' }).click();
    await page.getByRole('link', { name: /^10\b/ }).first().waitFor();
    const fresh = await e2e.browser.newPage();
    // Otherwise the detail page's code would come from the HTTP cache, where the first page put it.
    const cdp = await e2e.browser.newCDPSession(fresh);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    await fresh.goto(base);
    await fresh.getByRole('link', { name: /^10\b/ }).first().waitFor();

    await e2e.stack.stopService('server');
    try {
      await page.getByText('Live updates paused — reconnecting…').waitFor();
      await audit(page, 'home: live updates paused');
      await submit(page, '42');
      await page
        .getByRole('alert')
        .getByText(/^The calculator cannot be reached/)
        .waitFor();
      await audit(page, 'home: API unreachable on submit (form error)');

      await page.getByRole('region', { name: 'Indexes I have seen' }).getByRole('link', { name: /^11\b/ }).click();
      await page.getByRole('button', { name: 'Retry' }).waitFor();
      await audit(page, 'detail: API unreachable (Retry)');
      await page.getByRole('banner').getByRole('link', { name: 'fibstack' }).click();
      await page.getByText('Unavailable until the API answers.').first().waitFor();
      await audit(page, 'home: list unavailable (Retry)');

      await fresh.getByRole('region', { name: 'Indexes I have seen' }).getByRole('link', { name: /^10\b/ }).click();
      await fresh.getByText('This page could not be shown.', { exact: false }).waitFor();
      await audit(fresh, 'page code unavailable (error boundary)');
    } finally {
      await e2e.stack.startService('server');
      await page.close();
      await fresh.close();
    }
  });
});
