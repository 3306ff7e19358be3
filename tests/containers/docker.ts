import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { eventually as pollUntil, sleep } from '@fibstack/devstack/testkit';
import { baseImages } from '../support/image-references.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

/** Compose v2 (`docker compose`) when the plugin is there, else docker-compose v1 (as on this machine). */
function composeCommand(): string[] {
  try {
    execFileSync('docker', ['compose', 'version'], { stdio: 'ignore' });
    return ['docker', 'compose'];
  } catch {
    return ['docker-compose'];
  }
}
const COMPOSE = composeCommand();

export interface ComposeProject {
  name: string;
  files: string[];
  cwd?: string;
  env?: Record<string, string>;
}

/** Runs a compose command for the project and returns its output; throws with the output on failure. */
export async function compose(project: ComposeProject, args: string[], timeoutMs = 600_000): Promise<string> {
  const [file, ...base] = COMPOSE as [string, ...string[]];
  const fileArgs = project.files.flatMap((path) => ['-f', path]);
  try {
    const { stdout, stderr } = await run(file, [...base, '-p', project.name, ...fileArgs, ...args], {
      cwd: project.cwd ?? REPO_ROOT,
      env: { ...process.env, ...baseImageOverrides(), ...project.env },
      timeout: timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout + stderr;
  } catch (error) {
    const failure = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${COMPOSE.join(' ')} ${args.join(' ')} failed: ${failure.message}\n${failure.stdout ?? ''}${failure.stderr ?? ''}`);
  }
}

export async function docker(args: string[], timeoutMs = 300_000): Promise<string> {
  const { stdout } = await run('docker', args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  return stdout.trim();
}

const PROVISION = fileURLToPath(new URL('../../../shared/containers/provision', import.meta.url));

/** Whether the local `image` is one of provision's stand-ins (they carry the label standin=true). */
function isStandIn(image: string): boolean {
  try {
    return (
      execFileSync('docker', ['image', 'inspect', '-f', '{{index .Config.Labels "standin"}}', image], {
        encoding: 'utf8',
        stdio: 'pipe',
      }).trim() === 'true'
    );
  } catch {
    return false;
  }
}

/**
 * On the project's CI machines, which reach no registry, the shared provision script builds local stand-ins
 * (a checkout elsewhere, e.g. a git worktree, finds them by their label).
 */
const STAND_INS = existsSync(PROVISION) || isStandIn(baseImages().node!.replace(/@sha256:[0-9a-f]{64}$/, ''));

/**
 * Makes the official base images available (those the repository's files name, plus `named`): a no-op
 * where a registry is reachable and they are pulled as usual; on the project's CI machines the stand-ins
 * are built under the official names (it also starts dockerd when needed).
 */
export async function provisionBaseImages(named: string[] = []): Promise<void> {
  if (!existsSync(PROVISION)) return;
  await run(PROVISION, ['--from-files', '.'], { cwd: REPO_ROOT, timeout: 900_000, maxBuffer: 64 * 1024 * 1024 });
  if (named.length) await run(PROVISION, named, { cwd: REPO_ROOT, timeout: 900_000, maxBuffer: 64 * 1024 * 1024 });
}

/**
 * The image that stands for `image` here: a stand-in is a local image under the official name:tag, and no
 * local image can carry the official digest, so a pinned base runs by its tag where stand-ins are used.
 * Anything else (and every image where a registry is reachable) is unchanged.
 */
export function localImage(image: string): string {
  return STAND_INS && Object.values(baseImages()).includes(image) ? image.replace(/@sha256:[0-9a-f]{64}$/, '') : image;
}

/**
 * What the Dockerfiles' and compose files' base arguments must be set to here (base-images.json by tag, see
 * localImage); empty where a registry is reachable, so the pinned defaults build.
 */
export function baseImageOverrides(): Record<string, string> {
  if (!STAND_INS) return {};
  const { node, nginx, postgres, redis } = baseImages();
  return Object.fromEntries(
    Object.entries({ NODE_IMAGE: node!, NGINX_IMAGE: nginx!, POSTGRES_IMAGE: postgres!, REDIS_IMAGE: redis! }).map(([name, image]) => [
      name,
      localImage(image),
    ]),
  );
}

/** baseImageOverrides() as `docker build` arguments. */
export function baseImageBuildArgs(): string[] {
  return Object.entries(baseImageOverrides()).flatMap(([name, value]) => ['--build-arg', `${name}=${value}`]);
}

/**
 * `eventually` as the container tests poll: every 250 ms, each attempt bounded too, because Docker's port
 * proxy can accept a connection for a container that is not listening yet and then never answer it.
 */
export const eventually = (check: () => Promise<boolean>, timeoutMs: number, what: string) =>
  pollUntil(check, timeoutMs, what, { intervalMs: 250, attemptMs: 10_000 });

/**
 * Waits until every index has its value through the API at `baseUrl`. It reads one page of the list per
 * second rather than each value, so the polling itself stays far below the API's per-client rate limit.
 */
export async function allComputed(baseUrl: string, indexes: number[], timeoutMs: number): Promise<void> {
  await eventually(
    async () => {
      const response = await fetch(`${baseUrl}/api/values?limit=100`);
      if (!response.ok) return false;
      const page = (await response.json()) as { items: Array<{ index: number; status: string }> };
      const done = new Set(page.items.filter((item) => item.status === 'done').map((item) => item.index));
      await sleep(750);
      return indexes.every((index) => done.has(index));
    },
    timeoutMs,
    `values for ${indexes.length} indexes`,
  );
}
