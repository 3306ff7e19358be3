import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const PRELOAD = fileURLToPath(new URL('../../dist/tracing/preload.js', import.meta.url));

/**
 * What `node --import …/tracing/preload` leaves behind, seen from the app's main thread and from a worker
 * thread (which inherits --import): whether a tracer provider is registered with the OpenTelemetry API
 * (the API keeps it on a global symbol), and whether ESM loader hooks are in place.
 */
const PROBE = `
  const { Worker } = await import('node:worker_threads');
  const api = () => globalThis[Symbol.for('opentelemetry.js.api.1')];
  const inThread = await new Promise((resolve) => {
    const thread = new Worker("import('node:worker_threads').then(({ parentPort }) => parentPort.postMessage(Boolean(globalThis[Symbol.for('opentelemetry.js.api.1')]?.trace)))", { eval: true });
    thread.once('message', (value) => { resolve(value); thread.terminate(); });
  });
  console.log(JSON.stringify({ tracerProvider: Boolean(api()?.trace), inThread }));
`;

async function probe(env: Record<string, string>) {
  const { stdout } = await run(process.execPath, ['--import', PRELOAD, '--input-type=module', '-e', PROBE], {
    env: { PATH: process.env.PATH, ...env },
  });
  return JSON.parse(stdout.trim().split('\n').pop()!) as { tracerProvider: boolean; inThread: boolean };
}

describe('the tracing preload', () => {
  it('starts the SDK in the main thread only, when an OTLP endpoint is set', async () => {
    expect(await probe({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).toEqual({ tracerProvider: true, inThread: false });
    expect(await probe({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' })).toEqual({
      tracerProvider: true,
      inThread: false,
    });
  });

  it.each([
    ['no endpoint', {}],
    ['an empty endpoint (compose passing ${OTEL_EXPORTER_OTLP_ENDPOINT:-} through)', { OTEL_EXPORTER_OTLP_ENDPOINT: '' }],
    ['OTEL_SDK_DISABLED=true', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'true' }],
  ])('loads nothing with %s', async (_case, env) => {
    expect(await probe(env)).toEqual({ tracerProvider: false, inThread: false });
  });
});
