/**
 * Whether this process exports traces. Tracing is opt-in and follows the standard OpenTelemetry
 * variables: it is on when OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) names a
 * collector, unless OTEL_SDK_DISABLED=true. An empty value counts as unset, so a compose file can pass
 * `${OTEL_EXPORTER_OTLP_ENDPOINT:-}` through and mean "off".
 */
export function tracingRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  return Boolean(endpoint) && env.OTEL_SDK_DISABLED?.trim().toLowerCase() !== 'true';
}

/** Read once: code on hot paths checks this constant and skips every tracing call when it is false. */
export const TRACING = tracingRequested();

let flushHook: (() => Promise<void>) | undefined;

/** Called by the SDK set-up: how to export the spans still buffered before the process exits. */
export function onTracingFlush(flush: () => Promise<void>): void {
  flushHook = flush;
}

/** A collector that is down must not hold up a shutdown the orchestrator is timing. */
const FLUSH_TIMEOUT_MS = 2_000;

/** Exports the spans still buffered, for at most 2 s; a no-op when tracing is off. */
export async function flushTracing(): Promise<void> {
  if (!flushHook) return;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, FLUSH_TIMEOUT_MS)));
  await Promise.race([flushHook().catch(() => undefined), timeout]);
  clearTimeout(timer);
}
