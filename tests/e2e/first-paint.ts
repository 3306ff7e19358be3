/**
 * Measures the home page's first contentful paint in Chromium against the native stack (built client,
 * served by the API server), on loopback and on an emulated slow mobile connection. Run after a build:
 *
 *   npm run build && npx tsx tests/e2e/first-paint.ts [runs]
 *
 * It reports numbers and asserts nothing: speed is measured here, never asserted in a test.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@fibstack/devstack/ports';
import { startNativeStack } from '@fibstack/devstack/stack';
import type { BrowserContext } from 'playwright-core';
import { launchChromium } from '../support/browser.js';

/** Lighthouse's mobile preset: "Slow 4G" (150 ms RTT, 1.6 Mbit/s down, 750 kbit/s up) and a 4× slower CPU. */
const SLOW_MOBILE = { latency: 150, downloadThroughput: 1_600_000 / 8, uploadThroughput: 750_000 / 8, cpuSlowdown: 4 };

interface Sample {
  firstContentfulPaint: number;
  /** The load event: every script of the first page has run. */
  load: number;
  /** Bytes over the wire for the document, its styles and its scripts. */
  transferred: number;
}

async function measure(browser: BrowserContext, url: string, throttled: boolean): Promise<Sample> {
  const page = await browser.newPage();
  const cdp = await browser.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  if (throttled) {
    const { cpuSlowdown, ...network } = SLOW_MOBILE;
    await cdp.send('Network.emulateNetworkConditions', { offline: false, ...network });
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: cpuSlowdown });
  }
  await page.goto(url, { waitUntil: 'load' });
  const sample = await page.evaluate(
    () =>
      new Promise<Sample>((resolve) => {
        new PerformanceObserver((entries, observer) => {
          const paint = entries.getEntriesByName('first-contentful-paint')[0];
          if (!paint) return;
          observer.disconnect();
          const [navigation] = performance.getEntriesByType('navigation') as PerformanceNavigationTiming[];
          const resources = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
          const transferred =
            navigation!.transferSize +
            resources.filter((r) => r.initiatorType === 'script' || r.initiatorType === 'link').reduce((sum, r) => sum + r.transferSize, 0);
          resolve({ firstContentfulPaint: paint.startTime, load: navigation!.loadEventStart, transferred });
        }).observe({ type: 'paint', buffered: true });
      }),
  );
  await page.close();
  return sample;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main() {
  const runs = Number(process.argv[2] ?? 15);
  const dataDir = await mkdtemp(join(tmpdir(), 'fibstack-first-paint-'));
  const stack = await startNativeStack({
    port: await freePort(),
    dataDir,
    persistent: false,
    output: { logDir: join(dataDir, 'logs') },
    env: { LOG_LEVEL: 'warn' },
  });
  const browser = await launchChromium();
  try {
    for (const throttled of [false, true]) {
      await measure(browser, stack.url, throttled); // warm-up: the server's first requests are slower
      const samples: Sample[] = [];
      for (let run = 0; run < runs; run++) samples.push(await measure(browser, stack.url, throttled));
      console.log(
        `${throttled ? 'slow 4G + 4× CPU' : 'loopback'} (${runs} runs, median):`,
        `first contentful paint ${median(samples.map((s) => s.firstContentfulPaint)).toFixed(0)} ms,`,
        `load ${median(samples.map((s) => s.load)).toFixed(0)} ms,`,
        `${(median(samples.map((s) => s.transferred)) / 1024).toFixed(1)} KiB transferred`,
      );
    }
  } finally {
    await browser.close();
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
