import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyOfRepository, linkTree, REPO_ROOT } from '../support/checkout.js';

/**
 * The command table of docs/commands.md (the README links it), run as a new user types it: in a fresh copy of the
 * repository right after `npm ci`, nothing built, in the table's order. Each must exit 0 and print what
 * says it did its work. The commands that are not run here are run elsewhere, each for the reason given.
 */
const NOT_RUN_HERE: Record<string, string> = {
  'docker-compose -f docker-compose.dev.yml up': 'needs Docker: npm run test:containers (tests/containers/dev-compose.test.ts)',
  'docker-compose --env-file observability/compose.env up --build':
    'needs Docker and registry images; its files are checked by npm run test:config',
  'npm run dev': 'runs until stopped: tests/native/launcher.test.ts, from a fresh copy too',
  'npm run check':
    'CI runs it first in npm test (commit messages, format:check, deps, knip and lint; each row below is run here but lint; the commit check in tests/docs/commit-messages.test.ts)',
  'npm run lint': 'about a minute of type-aware linting; CI runs it in npm test (npm run check)',
  'npm run migrate': "needs npm start's database: tests/native/launcher.test.ts runs it as docs/operations.md writes it",
  'npm run test:unit': 'a long suite CI runs in npm test (its server and worker projects build what they run first)',
  'npm run test:e2e': 'a long suite CI runs in npm test',
  'npm run test:native': 'this suite',
  'npm run test:observability': 'a long suite CI runs in npm test',
  'npm run test:hostile': 'a long suite CI runs in npm test',
  'npm run test:scale': 'a long suite CI runs in npm test (replicas and a Redis Cluster)',
  'npm run test:chaos': 'a long suite CI runs (.ci/run)',
  'npm run test:mutation': '11 to 32 minutes; not part of CI',
  'npm run test:containers': 'needs Docker; CI runs it (.ci/run)',
  'npm run bench': 'about 6 minutes; CI runs npm run bench -- --smoke (.ci/run)',
  'npm run test:bench': 'CI runs it in npm test',
  'npm run first-paint': 'starts the native stack and Chromium; reports, never fails',
  'npm run screenshots': 'rewrites docs/screenshots/ from the native stack and Chromium',
  'npm run audit': "needs the registry's audit endpoint, which CI's mirror does not serve (.ci/run; Travis runs it)",
};

/** How a command that is run here is run, and what its output must show besides exit code 0. */
const RUN_HERE: Record<string, { command: string; env?: Record<string, string>; prints: RegExp }> = {
  'npm run build': { command: 'npm run build', prints: /vite v[\d.]+ building|built in/ },
  'npm run typecheck': { command: 'npm run typecheck', prints: /> tsc -p tsconfig\.json/ },
  'npm run test:docs': { command: 'npm run test:docs', prints: /Tests\s+\d+ passed/ },
  'npm run test:k8s': { command: 'npm run test:k8s', prints: /Tests\s+\d+ passed/ },
  'npm run test:config': { command: 'npm run test:config', prints: /Tests\s+\d+ passed/ },
  'npm run format:check': { command: 'npm run format:check', prints: /All matched files use Prettier code style!/ },
  'npm run deps': { command: 'npm run deps', prints: /no dependency violations found/ },
  'scripts/eb-bundle': {
    command: 'scripts/eb-bundle',
    // What `scripts/release-images push` records: each image by digest (written into the copy below).
    env: { IMAGES: 'readme-images.json' },
    prints: /eb-bundle: wrote .*dist\/eb-bundle\.zip/,
  },
};

/** Scripts a README row may add later (a linter, a formatter) run too, unless listed as not run here. */
const runsAsNpmScript = (command: string) => /^npm run [\w:-]+$/.test(command);

/** The page that holds the table, and its heading. */
const COMMANDS_PAGE = 'docs/commands.md';

function commandTable(page: string): string[] {
  const section = page.split(/^## The command table$/m)[1]?.split(/^## /m)[0] ?? '';
  return [...section.matchAll(/^\| `([^`]+)` \|/gm)].map((match) => match[1]!);
}

const COMMAND_TIMEOUT_MS = 300_000;

describe(`the command table of ${COMMANDS_PAGE}, from a fresh copy right after npm ci`, () => {
  const table = commandTable(readFileSync(join(REPO_ROOT, COMMANDS_PAGE), 'utf8'));
  let copy: string;

  beforeAll(() => {
    copy = copyOfRepository('fibstack-readme-');
    // A clone is a git repository (tests/config/line-endings.test.ts checks files out of its index).
    for (const args of [
      ['init', '-q'],
      ['add', '-A'],
      ['-c', 'user.name=readme', '-c', 'user.email=readme@localhost', 'commit', '-qm', 'fresh clone'],
    ]) {
      execFileSync('git', args, { cwd: copy });
    }
    // What `npm ci` leaves, without paying for a second install in this suite: the launcher test installs
    // with npm ci from a fresh copy already. The workspace links are relative, so they point into the
    // copy, whose workspaces have no dist/.
    linkTree(join(REPO_ROOT, 'node_modules'), join(copy, 'node_modules'));
    const release = Object.fromEntries(
      ['client', 'server', 'worker', 'nginx'].map((service, i) => [
        service,
        `readme-user/fibstack-${service}@sha256:${String(i).repeat(64)}`,
      ]),
    );
    writeFileSync(join(copy, 'readme-images.json'), JSON.stringify(release));
  });

  afterAll(async () => {
    if (copy) await rm(copy, { recursive: true, force: true });
  });

  it('lists commands, each either run here or excluded for a stated reason', () => {
    expect(table.length).toBeGreaterThan(15);
    const unknown = table.filter((command) => !(command in RUN_HERE) && !(command in NOT_RUN_HERE) && !runsAsNpmScript(command));
    expect(unknown, 'add each to RUN_HERE or NOT_RUN_HERE in tests/native/readme-commands.test.ts').toEqual([]);
    expect(
      Object.keys(RUN_HERE).filter((command) => !table.includes(command)),
      `RUN_HERE rows ${COMMANDS_PAGE} no longer has`,
    ).toEqual([]);
  });

  it('starts from nothing built', () => {
    const built = readdirSync(copy).filter((entry) => existsSync(join(copy, entry, 'dist')));
    expect(built).toEqual([]);
    expect(realpathSync(join(copy, 'node_modules/@fibstack/contract'))).toBe(realpathSync(join(copy, 'contract')));
  });

  // In the table's order, except `npm run build`, which goes last: every other command must work without it.
  it('runs each of the others in the order the table gives, build last, each exiting 0 and saying what it did', () => {
    const ran: string[] = [];
    const toRun = table.filter((command) => !(command in NOT_RUN_HERE));
    for (const row of [...toRun.filter((command) => command !== 'npm run build'), 'npm run build']) {
      const { command, env, prints } = RUN_HERE[row] ?? { command: row, prints: /\S/ };
      const result = spawnSync('sh', ['-c', command], {
        cwd: copy,
        env: { ...process.env, ...env, CI: 'true', NO_COLOR: '1', FIBSTACK_TEST_REPORT_DIR: '' },
        encoding: 'utf8',
        timeout: COMMAND_TIMEOUT_MS,
        maxBuffer: 64 * 1024 * 1024,
      });
      // Without colour codes, which some tools print even into a pipe.
      const output = stripVTControlCharacters(`${result.stdout}${result.stderr}`);
      const tail = output.split('\n').slice(-30).join('\n');
      expect(result.error, `${command}: ${String(result.error)}`).toBeUndefined();
      expect(result.status, `${command} exited ${result.status}:\n${tail}`).toBe(0);
      expect(output, `${command} printed nothing matching ${prints}:\n${tail}`).toMatch(prints);
      ran.push(row);
    }
    expect(ran).toEqual(
      expect.arrayContaining(['npm run typecheck', 'npm run test:k8s', 'npm run test:config', 'scripts/eb-bundle', 'npm run build']),
    );
    // The bundle is what the table says: one compose file in dist/eb-bundle.zip.
    const listing = execFileSync('python3', ['-m', 'zipfile', '-l', join(copy, 'dist/eb-bundle.zip')], { encoding: 'utf8' });
    expect(listing).toMatch(/^docker-compose\.yml\s/m);
  }, 1_800_000);

  it("scripts/eb-bundle without a release's images exits 2 naming what writes them, as docs/troubleshooting.md says", () => {
    const env = { ...process.env };
    delete env.IMAGES;
    const result = spawnSync(join(copy, 'scripts/eb-bundle'), [], { cwd: copy, env, encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('dist/images.json: not found (scripts/release-images push writes it)');
  });
});
