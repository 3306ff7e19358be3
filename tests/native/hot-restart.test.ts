import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@fibstack/devstack/ports';
import { REPO_ROOT, launch, type Launched } from './checkout.js';
import { eventually } from '@fibstack/devstack/testkit';
import { editAndPoll, get } from './dev-loop.js';

const RUNNER = join(REPO_ROOT, 'scripts/dev/hot-restart.mjs');

/** A one-workspace repository with a tiny HTTP service, run by scripts/dev/hot-restart.mjs. */
async function fixture(dir: string) {
  await mkdir(join(dir, 'app/src'), { recursive: true });
  await writeFile(join(dir, 'package.json'), JSON.stringify({ private: true, workspaces: ['app'] }));
  await writeFile(join(dir, 'app/package.json'), JSON.stringify({ name: 'app', type: 'module' }));
  await writeFile(join(dir, 'app/src/message.ts'), "export const message: string = 'one';\n");
  await writeFile(
    join(dir, 'app/src/main.ts'),
    `import { createServer } from 'node:http';
import { message } from './message.js';
let signals = 0;
const server = createServer((_req, res) => res.end(message)).listen(Number(process.env.PORT));
process.on('SIGTERM', () => {
  console.log(\`SIGTERM number \${++signals} in \${process.pid}\`);
  server.close(() => process.exit(0));
});
`,
  );
  await symlink(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
}

describe('scripts/dev/hot-restart.mjs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fibstack-hot-restart-'));
  let runner: Launched | undefined;
  let url: string;

  beforeAll(() => fixture(dir));
  afterEach(async () => {
    if (runner && runner.child.exitCode === null && runner.child.signalCode === null) {
      runner.child.kill('SIGTERM');
      await runner.exited;
    }
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function start(env: Record<string, string> = {}) {
    const port = await freePort();
    url = `http://127.0.0.1:${port}/`;
    runner = launch(process.execPath, [RUNNER, '--overlap', 'app/src/main.ts'], { cwd: dir, env: { PORT: String(port), ...env } });
    await eventually(async () => (await get(url)).status === 200, 30_000, 'the service');
    return runner;
  }

  const setMessage = (text: string) => () => writeFile(join(dir, 'app/src/message.ts'), `export const message: string = '${text}';\n`);

  it('replaces the process on an edit, answering every request meanwhile', async () => {
    await start();
    const served = await editAndPoll(
      () => void setMessage('two')(),
      () => get(url),
      (answer) => answer.body === 'two',
      200,
      30_000,
    );
    expect(served.failures).toEqual([]);
  });

  it('polls for changes when CHOKIDAR_USEPOLLING=true (bind mounts without file events)', async () => {
    const polling = await start({ CHOKIDAR_USEPOLLING: 'true' });
    expect(polling.output()).toContain('polling every 100 ms');
    await setMessage('polled')();
    await eventually(async () => (await get(url)).body === 'polled', 30_000, 'the polled edit');
  });

  it('keeps the running process when an edit does not start, and takes the fix', async () => {
    const running = await start();
    const before = (await get(url)).body;
    await writeFile(join(dir, 'app/src/message.ts'), 'export const message: string = ;\n');
    await running.waitFor(/exited \(code 1\) before it was ready; the previous one keeps running/, 30_000);
    expect((await get(url)).body).toBe(before);
    await setMessage('fixed')();
    await eventually(async () => (await get(url)).body === 'fixed', 30_000, 'the fixed edit');
  });

  it('passes one SIGTERM to its process, and exits when that process has', async () => {
    const running = await start();
    running.child.kill('SIGTERM');
    expect((await running.exited).code).toBe(0);
    expect(running.output().match(/SIGTERM number \d+/g)).toEqual(['SIGTERM number 1']);
  });
});
