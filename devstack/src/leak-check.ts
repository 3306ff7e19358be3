import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';

/**
 * For the tests that feed an entry point a secret, malformed or wrong, and check it never comes out:
 * a value no output could hold by chance, and the process run with everything it prints collected.
 */

/** A recognisable value of `length` characters, random each time: no output holds it by chance. */
export function canary(length = 32): string {
  return `Canary${randomBytes(length).toString('hex')}`.slice(0, length);
}

export interface EntryPointRun {
  /** stdout and stderr as they came, interleaved. */
  output(): string;
  /** Resolves once the output holds `text`; rejects if the process exits first. */
  printed(text: string): Promise<void>;
  exited: Promise<number | null>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** Runs `node [...args]` in `cwd` with exactly `env` (and PATH), collecting what it prints. */
export function runEntryPoint(args: string[], cwd: string, env: Record<string, string>): EntryPointRun {
  const child = spawn(process.execPath, args, { cwd, env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const waiters: Array<() => void> = [];
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    for (const wake of waiters.splice(0)) wake();
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  void exited.then(() => {
    for (const wake of waiters.splice(0)) wake();
  });
  return {
    output: () => output,
    exited,
    async printed(text) {
      while (!output.includes(text)) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited before printing "${text}":\n${output}`);
        await new Promise<void>((wake) => waiters.push(wake));
      }
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
