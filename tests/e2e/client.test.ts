import { gzipSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submitIndex } from '@fibstack/devstack/testkit';
import { computed, relayed, startE2eStack, type E2eStack } from './e2e-stack.js';
import { probed, resetProbes } from '../support/page-probes.js';

/** The client's first load must stay within this much JavaScript, gzipped (React alone is ~60 KiB). */
const INITIAL_JS_BUDGET_BYTES = 80 * 1024;
/** Not the default (100,000): what the page says and checks must come from `GET /api/limits`. */
const MAX_INDEX = 200_000;
const RULE = 'Enter a whole number from 0 to 200,000.';
const UNREACHABLE = 'The calculator cannot be reached. Check your connection, then try again.';
const PAUSED = 'Live updates paused — reconnecting…';

/**
 * What a person meets in the client, in a real Chromium against the real native stack: first paint,
 * announcements, errors, live-update breaks, focus, the detail page and the chips. Each check fails
 * when the behaviour it names is taken out.
 */
describe('the client in Chromium', () => {
  let e2e: E2eStack;
  let base: string;

  beforeAll(async () => {
    e2e = await startE2eStack({ MAX_INDEX: String(MAX_INDEX) });
    base = e2e.stack.url;
  });
  afterAll(() => e2e?.close());

  const index = (page: Page) => page.getByRole('textbox', { name: 'Index' });
  const calculated = (page: Page) => page.getByRole('region', { name: 'Calculated values' });
  const seen = (page: Page) => page.getByRole('region', { name: 'Indexes I have seen' });
  /** The app has started and knows the server's limits. */
  const started = (page: Page) => page.getByText(`A whole number from 0 to ${MAX_INDEX.toLocaleString('en')}.`).waitFor();

  /** The page's event stream has opened (once). */
  const streamOpen = (page: Page) =>
    page.waitForFunction(() => (window as unknown as { __probed: { streamOpens: number } }).__probed.streamOpens === 1);

  async function open(path = '/'): Promise<Page> {
    const page = await e2e.browser.newPage();
    await page.goto(`${base}${path}`);
    return page;
  }

  async function submit(page: Page, text: string) {
    await index(page).fill(text);
    await page.getByRole('button', { name: 'Calculate' }).click();
  }

  /** Holds the page's scripts back until `release`, as a slow connection would. */
  async function holdScripts(page: Page): Promise<() => void> {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route('**/assets/*.js', async (route) => {
      await held;
      await route.continue();
    });
    return release;
  }

  it('paints the header, heading and form before any script runs, and keeps what was typed into them', async () => {
    const page = await e2e.browser.newPage();
    const release = await holdScripts(page);
    await page.goto(base, { waitUntil: 'commit' });
    await page.getByRole('heading', { level: 1, name: 'Fibonacci calculator' }).waitFor();
    await page.waitForFunction(() => performance.getEntriesByName('first-contentful-paint').length === 1);
    expect(await page.getByRole('button', { name: 'Calculate' }).isVisible()).toBe(true);
    expect((await probed(page)).fetches).toEqual([]);

    await index(page).fill('12');
    release();
    await started(page);
    expect(await index(page).inputValue()).toBe('12');
    expect(await index(page).evaluate((input) => input === document.activeElement)).toBe(true);
    await page.close();
  });

  it('carries an index submitted before the script ran into the form, without submitting it', async () => {
    const page = await e2e.browser.newPage();
    const release = await holdScripts(page);
    await page.goto(base, { waitUntil: 'commit' });
    await index(page).fill('21');
    await index(page).press('Enter');
    await page.waitForURL(`${base}/?index=21`, { waitUntil: 'commit' });
    release();
    await started(page);
    expect(await index(page).inputValue()).toBe('21');
    expect(new URL(page.url()).search).toBe('');
    expect((await probed(page)).fetches.filter((call) => call.startsWith('POST'))).toEqual([]);
    await page.close();
  });

  it('is sent compressed, and its first load stays within the JavaScript budget', async () => {
    const page = await e2e.browser.newPage();
    const cdp = await e2e.browser.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    const encodings = new Map<string, string | undefined>();
    page.on('response', (response) => {
      const type = response.request().resourceType();
      if (['document', 'script', 'stylesheet'].includes(type)) encodings.set(type, response.headers()['content-encoding']);
    });
    await page.goto(base);
    await started(page);
    expect(Object.fromEntries(encodings)).toEqual({
      document: expect.stringMatching(/^(br|gzip)$/),
      script: expect.stringMatching(/^(br|gzip)$/),
      stylesheet: expect.stringMatching(/^(br|gzip)$/),
    });

    // The budget is for gzip: fetch each script the first load ran, as gzip.
    const scripts = await page.evaluate(() =>
      performance
        .getEntriesByType('resource')
        .filter((entry) => (entry as PerformanceResourceTiming).initiatorType === 'script')
        .map((entry) => entry.name),
    );
    expect(scripts.length).toBeGreaterThan(0);
    let gzipped = 0;
    for (const script of scripts) {
      const response = await fetch(script, { headers: { 'Accept-Encoding': 'identity' } });
      gzipped += gzipSync(Buffer.from(await response.arrayBuffer())).length;
    }
    console.log(`initial JS: ${scripts.length} script(s), ${(gzipped / 1024).toFixed(1)} KiB gzipped`);
    expect(gzipped).toBeLessThanOrEqual(INITIAL_JS_BUDGET_BYTES);
    await page.close();
  });

  it('asks for each first resource once, however the event stream opens', async () => {
    expect(await submitIndex(base, 10)).toBeLessThan(300);
    await computed(base, 10);
    const pages: Array<[path: string, shown: (page: Page) => Promise<void>, fetches: string[]]> = [
      ['/', (page) => calculated(page).getByText(/^55$/).waitFor(), ['GET /api/limits', 'GET /api/values']],
      ['/values/10', (page) => page.getByTestId('whole-value').waitFor(), ['GET /api/limits', 'GET /api/values/10']],
    ];
    for (const [path, shown, fetches] of pages) {
      const page = await open(path);
      await shown(page);
      await streamOpen(page);
      // A keystroke makes React run every effect still pending before it renders again.
      await page.keyboard.press('Tab');
      expect([...(await probed(page)).fetches].sort()).toEqual(fetches);
      await page.close();
    }
  });

  it('announces the results of indexes it shows, and not those of indexes submitted elsewhere', async () => {
    const page = await open();
    await started(page);
    await streamOpen(page);
    // Relayed to every stream, this page's included, before the result of 22 below.
    await relayed(base, 777, () => submitIndex(base, 777));
    await submit(page, '22');
    await calculated(page)
      .getByText(/^17711$/)
      .waitFor();
    const { announcements } = await probed(page);
    expect(announcements).toContainEqual({ text: 'Fibonacci(22) = 17711', politeness: 'polite' });
    expect(announcements.filter((announcement) => announcement.text.includes('777'))).toEqual([]);
    await page.close();
  });

  it('refuses bad input in plain words from the server limits, and announces a repeated mistake again', async () => {
    const page = await open();
    await started(page);
    await submit(page, String(MAX_INDEX + 1));
    await page.getByRole('alert').getByText(`That is more than 200,000, the largest index calculated here. ${RULE}`).waitFor();
    await resetProbes(page);
    await submit(page, 'abc');
    await submit(page, 'abc');
    await page.getByRole('button', { name: 'Calculate' }).waitFor();
    const said = (await probed(page)).announcements.filter((announcement) => announcement.politeness === 'assertive');
    expect(said).toEqual([
      { text: `Use digits only. ${RULE}`, politeness: 'assertive' },
      { text: `Use digits only. ${RULE}`, politeness: 'assertive' },
    ]);
    expect(await index(page).getAttribute('aria-invalid')).toBe('true');
    await page.close();
  });

  it('explains an unreachable API on the form, pauses live updates visibly, and catches up when they resume', async () => {
    const page = await open();
    await started(page);
    await streamOpen(page);
    const status = page.getByRole('status').filter({ hasText: PAUSED });
    // From here on a proxy answers the event stream with 502, even once the server is back, until
    // `unroute`. On an HTTP error the browser gives up on the stream: the page must subscribe again
    // (from its last event id, `?lastEventId=`, which the block covers too).
    const events = /\/api\/events(\?.*)?$/;
    await page.route(events, (route) => route.fulfill({ status: 502, contentType: 'text/html', body: 'Bad Gateway' }));
    await e2e.stack.stopService('server');
    try {
      await status.waitFor();
      await submit(page, '42');
      const alert = page.getByRole('alert');
      await alert.getByText(UNREACHABLE, { exact: true }).waitFor();
      expect(await index(page).getAttribute('aria-invalid')).toBeNull();
      expect(await index(page).getAttribute('aria-describedby')).not.toContain(await alert.getAttribute('id'));
    } finally {
      await e2e.stack.startService('server');
    }

    // The API answers again but the stream is still blocked: 23 is computed and its event missed.
    await submit(page, '23');
    await calculated(page).getByText('pending…').waitFor();
    await computed(base, 23);
    expect(
      await calculated(page)
        .getByText(/^28657$/)
        .count(),
    ).toBe(0);
    expect(await status.isVisible()).toBe(true);

    await page.unroute(events);
    await calculated(page)
      .getByText(/^28657$/)
      .waitFor();
    await status.waitFor({ state: 'detached' });
    const { announcements } = await probed(page);
    expect(announcements).toContainEqual({ text: PAUSED, politeness: 'polite' });
    expect(announcements).toContainEqual({ text: 'Live updates resumed.', politeness: 'polite' });
    expect(announcements).toContainEqual({ text: 'Fibonacci(23) = 28657', politeness: 'polite' });
    await page.close();
  });

  it('names each page in the title and moves the focus to its heading after an in-page navigation', async () => {
    expect(await submitIndex(base, 12)).toBeLessThan(300);
    await computed(base, 12);
    const page = await open();
    expect(await page.title()).toBe('Fibonacci calculator — fibstack');
    await seen(page).getByRole('link', { name: /^12\b/ }).click();
    const heading = page.getByRole('heading', { level: 1, name: 'Fibonacci(12)' });
    await heading.waitFor();
    await page.waitForFunction(() => document.activeElement?.tagName === 'H1');
    expect(await heading.evaluate((h1) => h1 === document.activeElement)).toBe(true);
    expect(await page.title()).toBe('Fibonacci(12) — fibstack');
    // The next Tab reaches the page's first control, not the value or the top of the document.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Copy');

    await page.goBack();
    const home = page.getByRole('heading', { level: 1, name: 'Fibonacci calculator' });
    await home.waitFor();
    await page.waitForFunction(() => document.activeElement?.tagName === 'H1');
    expect(await page.title()).toBe('Fibonacci calculator — fibstack');
    await page.close();
  });

  it('lists each index once with its count, as a link at least 24 × 24 px', async () => {
    const page = await open();
    await started(page);
    await submit(page, '31');
    await seen(page).getByRole('link', { name: '31' }).waitFor();
    await submit(page, '31');
    const chip = seen(page).getByRole('link', { name: '31 (submitted 2 times)' });
    await chip.waitFor();
    expect(await seen(page).getByRole('link', { name: /^31\b/ }).count()).toBe(1);
    expect(await chip.getAttribute('href')).toBe('/values/31');
    for (const link of await seen(page).getByRole('link').all()) {
      const box = (await link.boundingBox())!;
      expect(Math.min(box.width, box.height)).toBeGreaterThanOrEqual(24);
    }
    await page.close();
  });

  it('shows a long value collapsed, in blocks of ten that copy as the plain number, with Copy, Download and Back together', async () => {
    expect(await submitIndex(base, 20_000)).toBeLessThan(300);
    await computed(base, 20_000);
    const whole = (await (await fetch(`${base}/api/values/20000`)).json()) as { value: string };
    expect(whole.value).toHaveLength(4180);
    await e2e.browser.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    const page = await open('/values/20000');
    const value = page.getByTestId('whole-value');
    await value.waitFor();
    expect(await value.textContent()).toBe(`${whole.value.slice(0, 500)}… and 3,680 more digits`);
    // A phone screen or two, not 4,180 digits (the whole value is over 3,000 px tall at 390 px).
    expect(await page.evaluate(() => document.documentElement.scrollHeight)).toBeLessThan(1_600);

    // One row of actions above the value: Back sits next to Copy, not below 4,180 digits.
    const actions = page.locator('.actions');
    expect(await actions.count()).toBe(1);
    const copy = actions.getByRole('button', { name: 'Copy' });
    const download = actions.getByRole('link', { name: 'Download' });
    expect(await actions.getByRole('link', { name: 'Back to the calculator' }).isVisible()).toBe(true);
    expect(await page.getByRole('link', { name: 'Back to the calculator' }).count()).toBe(1);

    await copy.click();
    await page.getByText('Copied').waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(whole.value);
    const [file] = await Promise.all([page.waitForEvent('download'), download.click()]);
    expect(file.suggestedFilename()).toBe('fibonacci-20000.txt');
    const stream = await file.createReadStream();
    let downloaded = '';
    for await (const chunk of stream) downloaded += String(chunk);
    expect(downloaded).toBe(whole.value);

    const toggle = page.getByRole('button', { name: 'Show all 4,180 digits' });
    expect(await toggle.getAttribute('aria-expanded')).toBe('false');
    await toggle.click();
    expect(await page.getByRole('button', { name: 'Show fewer digits' }).getAttribute('aria-expanded')).toBe('true');
    const groups = await value.locator('.digit-group').allTextContents();
    expect(groups).toHaveLength(418);
    expect(groups.every((group) => /^\d{10}$/.test(group))).toBe(true);
    // Selecting the value and copying it gives the number, without the spacing between blocks.
    const selected = await value.evaluate((element) => {
      const selection = window.getSelection()!;
      selection.selectAllChildren(element);
      return selection.toString();
    });
    expect(selected).toBe(whole.value);
    await page.close();
  });

  // 320 CSS px is WCAG's reflow width; 195 is a 390 px phone zoomed to 200 percent.
  it.each([320, 195])('fits the home page and a detail page into %i CSS px without clipping', async (width) => {
    // The longest heading there is: "Fibonacci(123456)".
    expect(await submitIndex(base, 123_456)).toBeLessThan(300);
    await computed(base, 123_456);
    const page = await e2e.browser.newPage();
    await page.setViewportSize({ width, height: 640 });
    const pages: Array<[path: string, shown: () => Promise<void>]> = [
      ['/values/123456', () => page.getByTestId('whole-value').waitFor()],
      ['/', () => seen(page).getByRole('link', { name: '123456' }).waitFor()],
    ];
    for (const [path, shown] of pages) {
      await page.goto(`${base}${path}`);
      await shown();
      const clipped = await page.evaluate((right) => {
        const visible = Array.from(document.querySelectorAll('main *, header *')).filter((element) => element.getClientRects().length > 0);
        return visible
          .filter((element) => {
            const box = element.getBoundingClientRect();
            const hidden = getComputedStyle(element).clipPath !== 'none';
            return !hidden && (box.left < 0 || box.right > right || element.scrollWidth > element.clientWidth + 1);
          })
          .map((element) => element.outerHTML.slice(0, 80));
      }, width);
      expect(clipped, path).toEqual([]);
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
    }
    await page.close();
  });

  it('offers to calculate an index never submitted, and shows its value arrive', async () => {
    const page = await open('/values/77');
    await page.getByText('Index 77 has not been calculated yet.').waitFor();
    await page.getByRole('button', { name: 'Calculate it' }).click();
    await page.getByTestId('whole-value').getByText('5527939700', { exact: true }).waitFor();
    expect(await page.getByTestId('whole-value').textContent()).toBe('5527939700884757');
    await page.close();
  });

  it('reads an index written with leading zeros as the number it denotes', async () => {
    const page = await open('/values/0010');
    await page.getByTestId('whole-value').getByText(/^55$/).waitFor();
    expect(new URL(page.url()).pathname).toBe('/values/10');
    await page.goto(base);
    await started(page);
    await submit(page, '0010');
    await seen(page)
      .getByRole('link', { name: /^10 \(submitted \d+ times\)$/ })
      .waitFor();
    expect(await page.getByRole('alert').count()).toBe(0);
    await page.close();
  });
});
