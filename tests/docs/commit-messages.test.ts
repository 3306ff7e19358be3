import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** The commit-message rule of `npm run check` (CONTRIBUTING.md), run as npm runs it, on a scratch repository. */
const CHECK = fileURLToPath(new URL('../../scripts/commit-messages/check.mjs', import.meta.url));

describe('the commit-message check, after a base commit', () => {
  let repo: string;
  let base: string;
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@localhost', ...args], { cwd: repo, encoding: 'utf8' });
  const commit = (message: string) => git('commit', '-q', '--allow-empty', '--cleanup=verbatim', '-m', message);
  const check = (from = base) => spawnSync(process.execPath, [CHECK, from], { cwd: repo, encoding: 'utf8' });
  /** The check's verdict on one commit made on top of the base (then dropped again). */
  const verdictOn = (message: string) => {
    commit(message);
    const run = check();
    git('reset', '-q', '--hard', base);
    return run;
  };

  beforeAll(() => {
    repo = mkdtempSync(join(tmpdir(), 'commit-messages-'));
    git('init', '-q');
    commit('an old commit with no body, before the rule');
    commit('the rule adopted, with no body either');
    base = git('rev-parse', 'HEAD').trim();
  });
  afterAll(() => rmSync(repo, { recursive: true, force: true }));

  it('passes a short subject, a blank line and a body, and ignores history before the base', () => {
    const run = verdictOn('Worker: retry a lost connection\n\nBecause Redis restarts on deploy.\n');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/1 commits after \w+ follow the rule/);
  });

  it.each([
    [`${'x'.repeat(73)}\n\nwhy`, 'the subject is 73 characters; at most 72'],
    ['Subject\nno blank line', 'the second line must be blank'],
    ['Subject only\n', 'there is no body: say why, after a blank line'],
    ['Subject\n\n   \n', 'there is no body: say why, after a blank line'],
    ['\n\nbody', 'the subject (first line) is empty'],
  ])('fails on %j, saying: %s', (message, problem) => {
    const run = verdictOn(message);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`  - ${problem}\n`);
    expect(run.stderr).toMatch(/1 of 1 commits break the rule/);
  });

  it('names the commit that breaks it among good ones', () => {
    commit('A good subject\n\nA body that says why.');
    commit(`${'A subject much too long to scan in git log --oneline, '.repeat(2)}and no body`);
    const bad = git('rev-parse', '--short=12', 'HEAD').trim();
    const run = check();
    git('reset', '-q', '--hard', base);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^${bad} A subject much too long`, 'm'));
    expect(run.stderr).toMatch(/the subject is 1\d\d characters; at most 72/);
    expect(run.stderr).toMatch(/1 of 2 commits break the rule/);
  });

  it('leaves out the commits of a branch begun before the base and merged after it', () => {
    git('checkout', '-q', '-b', 'begun-before', `${base}~1`);
    commit('written before the rule, no body');
    git('checkout', '-q', '-');
    git('merge', '-q', '--no-ff', '-m', 'Merge begun-before', 'begun-before');
    const run = check();
    git('reset', '-q', '--hard', base);
    git('branch', '-q', '-D', 'begun-before');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it('fails, saying so, when the base commit is not in the history', () => {
    const run = check('0'.repeat(40));
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/is not in this repository's history/);
  });
});

it('Travis clones the whole history, so that the base commit is there to check from', () => {
  const travis = parse(readFileSync(fileURLToPath(new URL('../../.travis.yml', import.meta.url)), 'utf8')) as {
    git?: { depth?: unknown };
  };
  expect(travis.git?.depth).toBe(false);
});
