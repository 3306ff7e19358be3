/**
 * The tracing entry point, loaded before the app with `node --import @fibstack/service-kit/tracing/preload`
 * so that instrumentation can patch http, express, pg and ioredis before the app imports them. With no
 * OTLP endpoint configured it loads nothing else and the app runs exactly as without it. Worker threads
 * (the Fibonacci pool) inherit `--import`; they export no spans, so only the main thread starts the SDK.
 */
import { isMainThread } from 'node:worker_threads';
import { tracingRequested } from './switch.js';

if (isMainThread && tracingRequested()) {
  const [{ configOrExit, parseEnv }, { otlpEnv }] = await Promise.all([import('../config.js'), import('./otlp-env.js')]);
  const env = configOrExit(() => parseEnv(otlpEnv, process.env));
  const { startTracing } = await import('./sdk.js');
  await startTracing({ version: env.FIBSTACK_VERSION });
}
