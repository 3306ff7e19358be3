import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@fibstack/devstack/ports';
import { startNativeStack, type NativeStack, type NativeStackOptions } from '@fibstack/devstack/stack';

export interface ObservedStack {
  stack: NativeStack;
  /** The JSON lines a service logged so far. */
  logLines(service: 'server' | 'worker'): Promise<Array<Record<string, unknown>>>;
  stop(): Promise<void>;
}

/** The native stack as `npm start` runs it (built services, real Postgres and Redis), logging to files. */
export async function startObservedStack(options: Pick<NativeStackOptions, 'env' | 'serviceEnv'>): Promise<ObservedStack> {
  const dataDir = await mkdtemp(join(tmpdir(), 'fibstack-observability-'));
  const logDir = join(dataDir, 'logs');
  const stack = await startNativeStack({ port: await freePort(), dataDir, persistent: false, output: { logDir }, ...options });
  return {
    stack,
    async logLines(service) {
      const text = await readFile(join(logDir, `${service}.log`), 'utf8');
      return text
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    async stop() {
      await stack.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
