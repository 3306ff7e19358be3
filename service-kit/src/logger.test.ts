import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const SECRET = 'Canary-0f5e2d9c1b7a4e38';
const serviceKit = fileURLToPath(new URL('..', import.meta.url));

/** Runs `script` (ESM) as an entry point of its own, from the TypeScript sources; its output and exit code. */
async function run(script: string): Promise<{ output: string; code: number }> {
  const args = ['--conditions=development', '--import', 'tsx', '--input-type=module', '-e', script];
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, args, { cwd: serviceKit, env: { PATH: process.env.PATH } });
    return { output: stdout + stderr, code: 0 };
  } catch (error) {
    const failed = error as { stdout: string; stderr: string; code: number };
    return { output: failed.stdout + failed.stderr, code: failed.code };
  }
}

const SETUP = `
  import { createLogger, logCrashes } from '@fibstack/service-kit/logger';
  const logger = createLogger('test', 'info');
  logCrashes(logger);
  // What ioredis throws on a wrong password: the arguments of AUTH, the password among them.
  const wrongPassword = Object.assign(new Error('WRONGPASS invalid username-password pair'), { command: { name: 'auth', args: ['server', '${SECRET}'] } });
`;

describe('the services’ logger', () => {
  it('blanks the credentials a failed Redis command and an unparsable URL carry, keeping the rest', async () => {
    const { output, code } = await run(`${SETUP}
      logger.warn({ err: wrongPassword }, 'Redis connection failed');
      logger.warn({ err: new Error('wrapped', { cause: wrongPassword }) }, 'wrapped');
      logger.warn({ err: new AggregateError([wrongPassword], 'every attempt failed') }, 'aggregate');
      try { new URL('postgres://app:${SECRET}@[db:5432/app'); } catch (error) { logger.warn({ err: error }, 'bad URL'); }
    `);
    expect(code).toBe(0);
    expect(output).not.toContain(SECRET);
    const lines = output
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { msg: string; err: Record<string, unknown> });
    expect(lines.map((line) => line.msg)).toEqual(['Redis connection failed', 'wrapped', 'aggregate', 'bad URL']);
    const redacted = { message: 'WRONGPASS invalid username-password pair', command: { name: 'auth', args: '[redacted]' } };
    expect(lines[0]!.err).toMatchObject(redacted);
    expect(lines[2]!.err).toMatchObject({ aggregateErrors: [redacted] });
    expect(lines[3]!.err).toMatchObject({ code: 'ERR_INVALID_URL', input: '[redacted]' });
  });

  it('logs an uncaught exception through that redaction and exits 1, where Node would print every field', async () => {
    const { output, code } = await run(`${SETUP} throw wrongPassword;`);
    expect(code).toBe(1);
    expect(output).toContain('"msg":"uncaught exception"');
    expect(output).toContain('WRONGPASS');
    expect(output).not.toContain(SECRET);
  });

  it('logs a stray promise rejection the same way, and keeps running', async () => {
    const { output, code } = await run(`${SETUP} Promise.reject(wrongPassword); setTimeout(() => logger.info('still running'), 50);`);
    expect(code).toBe(0);
    expect(output).toContain('"msg":"unhandled rejection"');
    expect(output).toContain('"msg":"still running"');
    expect(output).not.toContain(SECRET);
  });
});
