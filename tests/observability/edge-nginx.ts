import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@fibstack/devstack/ports';

const NGINX_DIR = fileURLToPath(new URL('../../nginx/', import.meta.url));

export interface Edge {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * The production edge (nginx/conf/http.conf and nginx/templates/default.conf.template, rendered as the
 * official image's entrypoint does, with the two upstream variables) run by the nginx on PATH, on a free
 * port. Only what the image decides by its layout changes: the listen port and where the API locations
 * file lives.
 */
export async function startEdge(upstreams: { server: string; client: string }): Promise<Edge> {
  const dir = await mkdtemp(join(tmpdir(), 'fibstack-edge-'));
  const port = await freePort();
  const template = await readFile(join(NGINX_DIR, 'templates/default.conf.template'), 'utf8');
  const site = template
    .replaceAll('${SERVER_UPSTREAM}', upstreams.server)
    .replaceAll('${CLIENT_UPSTREAM}', upstreams.client)
    .replaceAll('${EDGE_RESOLVER}', '127.0.0.1')
    .replace(/listen 80;/, `listen 127.0.0.1:${port};`)
    .replace('/etc/nginx/fibstack/api-locations.conf', join(NGINX_DIR, 'conf/api-locations.conf'));
  await writeFile(join(dir, 'default.conf'), site);
  await writeFile(
    join(dir, 'nginx.conf'),
    `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log stderr warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  include ${join(NGINX_DIR, 'conf/http.conf')};
  include ${dir}/default.conf;
}
`,
  );
  const nginx: ChildProcess = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', 'stderr'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let errors = '';
  nginx.stderr!.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (nginx.exitCode !== null) throw new Error(`nginx exited (${nginx.exitCode}): ${errors}`);
    if (
      await fetch(`${url}/api/values`).then(
        () => true,
        () => false,
      )
    )
      break;
    if (Date.now() > deadline) throw new Error(`nginx did not answer on ${url}: ${errors}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    port,
    async stop() {
      if (nginx.exitCode === null) {
        nginx.kill('SIGQUIT');
        await new Promise((resolve) => nginx.once('exit', resolve));
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
