#!/usr/bin/env node
// The commit-message rule (CONTRIBUTING.md), checked by `npm run check`: a subject of at most 72
// characters, a blank line, then a body that says why. Only commits made after BASE are checked: the history
// before it was written to no such rule and cannot be rewritten. Merge commits are left out (their subject
// is the tool's). Usage: node scripts/commit-messages/check.mjs [base commit] (the repository's BASE by default).
import { execFileSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** main's tip when the rule was adopted (issue 26). */
const BASE = '66ef48a7d0756fddf9ef676d101072e97a9d3bcc';
const SUBJECT_MAX = 72;

/** What is wrong with one commit message, as sentences; empty when it follows the rule. */
function messageProblems(message) {
  const lines = message.replace(/\s+$/, '').split('\n');
  const subject = lines[0] ?? '';
  const problems = [];
  if (subject.trim() === '') problems.push('the subject (first line) is empty');
  if (subject.length > SUBJECT_MAX) {
    problems.push(`the subject is ${subject.length} characters; at most ${SUBJECT_MAX}`);
  }
  if (lines.length > 1 && lines[1].trim() !== '') problems.push('the second line must be blank');
  if (lines.slice(1).every((line) => line.trim() === '')) {
    problems.push('there is no body: say why, after a blank line');
  }
  return problems;
}

const git = (args) => execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

function knows(commit) {
  try {
    git(['cat-file', '-e', `${commit}^{commit}`]);
    return true;
  } catch {
    return false;
  }
}

function main(base) {
  try {
    git(['rev-parse', '--git-dir']);
  } catch {
    console.log('commit messages: not a git checkout, no commit to check');
    return 0;
  }
  if (!knows(base)) {
    const shallow = git(['rev-parse', '--is-shallow-repository']).trim() === 'true';
    console.error(
      shallow
        ? `commit messages: ${base} is not in this shallow clone; fetch the history (git fetch --unshallow)`
        : `commit messages: ${base} is not in this repository's history`,
    );
    return 1;
  }
  // NUL-separated records: hash, then the raw message. Only descendants of the base (--ancestry-path):
  // a branch begun before the rule and merged after it keeps the messages it was written with.
  const log = git(['log', '--no-merges', '--ancestry-path', '--format=%H%n%B%x00', `${base}..HEAD`]);
  const commits = log
    .split('\0')
    .map((record) => record.replace(/^\n/, ''))
    .filter((record) => record.trim() !== '');
  let bad = 0;
  for (const record of commits) {
    const [hash, ...message] = record.split('\n');
    const problems = messageProblems(message.join('\n'));
    if (problems.length > 0) {
      bad += 1;
      console.error(`${hash.slice(0, 12)} ${message[0]}\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    }
  }
  if (bad > 0) {
    console.error(`commit messages: ${bad} of ${commits.length} commits break the rule (CONTRIBUTING.md)`);
    return 1;
  }
  console.log(`commit messages: ${commits.length} commits after ${base.slice(0, 12)} follow the rule`);
  return 0;
}

if (import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) process.exitCode = main(process.argv[2] ?? BASE);
