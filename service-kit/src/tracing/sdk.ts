import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { register } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { ExpressInstrumentation, ExpressLayerType } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { createAddHookMessageChannel } from 'import-in-the-middle';
import { onTracingFlush } from './switch.js';

/** Probes and scrapes: frequent, uninteresting, and they would bury the submissions' traces. */
const UNTRACED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Defaults for the resource attributes, from the package that runs (`@fibstack/server` → service
 * `fibstack-server`) and `imageVersion` (the commit the image was built from, FIBSTACK_VERSION), else the
 * package's version. OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (e.g. deployment.environment.name)
 * override them: the SDK's environment detector wins.
 */
function defaultResource(imageVersion: string | undefined) {
  const entry = process.argv[1] ?? '';
  let name = basename(dirname(dirname(entry))) || 'fibstack';
  let version = 'unknown';
  try {
    const manifest = JSON.parse(readFileSync(join(dirname(dirname(entry)), 'package.json'), 'utf8')) as { name?: string; version?: string };
    if (manifest.name) name = manifest.name.replace(/^@/, '').replace('/', '-');
    if (manifest.version) version = manifest.version;
  } catch {
    // not started from a package's dist/ folder: keep the folder name
  }
  return resourceFromAttributes({
    'service.name': name,
    'service.version': imageVersion ?? version,
    'deployment.environment.name': 'development',
  });
}

/**
 * Starts the OpenTelemetry Node SDK. Everything the standard variables cover is left to the SDK:
 * OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL (`http/protobuf`, the default, or `http/json`),
 * OTEL_EXPORTER_OTLP_HEADERS, OTEL_TRACES_SAMPLER(_ARG), OTEL_PROPAGATORS, OTEL_SERVICE_NAME,
 * OTEL_RESOURCE_ATTRIBUTES, OTEL_BSP_*. Metrics stay with Prometheus (/metrics) and logs with stdout,
 * so the SDK's own metric and log exporters are off unless OTEL_METRICS_EXPORTER / OTEL_LOGS_EXPORTER
 * ask for them.
 */
export async function startTracing({ version }: { version: string | undefined }): Promise<void> {
  process.env.OTEL_METRICS_EXPORTER ??= 'none';
  process.env.OTEL_LOGS_EXPORTER ??= 'none';

  // ESM: the app's imports are seen by import-in-the-middle's loader hook, told over a message channel
  // which modules the instrumentations want, so every other module loads untouched.
  const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
  register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions);

  const sdk = new NodeSDK({
    resource: defaultResource(version),
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req: IncomingMessage) => UNTRACED_PATHS.has((req.url ?? '').split('?')[0]!),
        // The exporter's own requests and anything else outbound are not part of a submission's path.
        ignoreOutgoingRequestHook: () => true,
      }),
      // Route handlers only: every request passes every middleware and router, which says nothing.
      new ExpressInstrumentation({
        ignoreLayersType: [ExpressLayerType.MIDDLEWARE, ExpressLayerType.ROUTER],
        spanNameHook: (info, defaultName) => (info.layerType === ExpressLayerType.REQUEST_HANDLER ? `route ${info.route}` : defaultName),
      }),
      // Only inside a trace: the worker's polling, the reconciler and probes would otherwise each start one.
      // Pool check-outs are not worth a span each; the query span shows the wait.
      new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
    ],
  });
  sdk.start();
  onTracingFlush(() => sdk.shutdown());
  await waitForAllMessagesAcknowledged();
}
