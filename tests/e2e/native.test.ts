import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NativeStack } from '@fibstack/devstack/stack';
import type { BrowserContext } from 'playwright-core';
import { runUserJourney } from '../support/user-journey.js';
import { startE2eStack, type E2eStack } from './e2e-stack.js';

/**
 * The native stack exactly as `npm start` runs it (built client served by the API, real Postgres,
 * real Redis, real worker), driven by a real Chromium.
 */
describe('native stack in a browser', () => {
  let e2e: E2eStack;
  let stack: NativeStack;
  let browser: BrowserContext;

  beforeAll(async () => {
    e2e = await startE2eStack();
    ({ stack, browser } = e2e);
  });

  afterAll(() => e2e?.close());

  it('submits, updates live, refuses bad input, keeps history and serves deep links', async () => {
    const page = await browser.newPage();
    await runUserJourney(page, stack.url);
  });

  it('returns the app for a deep link and JSON 404 for an unknown API route', async () => {
    const deepLink = await fetch(`${stack.url}/values/12345`);
    expect(deepLink.status).toBe(200);
    expect(await deepLink.text()).toContain('<div id="root">');
    const unknown = await fetch(`${stack.url}/api/nope`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: 'not_found' } });
  });

  it('explains in plain words, for the form and not the field, when the API is down', async () => {
    const page = await browser.newPage();
    try {
      // Natively the API server also serves the page, so load the page first, then take the API away.
      await page.goto(stack.url);
      await page.getByRole('heading', { name: 'Calculated values' }).waitFor();
      await stack.stopService('server');
      await page.getByRole('textbox', { name: 'Index' }).fill('7');
      await page.getByRole('button', { name: 'Calculate' }).click();
      const alert = page.getByRole('alert');
      await alert.waitFor({ timeout: 10_000 });
      expect(await alert.textContent()).toBe('The calculator cannot be reached. Check your connection, then try again.');
      expect(await page.getByRole('textbox', { name: 'Index' }).getAttribute('aria-invalid')).toBeNull();
    } finally {
      await stack.startService('server');
      await page.close();
    }
  });
});
