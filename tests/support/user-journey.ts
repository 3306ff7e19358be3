import { expect } from 'vitest';
import type { Page } from 'playwright-core';

const LIVE_TIMEOUT_MS = 15_000;

/**
 * What the form says for each bad input, with the server's default MAX_INDEX (100,000). Each message
 * differs from the one before, so the alert left by one case cannot pass the next.
 */
const BAD_INPUTS: Array<[input: string, message: string]> = [
  ['-3', 'The index cannot be negative. Enter a whole number from 0 to 100,000.'],
  ['abc', 'Use digits only. Enter a whole number from 0 to 100,000.'],
  ['2.5', 'Leave out the decimal part. Enter a whole number from 0 to 100,000.'],
  ['100001', 'That is more than 100,000, the largest index calculated here. Enter a whole number from 0 to 100,000.'],
];

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
 * 55 arrive live without a page load, have bad input refused in plain words with nothing added, keep
 * history across a reload, and open a deep link to the detail page.
 */
export async function runUserJourney(page: Page, baseUrl: string): Promise<void> {
  await page.goto(baseUrl);
  await page.getByRole('heading', { level: 1, name: 'Fibonacci calculator' }).waitFor();
  // The app has started once its form knows the server's limit.
  await page.getByText('A whole number from 0 to 100,000.').waitFor();

  // A page load would drop this property: it must survive the submission and the live update.
  const marker = `journey-${Date.now()}`;
  await page.evaluate((value) => ((window as unknown as { journeyMarker: string }).journeyMarker = value), marker);
  await submit(page, '10');
  await calculatedValues(page).getByText(/^55$/).waitFor({ timeout: LIVE_TIMEOUT_MS });
  expect(await page.evaluate(() => (window as unknown as { journeyMarker?: string }).journeyMarker)).toBe(marker);

  const seenBefore = await seenIndexes(page).textContent();
  for (const [bad, message] of BAD_INPUTS) {
    await submit(page, bad);
    const alert = page.getByRole('alert');
    await alert.and(page.getByText(message, { exact: true })).waitFor({ timeout: 5_000 });
    expect(await alert.count()).toBe(1);
    expect(await page.getByRole('textbox', { name: 'Index' }).getAttribute('aria-invalid')).toBe('true');
  }
  expect(await seenIndexes(page).textContent()).toBe(seenBefore);

  await page.reload();
  await calculatedValues(page).getByText(/^55$/).waitFor({ timeout: LIVE_TIMEOUT_MS });
  await seenIndexes(page).getByRole('link', { name: /^10\b/ }).waitFor();

  await page.goto(`${baseUrl}/values/10`);
  await page.getByTestId('whole-value').getByText(/^55$/).waitFor({ timeout: LIVE_TIMEOUT_MS });
  await page.getByRole('button', { name: 'Copy' }).waitFor();
}
