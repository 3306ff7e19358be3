import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { baseImages } from '../support/image-references.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/**
 * .ci/test-gate run for real, with its suites, Vitest, Docker and podman replaced by test doubles (on PATH)
 * that write the reports and leave behind what each case asks for: the gate's own decisions (the canary,
 * the report check, the leftover check, the engine check, stopping at a failed suite) are what is tested.
 */
const stubs = mkdtempSync(join(tmpdir(), 'ci-gate-test-'));
afterAll(() => rmSync(stubs, { recursive: true, force: true }));
const calls = join(stubs, 'calls.log');
const pids = join(stubs, 'pids');
const containers = join(stubs, 'docker-containers');

function tool(name: string, script: string) {
  writeFileSync(join(stubs, name), `#!/bin/bash\n${script}\n`);
  chmodSync(join(stubs, name), 0o755);
}

// A Vitest JSON report with the declared number of passing tests in each area (.ci/expected-tests.json),
// changed as the case asks: one more test skipped, or one fewer in an area.
writeFileSync(
  join(stubs, 'report.mjs'),
  `import { readFileSync, writeFileSync } from 'node:fs';
const declared = JSON.parse(readFileSync('.ci/expected-tests.json', 'utf8'));
const testResults = Object.entries(declared).map(([area, count]) => ({
  name: process.cwd() + '/' + area + '/stub.test.ts',
  assertionResults: Array.from({ length: count - (process.env.STUB_SHORT === area ? 1 : 0) }, (_, i) => ({ status: 'passed', fullName: area + ' ' + i })),
}));
if (process.env.STUB_SKIP) testResults[0].assertionResults.push({ status: 'skipped', fullName: 'a test that did not run' });
writeFileSync(process.env.FIBSTACK_TEST_REPORT_DIR + '/vitest-stub.json', JSON.stringify({ success: true, testResults }));
`,
);
tool(
  'npm',
  `echo "npm $*" >> "${calls}"
[ "$*" = test ] && node "${stubs}/report.mjs"
[ "$*" = "run \${STUB_FAIL:-none}" ] && exit 1
if [ "$*" = "run test:containers" ]; then
  [ -z "$STUB_LEAVE_FILE" ] || touch "$TMPDIR/left-by-a-test"
  [ -z "$STUB_LEAVE_PROCESS" ] || { setsid sleep 300 </dev/null >/dev/null 2>&1 & echo $! >> "${pids}"; }
  # a daemon started without the run's id, but with its TMPDIR (as a dockerd once was)
  [ -z "$STUB_LEAVE_DAEMON" ] || { env -u FIBSTACK_CI_RUN setsid sleep 300 </dev/null >/dev/null 2>&1 & echo $! >> "${pids}"; }
  [ -z "$STUB_LEAVE_CONTAINER" ] || echo "c0ffee fibstack-left-behind" >> "${containers}"
fi
exit 0`,
);
// The canary: one passing and one failing test, and a failing exit, unless the case makes it pass.
tool(
  'npx',
  `echo "npx $*" >> "${calls}"
failed=failed; [ -z "$STUB_CANARY_PASSES" ] || failed=passed
echo '{"success":false,"testResults":[{"name":"canary.test.ts","assertionResults":[{"status":"passed","fullName":"passes"},{"status":"'$failed'","fullName":"fails"}]}]}' > "$FIBSTACK_TEST_REPORT_DIR/canary.json"
[ $failed = passed ]`,
);
tool(
  'docker',
  `echo "docker $*" >> "${calls}"
case "$1" in
  ps) cat "${containers}" ;;
  run) echo stub-container ;;
  exec) [ -z "$STUB_EXEC_FAILS" ]; exit ;;
esac
exit 0`,
);
tool('podman', 'exit 0');

afterEach(() => {
  if (existsSync(pids)) for (const pid of readFileSync(pids, 'utf8').split('\n').filter(Boolean)) process.kill(Number(pid));
  rmSync(pids, { force: true });
  rmSync(calls, { force: true });
  writeFileSync(containers, '');
});

/** Runs the gate in its own temporary directory; returns its exit status, output, and the run directory it made. */
function gate(env: Record<string, string> = {}) {
  const parent = mkdtempSync(join(stubs, 'tmp-'));
  const result = spawnSync(join(REPO, '.ci/test-gate'), {
    cwd: REPO,
    env: { ...process.env, PATH: `${stubs}:${process.env.PATH}`, TMPDIR: parent, FIBSTACK_CI_RUN: '', ...env },
    encoding: 'utf8',
  });
  const called = existsSync(calls) ? readFileSync(calls, 'utf8').split('\n').filter(Boolean) : [];
  return { status: result.status, output: result.stdout + result.stderr, called, runDirsLeft: spawnSync('ls', [parent]).stdout.toString() };
}

describe('.ci/test-gate, the tests Travis and .ci/run both run', { timeout: 60_000 }, () => {
  it('runs the canary, every suite, the report check, the leftover check and the engine check, and removes its directory', () => {
    const { status, output, called, runDirsLeft } = gate();
    expect(status, output).toBe(0);
    expect(called.filter((call) => /^np[mx] /.test(call))).toEqual([
      'npm run build',
      'npx vitest run --config .ci/canary/vitest.config.ts',
      'npm test',
      'npm run test:native',
      'npm run test:chaos',
      'npm run test:containers',
      'npm run bench -- --smoke',
    ]);
    expect(output).toContain('canary: 1 passing and 1 failing test, as intended');
    expect(output).toMatch(/nothing left behind: no file, no process, and no containers, images, volumes, networks, podman containers/);
    expect(called.slice(-3)).toEqual([
      `docker run -d --rm --entrypoint sleep ${baseImages().redis} 120`,
      'docker exec stub-container true',
      'docker rm -f -v stub-container',
    ]);
    expect(runDirsLeft).toBe('');
  });

  it('fails on a skipped test', () => {
    const { status, output } = gate({ STUB_SKIP: '1' });
    expect(status).not.toBe(0);
    expect(output).toContain('skipped: contract/stub.test.ts › a test that did not run');
  });

  it('fails when a suite ran fewer tests than it declares', () => {
    const { status, output } = gate({ STUB_SHORT: 'chaos' });
    expect(status).not.toBe(0);
    expect(output).toMatch(/chaos: \d+ tests passed, fewer than the \d+ declared/);
  });

  it('fails when the canary passes (a failing test would not fail the run)', () => {
    const { status, output, called } = gate({ STUB_CANARY_PASSES: '1' });
    expect(status).not.toBe(0);
    expect(output).toContain("the canary's failing test did not make Vitest exit non-zero");
    expect(called).not.toContain('npm test');
  });

  it('stops at a failed suite, and still removes its directory', () => {
    const { status, called, runDirsLeft } = gate({ STUB_FAIL: 'test:chaos' });
    expect(status).not.toBe(0);
    expect(called.at(-1)).toBe('npm run test:chaos');
    expect(runDirsLeft).toBe('');
  });

  it('fails on a file left in the run’s temporary directory', () => {
    const { status, output } = gate({ STUB_LEAVE_FILE: '1' });
    expect(status).not.toBe(0);
    expect(output).toMatch(/files in the run's temporary directory \S+:\n\s+left-by-a-test/);
  });

  it('fails on a process the run started that is still alive, naming it', () => {
    const { status, output } = gate({ STUB_LEAVE_PROCESS: '1' });
    const pid = readFileSync(pids, 'utf8').trim();
    expect(status).not.toBe(0);
    expect(output).toMatch(new RegExp(`pid ${pid} \\(started by the run; TMPDIR is the run's \\(\\S+\\)\\): sleep 300`));
  });

  it("fails on a daemon holding the run's TMPDIR, even without the run's id", () => {
    const { status, output } = gate({ STUB_LEAVE_DAEMON: '1' });
    const pid = readFileSync(pids, 'utf8').trim();
    expect(status).not.toBe(0);
    expect(output).toMatch(new RegExp(`pid ${pid} \\(TMPDIR is the run's \\(\\S+\\)\\): sleep 300`));
  });

  it('fails on a container the run left', () => {
    const { status, output } = gate({ STUB_LEAVE_CONTAINER: '1' });
    expect(status).not.toBe(0);
    expect(output).toMatch(/containers that did not exist before the run:\n\s+c0ffee fibstack-left-behind/);
  });

  it('fails when docker exec into a fresh container fails', () => {
    const { status, output, called } = gate({ STUB_EXEC_FAILS: '1' });
    expect(status).not.toBe(0);
    expect(output).toContain(`docker exec into a fresh container of ${baseImages().redis} failed`);
    expect(called.at(-1)).toBe('docker rm -f -v stub-container');
  });
});
