import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { copyFile, mkdir, mkdtemp, open, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const NGINX_MISSING_HELP =
  'nginx was not found on PATH. Install it (Debian/Ubuntu: sudo apt-get install nginx; macOS: brew install nginx).';

export function hasNginx(): boolean {
  return spawnSync('nginx', ['-v'], { stdio: 'ignore' }).status === 0;
}

/**
 * A copy of one of the repository's nginx configurations laid out under a temporary prefix the way its
 * image lays it out under /etc/nginx, so the real nginx binary can check or run it without Docker.
 * Only paths are rewritten (and `listen`, to a loopback port): every directive is the repository's.
 */
export interface NginxLayout {
  prefix: string;
  mainConf: string;
}

/** Rewrites the image paths of a config file into the layout's prefix. */
function relocate(text: string, prefix: string): string {
  return text.replace(/\/etc\/nginx\/|\/tmp\//g, (path) => (path === '/tmp/' ? `${prefix}/tmp/` : `${prefix}/`));
}

/** What the official image's entrypoint does with /etc/nginx/templates: substitute the variables it has. */
function renderTemplate(template: string, variables: Record<string, string>): string {
  return template.replace(/\$\{([A-Z_][A-Z0-9_]*)\}/g, (whole, name: string) => variables[name] ?? whole);
}

async function newPrefix(name: string): Promise<string> {
  const prefix = await mkdtemp(join(tmpdir(), `fibstack-nginx-${name}-`));
  await mkdir(join(prefix, 'conf.d'));
  await mkdir(join(prefix, 'tmp'));
  // The image's own mime.types; Debian's package ships the same file.
  await copyFile('/etc/nginx/mime.types', join(prefix, 'mime.types'));
  return prefix;
}

export interface EdgeOptions {
  /** `templates` (production) or `templates-dev`. */
  templates: 'templates' | 'templates-dev';
  port: number;
  serverUpstream: string;
  clientUpstream: string;
}

/**
 * The edge image (nginx/Dockerfile): the official image's main config (events, mime types, conf.d),
 * http.conf as conf.d/00-fibstack-http.conf, api-locations.conf under fibstack/, and the rendered template.
 */
export async function edgeLayout(options: EdgeOptions): Promise<NginxLayout> {
  const prefix = await newPrefix(options.templates);
  await mkdir(join(prefix, 'fibstack'));
  const nginxDir = join(REPO_ROOT, 'nginx');
  await writeFile(join(prefix, 'conf.d/00-fibstack-http.conf'), await readFile(join(nginxDir, 'conf/http.conf'), 'utf8'));
  await writeFile(join(prefix, 'fibstack/api-locations.conf'), await readFile(join(nginxDir, 'conf/api-locations.conf'), 'utf8'));
  const template = await readFile(join(nginxDir, options.templates, 'default.conf.template'), 'utf8');
  const rendered = renderTemplate(template, {
    SERVER_UPSTREAM: options.serverUpstream,
    CLIENT_UPSTREAM: options.clientUpstream,
    EDGE_RESOLVER: '127.0.0.1',
  });
  if (!/^\s*listen 80;$/m.test(rendered)) throw new Error(`${options.templates}: expected "listen 80;"`);
  await writeFile(
    join(prefix, 'conf.d/default.conf'),
    relocate(rendered, prefix).replace(/^(\s*)listen 80;$/m, `$1listen 127.0.0.1:${options.port};`),
  );
  const mainConf = join(prefix, 'nginx.conf');
  // Stands in for the official image's /etc/nginx/nginx.conf (its logging goes to the prefix instead).
  await writeFile(
    mainConf,
    `worker_processes 1;
pid ${prefix}/nginx.pid;
events { worker_connections 64; }
http {
  include ${prefix}/mime.types;
  default_type application/octet-stream;
  access_log ${prefix}/access.log;
  client_body_temp_path ${prefix}/tmp/client_body;
  proxy_temp_path ${prefix}/tmp/proxy;
  include ${prefix}/conf.d/*.conf;
}
`,
  );
  return { prefix, mainConf };
}

/** The client image (client/Dockerfile): its own nginx.conf, default.conf and security-headers snippet. */
export async function clientLayout(port: number): Promise<NginxLayout> {
  const prefix = await newPrefix('client');
  await mkdir(join(prefix, 'snippets'));
  const dir = join(REPO_ROOT, 'client/nginx');
  const copy = async (from: string, to: string) => writeFile(join(prefix, to), relocate(await readFile(join(dir, from), 'utf8'), prefix));
  await copy('nginx.conf', 'nginx.conf');
  await copy('security-headers.conf', 'snippets/security-headers.conf');
  const site = relocate(await readFile(join(dir, 'default.conf'), 'utf8'), prefix);
  if (!/^\s*listen 8080;$/m.test(site)) throw new Error('client default.conf: expected "listen 8080;"');
  await writeFile(join(prefix, 'conf.d/default.conf'), site.replace(/^(\s*)listen 8080;$/m, `$1listen 127.0.0.1:${port};`));
  return { prefix, mainConf: join(prefix, 'nginx.conf') };
}

/**
 * `nginx -t` on the layout; resolves to nginx's verdict and what it printed. Its output goes to a file:
 * a config that logs to /dev/stderr cannot open it when stderr is a socket, as Node's pipes are.
 */
export async function checkConfig(layout: NginxLayout): Promise<{ ok: boolean; output: string }> {
  const outputFile = join(layout.prefix, 'nginx-t.log');
  const out = await open(outputFile, 'w');
  try {
    const child = spawn('nginx', ['-t', '-p', layout.prefix, '-e', 'stderr', '-c', layout.mainConf], {
      stdio: ['ignore', out.fd, out.fd],
    });
    const [code] = (await once(child, 'exit')) as [number | null];
    return { ok: code === 0, output: await readFile(outputFile, 'utf8') };
  } finally {
    await out.close();
  }
}

export interface RunningNginx {
  process: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Runs nginx in the foreground on the layout until `stop`. */
export async function runNginx(layout: NginxLayout, port: number): Promise<RunningNginx> {
  const child = spawn('nginx', ['-p', layout.prefix, '-e', 'stderr', '-c', layout.mainConf, '-g', 'daemon off;'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const listening = async () => {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`nginx exited during start:\n${output}`);
      const ok = await new Promise<boolean>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => {
          socket.end();
          resolve(true);
        });
        socket.on('error', () => resolve(false));
      });
      if (ok) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  await listening();
  return {
    process: child,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGQUIT');
      await exited;
    },
  };
}
