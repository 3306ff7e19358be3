import { fork, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort } from '@fibstack/devstack/ports';
import { within } from '@fibstack/devstack/testkit';

export interface ChildServer {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 60_000;

/**
 * Runs one of the benchmark's own servers (bare-express.ts, budget-server.ts) as a child process on a
 * free port, its output appended to `logFile`, and resolves once it reports 'ready'.
 */
export async function startChildServer(
  script: string,
  env: Record<string, string>,
  logFile: string,
  nodeFlags: string[] = [],
): Promise<ChildServer> {
  const port = await freePort();
  const log = openSync(logFile, 'a');
  const child: ChildProcess = fork(fileURLToPath(new URL(script, import.meta.url)), {
    env: { ...process.env, ...env, PORT: String(port) },
    execArgv: [...nodeFlags, '--import', 'tsx'],
    stdio: ['ignore', log, log, 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = new Promise<boolean>((resolve) => {
    child.once('message', () => resolve(true));
    void exited.then(() => resolve(false));
  });
  if (!(await within(ready, READY_TIMEOUT_MS))) {
    child.kill('SIGKILL');
    throw new Error(`${script} did not start within ${READY_TIMEOUT_MS} ms (see ${logFile})`);
  }
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    async stop() {
      child.kill('SIGTERM');
      if ((await within(exited, 10_000)) === undefined) child.kill('SIGKILL');
      await exited;
    },
  };
}
