import { z } from 'zod';
import { optionalVar, secret, urlVar } from '../config.js';

/**
 * OTLP headers as the OpenTelemetry SDK reads them: comma-separated `key=value` pairs, percent-encoded.
 * The SDK silently drops a pair it cannot read, and a `;` ends a value: an API key written raw would
 * then be sent cut short, or not at all, and every export refused without a word.
 */
function readableHeaders(value: string): boolean {
  return value.split(',').every((pair) => {
    const separator = pair.indexOf('=');
    const key = pair.slice(0, separator).trim();
    const val = pair.slice(separator + 1).trim();
    if (separator <= 0 || !key || !val || pair.includes(';')) return false;
    try {
      decodeURIComponent(key);
      decodeURIComponent(val);
      return true;
    } catch {
      return false;
    }
  });
}

const headersVar = () =>
  secret(
    optionalVar().refine(
      (value) => value === undefined || readableHeaders(value),
      'must be comma-separated key=value pairs, with any , ; = % in a value percent-encoded',
    ),
  );

/**
 * The standard OTLP variables that may carry credentials (a token in a header, a user and password in
 * the endpoint), checked when tracing starts so that a malformed one stops the process with an error
 * that names it and never shows its value; the SDK itself reads them afterwards.
 */
export const otlpEnv = z.object({
  OTEL_EXPORTER_OTLP_ENDPOINT: secret(urlVar(['http', 'https'])),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: secret(urlVar(['http', 'https'])),
  OTEL_EXPORTER_OTLP_HEADERS: headersVar(),
  OTEL_EXPORTER_OTLP_TRACES_HEADERS: headersVar(),
  /**
   * The commit the running image was built from (server/ and worker/Dockerfile set it from their build
   * argument): the service.version of the traces, unless OTEL_RESOURCE_ATTRIBUTES names one.
   */
  FIBSTACK_VERSION: optionalVar(),
});
