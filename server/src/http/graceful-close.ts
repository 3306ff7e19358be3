import type { Server } from 'node:http';
import { Server as NetServer } from 'node:net';

/** Long enough for a request already on the wire to be read, so its connection is not cut. */
const IDLE_GRACE_MS = 1_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/**
 * Stops an HTTP server without resetting any connection that carries a request:
 * 1. stop listening, but unlike `http.Server.close()` do not drop idle sockets at once: a freshly
 *    accepted socket looks idle while its request is still in the kernel buffer, and closing it then
 *    answers the client with a TCP reset;
 * 2. answer every request from now on with `Connection: close`;
 * 3. after a short grace close the sockets still idle, and after `timeoutMs` whatever is left.
 */
export async function closeGracefully(server: Server, timeoutMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => NetServer.prototype.close.call(server, () => resolve()));
  server.on('request', (_req, res) => res.setHeader('Connection', 'close'));
  await Promise.race([closed, sleep(IDLE_GRACE_MS)]);
  server.closeIdleConnections();
  await Promise.race([closed, sleep(Math.max(timeoutMs - IDLE_GRACE_MS, 0))]);
  server.closeAllConnections();
}
