import { existsSync } from 'node:fs';
import { chromium, type BrowserContext } from 'playwright-core';

/**
 * Headless, with every background feature off: this machine has no network beyond loopback, and
 * Chromium's own update/sync traffic would only produce refused connections.
 */
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** One place a Chromium-based browser may be: an executable, or a Playwright channel. */
export interface BrowserSource {
  label: string;
  executablePath?: string;
  channel?: 'chrome' | 'chromium';
}

export const DEBIAN_CHROMIUM = '/usr/bin/chromium';

export const GOOGLE_CHROME: BrowserSource = { label: 'Google Chrome (Playwright channel "chrome")', channel: 'chrome' };
export const PLAYWRIGHT_CHROMIUM: BrowserSource = {
  label: 'Playwright\'s Chromium (channel "chromium", from `npx playwright install chromium`)',
  channel: 'chromium',
};

export const NO_BROWSER_HELP = [
  'No browser for the end-to-end tests. Any one of these works:',
  '  1. CHROMIUM_PATH=/path/to/chromium (the executable of any Chromium-based browser)',
  `  2. Debian's or Ubuntu's Chromium at ${DEBIAN_CHROMIUM} (sudo apt-get install chromium)`,
  "  3. Google Chrome, installed the usual way, or Playwright's Chromium (npx playwright install chromium)",
].join('\n');

/**
 * Where to look, in order: CHROMIUM_PATH alone when it is set (an explicit choice is never second-guessed),
 * else Debian's Chromium, an installed Google Chrome, Playwright's own Chromium.
 */
export function browserSources(env: NodeJS.ProcessEnv = process.env): BrowserSource[] {
  if (env.CHROMIUM_PATH) return [{ label: `CHROMIUM_PATH (${env.CHROMIUM_PATH})`, executablePath: env.CHROMIUM_PATH }];
  return [{ label: `Debian's Chromium (${DEBIAN_CHROMIUM})`, executablePath: DEBIAN_CHROMIUM }, GOOGLE_CHROME, PLAYWRIGHT_CHROMIUM];
}

/** Playwright's words for "that browser is not installed" (anything else is a real launch failure). */
const NOT_INSTALLED = /is not found at|Executable doesn't exist|Failed to launch: Error: spawn .* ENOENT/;

type Launch = (source: BrowserSource) => Promise<BrowserContext>;

async function launchPersistent(source: BrowserSource): Promise<BrowserContext> {
  // '' = a temporary profile that Playwright removes on close.
  return chromium.launchPersistentContext('', {
    ...(source.executablePath ? { executablePath: source.executablePath } : { channel: source.channel }),
    args: CHROMIUM_FLAGS,
    headless: true,
    viewport: { width: 390, height: 844 },
  });
}

/**
 * Starts the first browser found among `sources`. A source that is not installed is passed over; one that
 * is installed but fails to start fails the launch. When none is found, the error names every way to get one.
 */
export async function launchChromium(sources = browserSources(), launch: Launch = launchPersistent): Promise<BrowserContext> {
  const missing: string[] = [];
  for (const source of sources) {
    if (source.executablePath && !existsSync(source.executablePath)) {
      missing.push(`${source.label}: no such file`);
      continue;
    }
    try {
      return await launch(source);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (!NOT_INSTALLED.test(message)) throw error;
      missing.push(`${source.label}: not installed`);
    }
  }
  throw new Error(`${NO_BROWSER_HELP}\nLooked for:\n${missing.map((line) => `  - ${line}`).join('\n')}`);
}
