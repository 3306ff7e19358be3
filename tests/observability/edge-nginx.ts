import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '@fibstack/devstack/ports';
import { edgeLayout, runNginx, type EdgeOptions } from '../support/nginx.js';

export interface Edge {
  url: string;
  port: number;
  /** What nginx wrote to its access log so far (the image's log format). */
  accessLog(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * The production edge (nginx/conf and nginx/templates/default.conf.template, laid out as the image lays
 * them out) run by the nginx on PATH, on a free port, in front of the given upstreams.
 */
export async function startEdge(
  upstreams: { server: string; client: string },
  options: Pick<EdgeOptions, 'realIpFrom'> = {},
): Promise<Edge> {
  const port = await freePort();
  const layout = await edgeLayout({
    templates: 'templates',
    port,
    serverUpstream: upstreams.server,
    clientUpstream: upstreams.client,
    ...options,
  });
  const nginx = await runNginx(layout, port).catch(async (error: unknown) => {
    await rm(layout.prefix, { recursive: true, force: true });
    throw error;
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    accessLog: () => readFile(join(layout.prefix, 'access.log'), 'utf8').catch(() => ''),
    async stop() {
      await nginx.stop();
      await rm(layout.prefix, { recursive: true, force: true });
    },
  };
}
