import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageProblems } from '../../scripts/commit-messages/check.mjs';

const CHECK = fileURLToPath(new URL('../../scripts/commit-messages/check.mjs', import.meta.url));

describe('the commit-message rule (npm run check)', () => {
  it('accepts a short subject, a blank line and a body', () => {
    expect(messageProblems('Worker: retry a lost connection\n\nBecause Redis restarts on deploy.\n')).toEqual([]);
  });

  it('names each way a message breaks it', () => {
    expect(messageProblems(`${'x'.repeat(73)}\n\nwhy`)).toEqual(['the subject is 73 characters; at most 72']);
    expect(messageProblems('Subject\nno blank line')).toEqual(['the second line must be blank']);
    expect(messageProblems('Subject only\n')).toEqual(['there is no body: say why, after a blank line']);
    expect(messageProblems('Subject\n\n   \n')).toEqual(['there is no body: say why, after a blank line']);
    expect(messageProblems('\n\nbody')).toEqual(['the subject (first line) is empty']);
  });
});

describe('the check run on a repository, after a base commit', () => {
  let repo: string;
  let base: string;
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@localhost', ...args], { cwd: repo, encoding: 'utf8' });
  const commit = (message: string) => git('commit', '-q', '--allow-empty', '-m', message);
  const check = () => spawnSync(process.execPath, [CHECK, base], { cwd: repo, encoding: 'utf8' });

  beforeAll(() => {
    repo = mkdtempSync(join(tmpdir(), 'commit-messages-'));
    git('init', '-q');
    commit('an old commit with no body, before the rule');
    base = git('rev-parse', 'HEAD').trim();
  });
  afterAll(() => rmSync(repo, { recursive: true, force: true }));

  it('passes when every later commit follows the rule, and ignores history before the base', () => {
    commit('A good subject\n\nA body that says why.');
    const run = check();
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/1 commits after \w+ follow the rule/);
  });

  it('fails on a later commit that breaks it, naming the commit and the problem', () => {
    commit(`${'A subject much too long to scan in git log --oneline, '.repeat(2)}and no body`);
    const run = check();
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/the subject is 1\d\d characters; at most 72/);
    expect(run.stderr).toMatch(/there is no body/);
    expect(run.stderr).toMatch(/1 of 2 commits break the rule/);
  });

  it('fails, saying so, when the base commit is not in the history', () => {
    const run = spawnSync(process.execPath, [CHECK, '0'.repeat(40)], { cwd: repo, encoding: 'utf8' });
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
