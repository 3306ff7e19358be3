import { expect } from 'vitest';
import type { Page } from 'playwright-core';

const LIVE_TIMEOUT_MS = 15_000;

function calculatedValues(page: Page) {
  return page.getByRole('region', { name: 'Calculated values' });
}

function seenIndexes(page: Page) {
  return page.getByRole('region', { name: 'Indexes I have seen' });
}

async function submit(page: Page, text: string) {
  await page.getByRole('textbox', { name: 'Index' }).fill(text);
  await page.getByRole('button', { name: 'Calculate' }).click();
}

/**
 * The user journey every delivery of fibstack must pass (native, compose, EB bundle): submit 10 and see
 * 55 arrive live, have bad input refused with nothing added, keep history across a reload, and open a
 * deep link to the detail page.
 */
export async function runUserJourney(page: Page, baseUrl: string): Promise<void> {
  await page.goto(baseUrl);
  await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toMatch(/Fib/i);

  await submit(page, '10');
  const row = calculatedValues(page).getByText(/55/);
  await row.waitFor({ timeout: LIVE_TIMEOUT_MS });
  const reloadsBefore = await page.evaluate(() => performance.getEntriesByType('navigation').length);
  expect(reloadsBefore).toBe(1);

  const seenBefore = await seenIndexes(page).textContent();
  for (const bad of ['-3', 'abc']) {
    await submit(page, bad);
    await page.getByRole('alert').filter({ hasText: /index/i }).waitFor({ timeout: 5_000 });
  }
  expect(await seenIndexes(page).textContent()).toBe(seenBefore);

  await page.reload();
  await calculatedValues(page).getByText(/55/).waitFor({ timeout: LIVE_TIMEOUT_MS });
  await seenIndexes(page).getByText('10').first().waitFor();

  await page.goto(`${baseUrl}/values/10`);
  await page.getByText('55', { exact: true }).waitFor({ timeout: LIVE_TIMEOUT_MS });
  await page.getByRole('button', { name: /copy/i }).waitFor();
}
