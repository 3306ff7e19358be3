import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { startNativeStack, type NativeStack, type NativeStackOptions } from './stack.js';

export interface ThrowawayStack {
  stack: NativeStack;
  /** The stack's own temporary directory: its databases, and one log file per service under `logs/`. */
  dataDir: string;
  /** Stops every process and deletes the directory. */
  close: () => Promise<void>;
}

/**
 * A native stack for one test file: on a free port, in a temporary directory of its own (`name` starts
 * its name), logging warnings and worse to files, thrown away by `close`. `options` add to or override that.
 */
export async function startThrowawayStack(
  name: string,
  options: Partial<Omit<NativeStackOptions, 'dataDir' | 'persistent'>> = {},
): Promise<ThrowawayStack> {
  const dataDir = await mkdtemp(join(tmpdir(), `fibstack-${name}-`));
  try {
    const stack = await startNativeStack({
      port: await freePort(),
      output: { logDir: join(dataDir, 'logs') },
      ...options,
      env: { LOG_LEVEL: 'warn', ...options.env },
      dataDir,
      persistent: false,
    });
    return {
      stack,
      dataDir,
      async close() {
        await stack.stop();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}
