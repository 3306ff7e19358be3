import type { Server, ServerResponse } from 'node:http';
import { Server as NetServer } from 'node:net';

/** Long enough for a request already on the wire to be read, so its connection is not cut. */
const IDLE_GRACE_MS = 1_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/**
 * Prepares `server` for a graceful close and returns the function that performs it. Call this before
 * the server takes requests: it tracks the responses in flight so that, at shutdown, those not yet
 * answered can still be told `Connection: close`.
 *
 * The close stops the server without resetting any connection that carries a request:
 * 1. stop listening, but unlike `http.Server.close()` do not drop idle sockets at once: a freshly
 *    accepted socket looks idle while its request is still in the kernel buffer, and closing it then
 *    answers the client with a TCP reset;
 * 2. answer every request in flight or arriving from now on with `Connection: close`, so no client
 *    reuses a connection that is about to go;
 * 3. after a short grace close the sockets still idle, and after `timeoutMs` whatever is left.
 *
 * One reset no process can prevent: connections the kernel has completed but Node has not yet accepted
 * are reset by the OS when listening stops. They never reached the app (nothing was stored), and under
 * steady load they are avoided by draining traffic before SIGTERM (the k8s preStop pause does).
 */
export function gracefulCloser(server: Server): (timeoutMs: number) => Promise<void> {
  const inFlight = new Set<ServerResponse>();
  let closing = false;
  const endConnection = (res: ServerResponse) => {
    if (!res.headersSent) res.setHeader('Connection', 'close');
  };
  server.on('request', (_req, res: ServerResponse) => {
    if (closing) return endConnection(res);
    inFlight.add(res);
    res.once('close', () => inFlight.delete(res));
  });

  return async (timeoutMs) => {
    closing = true;
    const closed = new Promise<void>((resolve) => NetServer.prototype.close.call(server, () => resolve()));
    for (const res of inFlight) endConnection(res);
    inFlight.clear();
    await Promise.race([closed, sleep(IDLE_GRACE_MS)]);
    server.closeIdleConnections();
    await Promise.race([closed, sleep(Math.max(timeoutMs - IDLE_GRACE_MS, 0))]);
    server.closeAllConnections();
  };
}
