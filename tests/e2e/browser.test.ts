import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSources, launchChromium, NO_BROWSER_HELP, type BrowserSource } from '../support/browser.js';

/** The executable a running browser reports on chrome://version. */
async function executableOf(context: BrowserContext): Promise<string> {
  const page = await context.newPage();
  await page.goto('chrome://version');
  return (await page.locator('#executable_path').textContent())!.trim();
}

/** A shell script that notes it was used, then runs the real browser: proof of which path was launched. */
async function wrapperAt(path: string, realBrowser: string, marker: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `#!/bin/sh\ntouch '${marker}'\nexec '${realBrowser}' "$@"\n`);
  await chmod(path, 0o755);
}

/** How a developer's machine finds a browser for `npm test`: CHROMIUM_PATH, Debian's, Chrome, Playwright's. */
describe('browser discovery (tests/support/browser.ts)', () => {
  let scratch: string;
  let realBrowser: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'fibstack-browser-'));
    const context = await launchChromium();
    try {
      realBrowser = await executableOf(context);
    } finally {
      await context.close();
    }
  });

  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it("looks in order: Debian's Chromium, Google Chrome, Playwright's Chromium", () => {
    expect(browserSources({}).map((source) => source.executablePath ?? `channel ${source.channel}`)).toEqual([
      '/usr/bin/chromium',
      'channel chrome',
      'channel chromium',
    ]);
  });

  it('launches CHROMIUM_PATH, and only it, when it is set', async () => {
    const browser = join(scratch, 'my-chromium');
    const marker = join(scratch, 'my-chromium-used');
    await wrapperAt(browser, realBrowser, marker);
    const sources = browserSources({ CHROMIUM_PATH: browser });
    expect(sources).toHaveLength(1);
    const context = await launchChromium(sources);
    await context.close();
    expect(existsSync(marker)).toBe(true);
  });

  it('names CHROMIUM_PATH when it points at nothing, and does not fall back', async () => {
    await expect(launchChromium(browserSources({ CHROMIUM_PATH: join(scratch, 'nowhere') }))).rejects.toThrow(
      `CHROMIUM_PATH (${join(scratch, 'nowhere')}): no such file`,
    );
  });

  it("finds Playwright's own Chromium where Playwright installs it", async () => {
    // PLAYWRIGHT_BROWSERS_PATH is read when playwright-core loads, so this runs in a fresh process.
    const browsersDir = join(scratch, 'ms-playwright');
    const marker = join(scratch, 'playwright-chromium-used');
    const expectedPath = await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '-e', "import { chromium } from 'playwright-core'; console.log(chromium.executablePath());"],
      { env: { ...process.env, PLAYWRIGHT_BROWSERS_PATH: browsersDir } },
    );
    await wrapperAt(expectedPath.stdout.trim(), realBrowser, marker);
    const browserModule = new URL('../support/browser.ts', import.meta.url).href;
    const script = `import { launchChromium, PLAYWRIGHT_CHROMIUM } from '${browserModule}';
      const context = await launchChromium([PLAYWRIGHT_CHROMIUM]);
      await context.close();`;
    await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { ...process.env, PLAYWRIGHT_BROWSERS_PATH: browsersDir },
      timeout: 60_000,
    });
    expect(existsSync(marker)).toBe(true);
  });

  it('names all three ways to get a browser when none is installed', async () => {
    const tried: string[] = [];
    const nothingInstalled = async (source: BrowserSource): Promise<never> => {
      tried.push(source.label);
      throw new Error(`browserType.launchPersistentContext: Executable doesn't exist at ${source.executablePath ?? source.channel}`);
    };
    const attempt = launchChromium(browserSources({}), nothingInstalled);
    await expect(attempt).rejects.toThrow(NO_BROWSER_HELP);
    await expect(attempt).rejects.toThrow(/Debian's Chromium.*\n.*Google Chrome.*not installed\n.*Playwright's Chromium.*not installed/);
    expect(tried.slice(-2)).toEqual([browserSources({})[1]!.label, browserSources({})[2]!.label]);
  });

  it('fails on a browser that is installed but cannot start, instead of trying the next', async () => {
    const broken = join(scratch, 'broken-chromium');
    await writeFile(broken, '#!/bin/sh\necho "cannot start" >&2\nexit 3\n');
    await chmod(broken, 0o755);
    await expect(launchChromium([{ label: 'broken', executablePath: broken }, ...browserSources({})])).rejects.toThrow(
      /cannot start|exit/i,
    );
  });
});
