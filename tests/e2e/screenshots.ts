/**
 * Takes the README's screenshots: the home page and a detail page on a phone (390 px) and a desktop
 * (1280 px), in the light and the dark scheme, against the native stack with a few values computed.
 *
 *   npm run screenshots        (builds first; writes docs/screenshots/*.png)
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT } from '@fibstack/devstack/stack';
import type { Page } from 'playwright-core';
import { submitIndex } from '@fibstack/devstack/testkit';
import { computed, startE2eStack } from './e2e-stack.js';

const OUT = join(REPO_ROOT, 'docs/screenshots');
const SIZES = { phone: { width: 390, height: 844 }, desktop: { width: 1280, height: 800 } };
const SCHEMES = ['light', 'dark'] as const;
/** Oldest first; 10 twice shows a chip's count, 5,000 a long value (shortened in the list, collapsed on its page). */
const SUBMISSIONS = [7, 10, 5000, 12, 10, 90];

async function shoot(page: Page, name: string): Promise<void> {
  for (const [size, viewport] of Object.entries(SIZES)) {
    await page.setViewportSize(viewport);
    for (const scheme of SCHEMES) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.screenshot({ path: join(OUT, `${name}-${size}-${scheme}.png`) });
    }
  }
}

async function main() {
  await mkdir(OUT, { recursive: true });
  const { stack, browser, close } = await startE2eStack();
  try {
    for (const index of SUBMISSIONS) {
      await submitIndex(stack.url, index);
      await computed(stack.url, index);
    }
    const page = await browser.newPage();
    await page.goto(stack.url);
    await page
      .getByRole('region', { name: 'Calculated values' })
      .getByText(/^2880067194370816120$/)
      .waitFor();
    await page.getByText('A whole number from 0 to 100,000.').waitFor();
    await shoot(page, 'home');

    await page.goto(`${stack.url}/values/5000`);
    await page.getByRole('button', { name: 'Copy' }).waitFor();
    await shoot(page, 'detail');
  } finally {
    await close();
  }
  console.log(`screenshots written to ${OUT}`);
}

await main();
