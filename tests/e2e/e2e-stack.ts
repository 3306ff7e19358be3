import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { freePort } from '@fibstack/devstack/ports';
import { startNativeStack, type NativeStack } from '@fibstack/devstack/stack';
import { launchChromium } from '../support/browser.js';
import { installProbes } from '../support/page-probes.js';

export interface E2eStack {
  stack: NativeStack;
  browser: BrowserContext;
  close: () => Promise<void>;
}

/**
 * The native stack exactly as `npm start` runs it (built client served by the API, real Postgres,
 * real Redis, real worker) and a real Chromium whose pages carry the probes of tests/support/page-probes.ts.
 */
export async function startE2eStack(env: Record<string, string> = {}): Promise<E2eStack> {
  const dataDir = await mkdtemp(join(tmpdir(), 'fibstack-e2e-'));
  const stack = await startNativeStack({
    port: await freePort(),
    dataDir,
    persistent: false,
    output: { logDir: join(dataDir, 'logs') },
    env: { LOG_LEVEL: 'warn', ...env },
  });
  const browser = await launchChromium();
  await installProbes(browser);
  return {
    stack,
    browser,
    async close() {
      await browser.close();
      await stack.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Resolves once the worker has stored Fibonacci(index). */
export async function computed(baseUrl: string, index: number): Promise<void> {
  for (;;) {
    const response = await fetch(`${baseUrl}/api/values/${index}`);
    if (response.ok && ((await response.json()) as { status: string }).status === 'done') return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Reads `GET /api/events` from outside the page until a result for `index` has been relayed. */
export async function relayed(baseUrl: string, index: number, whileListening: () => Promise<unknown>): Promise<void> {
  const controller = new AbortController();
  const stream = await fetch(`${baseUrl}/api/events`, { signal: controller.signal });
  const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
  await whileListening();
  let text = '';
  while (!text.includes(`"index":${index},`)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the event stream ended before the result of ${index}`);
    text += value;
  }
  controller.abort();
}
