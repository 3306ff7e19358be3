import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

export interface Listening {
  baseUrl: string;
  /** Stops listening and drops every connection, open event streams included. */
  close: () => void;
}

/** Serves `app` on a free loopback port, as main.ts serves it on PORT, for tests that need real sockets. */
export async function listenOnFreePort(app: Express): Promise<Listening> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close() {
      server.closeAllConnections();
      server.close();
    },
  };
}
