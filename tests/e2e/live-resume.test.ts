import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { previewOf } from '@fibstack/contract/values';
import { eventually, sleep } from '@fibstack/devstack/testkit';
import { fibonacci } from '../../worker/src/fibonacci/fibonacci.js';
import { startE2eStack, type E2eStack } from './e2e-stack.js';
import { probed } from '../support/page-probes.js';

/**
 * The server ends every event stream after a bounded lifetime (SSE_STREAM_LIFETIME_MS, here about a
 * second). Chromium reconnects by itself after the stream's `retry` (3 s), sending the id of the last
 * event it received as Last-Event-ID, and is sent every result it missed in between: the page shows
 * every value without fetching the list again.
 */
describe('a page whose event stream ends every second', () => {
  let e2e: E2eStack;

  beforeAll(async () => {
    e2e = await startE2eStack({ SSE_STREAM_LIFETIME_MS: '1000' });
  });
  afterAll(() => e2e?.close());

  it('resumes each new stream from its last event id and shows every value, with one list fetch', async () => {
    const page = await e2e.browser.newPage();
    const resumedFrom: string[] = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname !== '/api/events') return;
      void request.allHeaders().then((headers) => resumedFrom.push(headers['last-event-id'] ?? ''));
    });
    await page.goto(e2e.stack.url);
    await page.getByText('Values you ask for will appear here.').waitFor({ timeout: 15_000 });

    // Submitted over about ten seconds: most results are stored while the page has no stream open.
    const indexes = Array.from({ length: 12 }, (_, i) => 300 + i);
    for (const index of indexes) {
      await page.getByRole('textbox', { name: 'Index' }).fill(String(index));
      await page.getByRole('button', { name: 'Calculate' }).click();
      await sleep(800);
    }
    const pending = () => page.locator('ul.values li[data-status="pending"]').count();
    await eventually(async () => (await pending()) === 0, 20_000, 'every value on the page');
    for (const index of indexes) {
      const row = page.locator('ul.values li').filter({ has: page.getByRole('link', { name: String(index), exact: true }) });
      expect(await row.locator('.value').first().innerText()).toContain(previewOf(fibonacci(index).toString()).value);
    }

    // The first stream started afresh; every later one resumed from an id the server had sent.
    expect(resumedFrom.length).toBeGreaterThanOrEqual(3);
    expect(resumedFrom[0]).toBe('');
    expect(resumedFrom.slice(1).filter((id) => !/^\d+$/.test(id))).toEqual([]);
    const listFetches = (await probed(page)).fetches.filter((fetch) => fetch.startsWith('GET /api/values'));
    expect(listFetches).toEqual(['GET /api/values']);
    await page.close();
  });
});
