import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  cpSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * A throwaway copy of the working tree as a fresh clone has it: tracked and new files (deleted ones stay
 * deleted), no node_modules, nothing built.
 */
export function copyOfRepository(prefix: string): string {
  const copy = mkdtempSync(join(tmpdir(), prefix));
  // mkdtemp makes it private (0700); a clone is not, and the Postgres run as its own user must get in.
  chmodSync(copy, 0o755);
  return copyOfWorkingTree(copy);
}

/** Copies the working tree as git sees it (tracked and new files; deleted ones stay deleted) into `copy`. */
export function copyOfWorkingTree(copy: string): string {
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: REPO_ROOT, encoding: 'utf8' })
    .split('\0')
    .filter((file) => file && existsSync(join(REPO_ROOT, file)));
  for (const file of files) {
    mkdirSync(dirname(join(copy, file)), { recursive: true });
    cpSync(join(REPO_ROOT, file), join(copy, file));
  }
  return copy;
}

/**
 * `from` recreated at `to` with hard links instead of copies, so a second node_modules costs no disk (a
 * copy is over 500 MB). Symlinks are recreated as they are (npm's workspace links are relative); files are
 * copied where a link cannot be made (another file system). Top-level dot-directories other than .bin are
 * tool caches, not part of an install, and are left out: a tool rewriting its cache in place would
 * otherwise write through the link into the original.
 */
export function linkTree(from: string, to: string, top = true): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    if (top && entry.isDirectory() && entry.name.startsWith('.') && entry.name !== '.bin') continue;
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isSymbolicLink()) symlinkSync(readlinkSync(source), target);
    else if (entry.isDirectory()) linkTree(source, target, false);
    else linkOrCopy(source, target);
  }
}

function linkOrCopy(source: string, target: string): void {
  try {
    linkSync(source, target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    copyFileSync(source, target);
  }
}

/**
 * Edits a file the way a developer would and returns when it is written. Fails when `from` is not there,
 * so a test never waits for an edit that did not happen.
 */
export function edit(file: string, from: string | RegExp, to: string): void {
  writeFileSync(file, edited(file, from, to));
}

/**
 * `edit` as many editors save: the new text written to a temporary file beside the original, which is then
 * renamed over it (the file is replaced, not written to). The temporary file gets the original's owner and
 * mode, as it has when its owner saves.
 */
export function renameSave(file: string, from: string | RegExp, to: string): void {
  const { uid, gid, mode } = statSync(file);
  const temporary = join(dirname(file), `.${basename(file)}.swp`);
  writeFileSync(temporary, edited(file, from, to), { mode });
  if (process.getuid?.() === 0) chownSync(temporary, uid, gid);
  renameSync(temporary, file);
}

function edited(file: string, from: string | RegExp, to: string): string {
  const before = readFileSync(file, 'utf8');
  const after = before.replace(from, to);
  if (after === before) throw new Error(`${file} has no ${String(from)} to edit`);
  return after;
}

export interface Launched {
  child: ChildProcess;
  output(): string;
  /** Resolves when the output has matched `pattern` (counting only output from now on when `fromNow`). */
  waitFor(pattern: RegExp, timeoutMs: number, fromNow?: boolean): Promise<void>;
  /** Settles once the process has exited and every process sharing its output has closed it. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** What a terminal does on Ctrl-C: SIGINT to the whole foreground process group. */
  interrupt(): void;
}

/** Runs a command in a process group of its own, as a terminal runs a foreground job, collecting its output. */
export function launch(command: string, args: string[], options: { cwd: string; env?: Record<string, string> }): Launched {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listeners = new Set<() => void>();
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    output: () => output,
    exited,
    interrupt: () => process.kill(-child.pid!, 'SIGINT'),
    waitFor(pattern, timeoutMs, fromNow = false) {
      const from = fromNow ? output.length : 0;
      return new Promise((resolve, reject) => {
        const done = (error?: Error) => {
          listeners.delete(check);
          clearTimeout(timer);
          if (error) reject(error);
          else resolve();
        };
        const check = () => {
          if (pattern.test(output.slice(from))) done();
        };
        const timer = setTimeout(() => done(new Error(`no ${pattern} within ${timeoutMs} ms; output:\n${output.slice(-4000)}`)), timeoutMs);
        listeners.add(check);
        void exited.then(({ code, signal }) => {
          if (listeners.has(check)) done(new Error(`exited (${signal ?? code}) before ${pattern}; output:\n${output.slice(-4000)}`));
        });
        check();
      });
    },
  };
}

/** Processes whose working directory is inside `dir` (Linux /proc): what a stack started there left running. */
export function processesIn(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      if (!readlinkSync(`/proc/${pid}/cwd`).startsWith(dir)) continue;
      found.push(`${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim()}`);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}
