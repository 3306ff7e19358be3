import { chmod, cp, mkdir, rename, rm, rmdir, symlink, writeFile } from 'node:fs/promises';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@fibstack/devstack/ports';
import { REPO_ROOT, launch, type Launched } from '../support/checkout.js';
import { eventually, sleep } from '@fibstack/devstack/testkit';
import { editAndPoll, get, runnerReady } from '../support/developer-edits.js';

const RUNNER = join(REPO_ROOT, 'scripts/dev/hot-restart.mjs');

/**
 * The runner's command. Root reads every file whatever its mode, so a test run as root (CI) runs the runner
 * without the two capabilities that let it: a mode-000 file is then as unreadable to it as another user's
 * mode-600 file is to the dev compose's runner (the checkout's owner), and watching one fails with EACCES.
 */
const runnerCommand = (args: string[]): [string, string[]] =>
  process.getuid?.() === 0
    ? ['setpriv', ['--bounding-set', '-dac_override,-dac_read_search', process.execPath, RUNNER, ...args]]
    : [process.execPath, [RUNNER, ...args]];

/**
 * A repository with a tiny HTTP service in workspace `app` that depends on workspace `lib`, run by
 * scripts/dev/hot-restart.mjs: it answers "<app/src/message.ts> <lib/src/word.ts>", so an edit in either
 * watched tree shows in the answer.
 */
async function fixture(dir: string) {
  await mkdir(join(dir, 'app/src'), { recursive: true });
  await mkdir(join(dir, 'lib/src'), { recursive: true });
  await writeFile(join(dir, 'package.json'), JSON.stringify({ private: true, workspaces: ['app', 'lib'] }));
  await writeFile(join(dir, 'app/package.json'), JSON.stringify({ name: 'app', type: 'module', dependencies: { lib: '*' } }));
  await writeFile(join(dir, 'lib/package.json'), JSON.stringify({ name: 'lib', type: 'module' }));
  await writeFile(join(dir, 'app/src/message.ts'), "export const message: string = 'one';\n");
  await writeFile(join(dir, 'lib/src/word.ts'), "export const message: string = 'word';\n");
  await writeFile(
    join(dir, 'app/src/main.ts'),
    `import { createServer } from 'node:http';
import { message } from './message.js';
import { message as word } from '../../lib/src/word.js';
let signals = 0;
const server = createServer((_req, res) => res.end(\`\${message} \${word}\`)).listen(Number(process.env.PORT));
process.on('SIGTERM', () => {
  console.log(\`SIGTERM number \${++signals} in \${process.pid}\`);
  server.close(() => process.exit(0));
});
`,
  );
  await symlink(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
}

describe('scripts/dev/hot-restart.mjs', () => {
  // Made when the tests run, not when they are collected (`vitest list` runs no afterAll).
  let dir = '';
  let runner: Launched | undefined;
  let url: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fibstack-hot-restart-'));
    await fixture(dir);
  });
  afterEach(async () => {
    if (runner && runner.child.exitCode === null && runner.child.signalCode === null) {
      runner.child.kill('SIGTERM');
      await runner.exited;
    }
  });
  afterAll(() => dir && rm(dir, { recursive: true, force: true }));

  async function start(env: Record<string, string> = {}) {
    const port = await freePort();
    url = `http://127.0.0.1:${port}/`;
    runner = launch(...runnerCommand(['--overlap', 'app/src/main.ts']), { cwd: dir, env: { PORT: String(port), ...env } });
    await eventually(async () => (await get(url)).status === 200, 30_000, 'the service');
    return runner;
  }

  const source = (text: string) => `export const message: string = '${text}';\n`;
  const setMessage = (text: string) => () => writeFile(join(dir, 'app/src/message.ts'), source(text));

  it('replaces the process on an edit, answering every request meanwhile', async () => {
    await start();
    const served = await editAndPoll(
      () => void setMessage('two')(),
      () => get(url),
      (answer) => answer.body === 'two word',
      200,
      30_000,
    );
    expect(served.failures).toEqual([]);
  });

  it('polls for changes when CHOKIDAR_USEPOLLING=true (bind mounts without file events)', async () => {
    const polling = await start({ CHOKIDAR_USEPOLLING: 'true' });
    expect(polling.output()).toContain('polling every 100 ms');
    await setMessage('polled')();
    await eventually(async () => (await get(url)).body === 'polled word', 30_000, 'the polled edit');
  });

  it('keeps the running process when an edit does not start, and takes the fix', async () => {
    const running = await start();
    const before = (await get(url)).body;
    await writeFile(join(dir, 'app/src/message.ts'), 'export const message: string = ;\n');
    await running.waitFor(/exited \(code 1\) before it was ready; the previous one keeps running/, 30_000);
    expect((await get(url)).body).toBe(before);
    await setMessage('fixed')();
    await eventually(async () => (await get(url)).body === 'fixed word', 30_000, 'the fixed edit');
  });

  it('passes one SIGTERM to its process, and exits when that process has', async () => {
    const running = await start();
    running.child.kill('SIGTERM');
    expect((await running.exited).code).toBe(0);
    expect(running.output().match(/SIGTERM number \d+/g)).toEqual(['SIGTERM number 1']);
  });

  // What a developer's tools do to the watched trees: editors that save by renaming a temporary file over
  // the original, `sed -i` run by another user (its temporary file is mode 600), folders made and removed.
  // The runner must see every save and survive the rest, in each tree it watches, with file events and polling.
  const TREES = ['app', 'lib'] as const;
  const fileOf = (tree: (typeof TREES)[number]) => join(dir, tree === 'app' ? 'app/src/message.ts' : 'lib/src/word.ts');

  /** Starts the runner on known texts; `served()` waits until the answer shows `values`. */
  async function startOnKnownTexts(env: Record<string, string>) {
    const values = { app: 'app0', lib: 'lib0' };
    await writeFile(fileOf('app'), source(values.app));
    await writeFile(fileOf('lib'), source(values.lib));
    for (const tree of TREES) {
      // What a failed run may have left.
      for (const left of ['src/feature', 'src/gone', 'src/closed', 'src/sedA2Qn73', 'src-next', 'src-copy', 'src-old'])
        await rm(join(dir, tree, left), { recursive: true, force: true });
    }
    const running = await start(env);
    const served = (what: string) => eventually(async () => (await get(url)).body === `${values.app} ${values.lib}`, 30_000, what);
    await served('the first answer');
    return { running, values, served };
  }

  for (const [mode, env] of [
    ['file events', {}],
    ['polling', { CHOKIDAR_USEPOLLING: 'true' }],
  ] as const) {
    it(`sees every save, in place or renamed over the original, in every watched tree (${mode})`, async () => {
      const { values, served } = await startOnKnownTexts(env);
      for (const tree of TREES) {
        const file = fileOf(tree);
        let edits = 0;
        const next = () => (values[tree] = `${tree}${++edits}`);
        const inPlace = () => writeFile(file, source(next()));
        /** As many editors save: the new text written to a temporary file, which is renamed over the original. */
        const renameSave = async () => {
          const temporary = join(dirname(file), `.${basename(file)}.swp`);
          await writeFile(temporary, source(next()));
          await rename(temporary, file);
        };
        // A watch on the file itself sees the first rename-save only: it watches the file that was replaced.
        for (const save of [renameSave, renameSave, inPlace, renameSave, inPlace]) {
          await save();
          await served(`${save.name} of ${file}`);
        }
      }
    });

    it(`survives unreadable temporary files and unreadable, new, deleted and replaced folders, in every watched tree (${mode})`, async () => {
      const { running, values, served } = await startOnKnownTexts(env);
      /** Until the runner has its next process ready: a change it reports is then logged as "<file> changed". */
      const ready = () => eventually(async () => runnerReady(running.output()), 30_000, 'the runner to be ready');
      /** Waits until the runner restarts for a change at `path` or under it. */
      const reported = async (change: () => Promise<unknown>, path: string) => {
        await ready();
        const logged = running.waitFor(new RegExp(`\\] ${path.replaceAll('.', '\\.')}\\S* changed: restarting`), 30_000, true);
        await change();
        await logged;
      };

      for (const tree of TREES) {
        const folder = join(dir, tree, 'src');
        const file = fileOf(tree);

        // A temporary file the runner may not read, renamed over the original once the runner has met it:
        // it takes its events in order, so it has once a later edit is served.
        const temporary = join(folder, 'sedA2Qn73');
        await writeFile(temporary, source(`${tree}-sed`), { mode: 0o000 });
        values[tree] = `${tree}-beside`;
        await writeFile(file, source(values[tree]));
        await served(`an edit of ${file} while an unreadable file is beside it`);
        await chmod(temporary, 0o644);
        await rename(temporary, file);
        values[tree] = `${tree}-sed`;
        await served(`the unreadable temporary file renamed over ${file}`);

        // A folder the runner cannot read, and a new one with a source in it: watched from then on.
        const closed = join(folder, 'closed');
        await mkdir(closed, { mode: 0o000 });
        const extra = join(folder, 'feature/deep/extra.ts');
        const shown = `${tree}/src/feature/deep/extra.ts`;
        await reported(async () => {
          await mkdir(dirname(extra), { recursive: true });
          await writeFile(extra, 'export {};\n');
        }, shown);
        await reported(() => writeFile(extra, 'export const edited = true;\n'), shown);
        await reported(() => rm(extra), shown);
        await writeFile(extra, 'export {};\n');
        await reported(() => rm(join(folder, 'feature'), { recursive: true }), `${tree}/src/feature`);

        // A folder replaced by another of the same name in one step (renamed over it, as a checkout may),
        // which its parent's watch sees as one that is still there: the new one is watched.
        await mkdir(join(folder, 'feature'));
        await mkdir(join(`${folder}-next`, 'deep'), { recursive: true });
        await ready();
        await rename(`${folder}-next`, join(folder, 'feature'));
        await reported(() => writeFile(extra, 'export {};\n'), shown);
        await rm(join(folder, 'feature'), { recursive: true });

        // Folders that vanish while the runner looks at them.
        for (let round = 0; round < 100; round++) {
          await mkdir(join(folder, 'gone/a/b'), { recursive: true });
          await writeFile(join(folder, 'gone/a/b/x.ts'), '');
          await sleep(round % 4);
          await rm(join(folder, 'gone'), { recursive: true, force: true });
          await sleep(round % 3);
        }
        await rmdir(closed);

        // The whole tree moved away, then a copy put in its place, as a branch switch may: watched again.
        await cp(folder, `${folder}-copy`, { recursive: true });
        await reported(() => rename(folder, `${folder}-old`), `${tree}/src`);
        await reported(() => rename(`${folder}-copy`, folder), `${tree}/src/`);
        await rm(`${folder}-old`, { recursive: true });
        values[tree] = `${tree}-after`;
        await writeFile(file, source(values[tree]));
        await served(`an edit of ${file} after all that`);
      }
      expect(running.child.exitCode).toBeNull();
      if (mode === 'file events') expect(running.output()).toContain('cannot watch app/src/closed (EACCES)');
    });
  }
});
