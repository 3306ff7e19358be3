import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * A Windows checkout (Git's core.autocrlf=true) must still give shell scripts, entrypoints, Dockerfiles and
 * nginx templates LF line endings: they run in Linux containers, where `#!/bin/sh\r` is "bad interpreter".
 */
describe('line endings (.gitattributes)', () => {
  const checkout = mkdtempSync(join(tmpdir(), 'fibstack-crlf-'));
  afterAll(() => rmSync(checkout, { recursive: true, force: true }));

  it('checks every file out with LF even where Git would write CRLF', () => {
    execFileSync('git', ['-c', 'core.autocrlf=true', 'checkout-index', '--all', '--force', `--prefix=${checkout}/`], { cwd: REPO_ROOT });
    // `--eol` says how Git sees each file in the index: `i/-text` is binary (a PNG may hold \r\n bytes).
    const files = execFileSync('git', ['ls-files', '--eol', '-z'], { cwd: REPO_ROOT, encoding: 'utf8' })
      .split('\0')
      .filter((entry) => entry && !entry.startsWith('i/-text'))
      .map((entry) => entry.slice(entry.indexOf('\t') + 1));
    const withCrlf = files.filter((file) => readFileSync(join(checkout, file)).includes('\r\n'));
    expect(withCrlf).toEqual([]);
  });
});
