import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { copyFile, mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@fibstack/devstack/ports';
import { startDns, type DnsServer } from './dns.js';

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
  /** REAL_IP_FROM as the image reads it: the load balancers whose X-Forwarded-For is believed. */
  realIpFrom?: string;
  /**
   * EDGE_RESOLVER: the DNS server that resolves the upstream names (`host:port`, e.g. tests/support/dns.ts).
   * Upstreams given as addresses need none.
   */
  resolver?: string;
  /** Where the production template's HTTPS redirect (its `listen 8080`) listens; a free port if not given. */
  redirectPort?: number;
  /**
   * In place of nginx.conf's `worker_processes auto`: 1 is the case its worker_connections are sized for,
   * every connection on one worker.
   */
  workerProcesses?: number;
}

/**
 * What nginx/entrypoint/10-edge-client-address.envsh makes of REAL_IP_FROM, run by sh as the image's
 * entrypoint sources it; throws with its message when it refuses the value.
 */
export function edgeRealIpConfig(realIpFrom: string | undefined): string {
  const script = join(REPO_ROOT, 'nginx/entrypoint/10-edge-client-address.envsh');
  const result = spawnSync('sh', ['-c', `. "${script}" && printf %s "$EDGE_REAL_IP_CONFIG"`], {
    env: { PATH: process.env.PATH, ...(realIpFrom === undefined ? {} : { REAL_IP_FROM: realIpFrom }) },
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(result.stderr.trim());
  return result.stdout;
}

/**
 * The edge image (nginx/Dockerfile): its own nginx.conf (events, log format, conf.d), http.conf as
 * conf.d/00-fibstack-http.conf, api-locations.conf under fibstack/, and the rendered template.
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
    EDGE_RESOLVER: options.resolver ?? '127.0.0.1',
    EDGE_REAL_IP_CONFIG: edgeRealIpConfig(options.realIpFrom),
  });
  if (!/^\s*listen 80;$/m.test(rendered)) throw new Error(`${options.templates}: expected "listen 80;"`);
  const redirectPort = options.redirectPort ?? (await freePort());
  await writeFile(
    join(prefix, 'conf.d/default.conf'),
    relocate(rendered, prefix)
      .replace(/^(\s*)listen 80;$/m, `$1listen 127.0.0.1:${options.port};`)
      .replace(/^(\s*)listen 8080;$/m, `$1listen 127.0.0.1:${redirectPort};`),
  );
  const mainConf = join(prefix, 'nginx.conf');
  // The image's nginx.conf, with what only the image's file system decides moved into the prefix: no
  // `user` (this runs unprivileged or as root, where nginx's default user is used), logs and pid there,
  // and temporary files too (the image's nginx has its other ones under /var/cache/nginx by default).
  const main = relocate(await readFile(join(nginxDir, 'conf/nginx.conf'), 'utf8'), prefix)
    .replace(/^user .*;$/m, '')
    .replace('/var/log/nginx/error.log', 'stderr')
    .replace('/var/log/nginx/access.log', `${prefix}/access.log`)
    .replace('/var/run/nginx.pid', `${prefix}/nginx.pid`)
    .replace(/^worker_processes auto;$/m, `worker_processes ${options.workerProcesses ?? 'auto'};`)
    .replace(
      /^http \{$/m,
      `http {\n  fastcgi_temp_path ${prefix}/tmp/fastcgi;\n  uwsgi_temp_path ${prefix}/tmp/uwsgi;\n  scgi_temp_path ${prefix}/tmp/scgi;`,
    );
  if (/\/var\/|^user /m.test(main)) throw new Error('nginx/conf/nginx.conf: a path or user of the image left in the layout');
  await writeFile(mainConf, main);
  return { prefix, mainConf };
}

/** A `limit_conn` of nginx/conf/api-locations.conf, so tests and the benchmark follow the file rather than restate it. */
export async function edgeStreamLimit(zone: 'edge_streams_per_client' | 'edge_streams_total'): Promise<number> {
  const conf = await readFile(join(REPO_ROOT, 'nginx/conf/api-locations.conf'), 'utf8');
  const found = new RegExp(`^\\s*limit_conn ${zone} (\\d+);`, 'm').exec(conf);
  if (!found) throw new Error(`nginx/conf/api-locations.conf: no "limit_conn ${zone} N;"`);
  return Number(found[1]);
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
      // A graceful stop waits for every connection; one a failed test left open (an event stream) would
      // hold it for an hour, so it becomes a fast one after a while.
      const fast = setTimeout(() => child.kill('SIGTERM'), 5_000);
      await exited;
      clearTimeout(fast);
    },
  };
}

export interface EdgeByName {
  url: string;
  /** Answers `name`: change its addresses to move the edge to other replicas. */
  dns: DnsServer;
  nginx: RunningNginx;
  /** Stops nginx and the DNS server and deletes the layout. */
  stop(): Promise<void>;
}

/**
 * The edge as shipped (nginx/templates) in front of API replicas as a container platform runs them: it
 * finds them by `name`, which a DNS server of its own answers with `addresses`, all listening on
 * `serverPort`. Natively the API also serves the built client, so it stands in for the client upstream.
 */
export async function startEdgeByName(options: {
  name: string;
  addresses: string[];
  serverPort: string;
  realIpFrom?: string;
}): Promise<EdgeByName> {
  const dns = await startDns({ [options.name]: options.addresses });
  const port = await freePort();
  const upstream = `${options.name}:${options.serverPort}`;
  let layout: NginxLayout | undefined;
  try {
    layout = await edgeLayout({
      templates: 'templates',
      port,
      serverUpstream: upstream,
      clientUpstream: upstream,
      resolver: dns.address,
      realIpFrom: options.realIpFrom,
    });
    const nginx = await runNginx(layout, port);
    const { prefix } = layout;
    return {
      url: `http://127.0.0.1:${port}`,
      dns,
      nginx,
      async stop() {
        await nginx.stop();
        await dns.close();
        await rm(prefix, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await dns.close();
    if (layout) await rm(layout.prefix, { recursive: true, force: true });
    throw error;
  }
}
