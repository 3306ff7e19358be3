import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '@fibstack/devstack/ports';
import { launchChromium } from '../tests/support/browser.js';
import { compose, docker, provisionBaseImages, type ComposeProject } from '../tests/containers/docker.js';
import { copyOfWorkingTree } from '../tests/support/checkout.js';
import { machineLoad } from './cpu.js';
import { round } from './stats.js';
import { waitUntil } from './wait.js';

/** Targets of issue 14 for the developer loop. */
export const DEV_LOOP_TARGETS = { coldUpS: 180, serverRebuildS: 20, devServerEditS: 3, devClientEditS: 1 };

/** The images this phase builds, under names of its own: nothing a user or a test built is replaced. */
const OWN_IMAGES = ['server', 'worker', 'client', 'nginx'].map((service) => `fibstack-bench-${service}:devloop`);
const DEV_IMAGES = ['server', 'worker', 'client', 'nginx'].map((service) => `fibstack-bench-${service}:devloop-dev`);

const seconds = (ms: number) => round(ms / 1000, 2);
const timed = async <T>(work: () => Promise<T>): Promise<[T, number]> => {
  const started = performance.now();
  const result = await work();
  return [result, performance.now() - started];
};

/**
 * The loop a developer lives in, with Docker, in a copy of the working tree (edits never touch it):
 * 1. `docker-compose build --no-cache` + `up` (an empty build cache, base images present) until the
 *    edge answers /api/values;
 * 2. what each image adds to its base, and its biggest layers;
 * 3. a one-line change to server/src: rebuild + restart until the edge answers again, and which build
 *    steps ran (the dependency layers must be cache hits);
 * 4. the dev compose: first `up`, then an edit to a server file served, and an edit to a client
 *    component shown in Chromium through the edge by hot-module replacement (no page reload).
 */
export async function developerLoop({ workDir }: { smoke: boolean; workDir: string }) {
  try {
    await docker(['info', '--format', '{{.ServerVersion}}'], 30_000);
  } catch {
    return { skipped: 'no Docker engine answers here' };
  }
  await provisionBaseImages();
  const repo = copyOfWorkingTree(join(workDir, 'repo'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = { FIBSTACK_PORT: String(port) };
  writeFileSync(join(repo, 'bench-images.yml'), imageOverride(OWN_IMAGES, ''));
  writeFileSync(join(repo, 'bench-dev-images.yml'), imageOverride(DEV_IMAGES, 'dev'));
  const production: ComposeProject = { name: 'fibstack-bench', files: ['docker-compose.yml', 'bench-images.yml'], cwd: repo, env };
  const development: ComposeProject = {
    name: 'fibstack-bench-dev',
    files: ['docker-compose.dev.yml', 'bench-dev-images.yml'],
    cwd: repo,
    env,
  };
  const answers = (path = '/api/values') =>
    waitUntil(async () => (await fetch(`${base}${path}`)).status === 200, {
      timeoutMs: 300_000,
      intervalMs: 250,
      what: `the edge to answer ${path}`,
    });
  const results: Record<string, unknown> = {
    engine: await docker(['version', '--format', '{{.Server.Version}}']),
    compose: (await compose(production, ['version', '--short']).catch(() => 'unknown')).trim(),
    builder: process.env.DOCKER_BUILDKIT === '1' ? 'BuildKit' : 'the default builder of this engine and compose',
    targets: DEV_LOOP_TARGETS,
  };
  try {
    await compose(production, ['down', '-v', '--remove-orphans']);
    const [coldBuild, buildMs] = await timed(() => compose(production, ['build', '--no-cache'], 1_500_000));
    const [, upMs] = await timed(() => compose(production, ['up', '-d'], 600_000));
    const answered = await answers();
    results.coldUp = {
      buildSeconds: seconds(buildMs),
      upUntilAnsweringSeconds: answered.ok ? seconds(upMs + answered.ms) : answered.timedOut,
      totalSeconds: answered.ok ? seconds(buildMs + upMs + answered.ms) : null,
      buildSteps: buildSteps(coldBuild).length,
      load: machineLoad(),
    };
    results.images = await imageSizes(repo);

    // A --no-cache build leaves a second copy of the steps every stage shares (FROM node + WORKDIR), and
    // the legacy builder then follows the newest one and misses. A developer's cache was made by normal
    // builds, so settle it with one before measuring a rebuild.
    const [, settleMs] = await timed(() => compose(production, ['build'], 1_500_000));
    results.settleBuildSeconds = seconds(settleMs);

    const app = join(repo, 'server/src/app.ts');
    writeFileSync(app, `${readFileSync(app, 'utf8')}// a one-line change, made by the benchmark\n`);
    const [rebuild, rebuildMs] = await timed(() => compose(production, ['build', 'server'], 600_000));
    const [, restartMs] = await timed(() => compose(production, ['up', '-d', 'server'], 300_000));
    const newImage = await docker(['image', 'inspect', '-f', '{{.Id}}', OWN_IMAGES[0]!]);
    const serving = await waitUntil(
      async () => {
        const id = (await compose(production, ['ps', '-q', 'server'])).trim();
        return (await docker(['inspect', '-f', '{{.Image}}', id])) === newImage && (await fetch(`${base}/api/values`)).status === 200;
      },
      { timeoutMs: 120_000, intervalMs: 250, what: 'the rebuilt server to answer through the edge' },
    );
    const steps = buildSteps(rebuild);
    const firstSourceStep = steps.findIndex((step) => step.instruction.startsWith('COPY server server'));
    results.serverOneLineChange = {
      rebuildSeconds: seconds(rebuildMs),
      restartUntilAnsweringSeconds: serving.ok ? seconds(restartMs + serving.ms) : serving.timedOut,
      totalSeconds: serving.ok ? seconds(rebuildMs + restartMs + serving.ms) : null,
      rebuiltSteps: steps.filter((step) => !step.cached).map((step) => step.instruction),
      // Everything before the server's sources (base, manifests, npm ci, the shared packages) and the
      // production dependencies come from the cache.
      dependencyLayersCached:
        firstSourceStep > 0 &&
        steps.slice(0, firstSourceStep).every((step) => step.cached || /^(FROM|ARG) /.test(step.instruction)) &&
        steps.filter((step) => /npm ci/.test(step.instruction)).every((step) => step.cached),
      load: machineLoad(),
    };
  } finally {
    await compose(production, ['down', '-v', '--remove-orphans']).catch(() => undefined);
  }

  try {
    await compose(development, ['down', '-v', '--remove-orphans']);
    const [, upMs] = await timed(() => compose(development, ['up', '-d', '--build'], 900_000));
    const answered = await waitUntil(async () => (await fetch(`${base}/api/values`)).status === 200, {
      timeoutMs: 600_000,
      intervalMs: 250,
      what: 'the dev stack to answer through the edge',
    });
    results.devCompose = { firstUpSeconds: answered.ok ? seconds(upMs + answered.ms) : answered.timedOut, load: machineLoad() };
    if (answered.ok) {
      Object.assign(results.devCompose as object, {
        serverEdit: await serverEdit(repo, base, development),
        clientEdit: await clientEdit(repo, base),
        load: machineLoad(),
      });
    }
  } finally {
    await compose(development, ['down', '-v', '--remove-orphans']).catch(() => undefined);
    await docker(['rmi', ...OWN_IMAGES, ...DEV_IMAGES]).catch(() => undefined);
  }
  return results;
}

/** A compose override that gives every image built here a name of its own. */
function imageOverride(images: string[], flavour: string): string {
  const [server, worker, client, nginx] = images;
  const services =
    flavour === 'dev'
      ? { install: server, migrate: server, server, worker, client, nginx }
      : { migrate: server, server, worker, client, nginx };
  return `services:\n${Object.entries(services)
    .map(([service, image]) => `  ${service}:\n    image: ${image}\n`)
    .join('')}`;
}

interface BuildStep {
  instruction: string;
  cached: boolean;
}

/**
 * The steps a build ran and whether each came from the cache, from the output of the legacy builder
 * ("Step 5/27 : RUN …" then "---> Using cache") or of BuildKit ("#8 [build 5/9] RUN …" then "#8 CACHED").
 */
function buildSteps(output: string): BuildStep[] {
  const steps: BuildStep[] = [];
  const lines = output.split('\n');
  lines.forEach((line, i) => {
    const legacy = /^Step \d+\/\d+ : (.*)$/.exec(line);
    if (legacy) {
      const next = lines.slice(i + 1, i + 3).join('\n');
      steps.push({ instruction: legacy[1]!, cached: next.includes('Using cache') || legacy[1]!.startsWith('FROM') });
    }
    const buildkit = /^#(\d+) \[[^\]]+\] (.*)$/.exec(line);
    if (buildkit && !steps.some((step) => step.instruction === buildkit[2])) {
      steps.push({ instruction: buildkit[2]!, cached: lines.includes(`#${buildkit[1]} CACHED`) });
    }
  });
  return steps;
}

/** Each image's size, its base image's, what our layers add, and our biggest layers. */
async function imageSizes(repo: string) {
  const dockerfiles: Record<string, string> = {
    server: 'server/Dockerfile',
    worker: 'worker/Dockerfile',
    client: 'client/Dockerfile',
    nginx: 'nginx/Dockerfile',
  };
  const sizes: Record<string, unknown> = {};
  for (const [service, dockerfile] of Object.entries(dockerfiles)) {
    const image = `fibstack-bench-${service}:devloop`;
    const baseImage = finalBase(readFileSync(join(repo, dockerfile), 'utf8'));
    const [size, baseSize] = await Promise.all(
      [image, baseImage].map(async (name) => Number(await docker(['image', 'inspect', '-f', '{{.Size}}', name]))),
    );
    // `docker history` lists newest first: the layers above the base are the first (count - base count).
    const history = async (name: string) =>
      (await docker(['history', '--no-trunc', '--human=false', '--format', '{{.Size}}\t{{.CreatedBy}}', name])).split('\n');
    const [ours, theirs] = await Promise.all([history(image), history(baseImage)]);
    const layers = ours
      .slice(0, ours.length - theirs.length)
      .map((line) => line.split('\t'))
      .map(([bytes, createdBy]) => ({
        bytes: Number(bytes),
        step: createdBy!
          .replace(/^\/bin\/sh -c (#\(nop\) )?/, '')
          .replace(/(dir|file):[0-9a-f]{64} /, '')
          .trim(),
      }))
      .filter((layer) => layer.bytes > 0)
      .sort((a, b) => b.bytes - a.bytes)
      .slice(0, 3)
      .map((layer) => `${round(layer.bytes / 1e6, 2)} MB ${layer.step.slice(0, 70)}`);
    sizes[service] = {
      mb: round(size! / 1e6, 1),
      base: baseImage,
      baseMb: round(baseSize! / 1e6, 1),
      addedMb: round((size! - baseSize!) / 1e6, 2),
      biggestLayers: layers,
    };
  }
  return sizes;
}

/** The image the last stage of a Dockerfile starts from, with its build arguments' defaults filled in. */
function finalBase(dockerfile: string): string {
  const args = Object.fromEntries([...dockerfile.matchAll(/^ARG (\w+)=(\S+)$/gm)].map((match): [string, string] => [match[1]!, match[2]!]));
  const from = [...dockerfile.matchAll(/^FROM (\S+)/gm)].at(-1)![1]!;
  return from.replace(/\$\{(\w+)\}/g, (_, name: string) => args[name] ?? '');
}

/**
 * Changes the API's not-found message in the copy and waits until the dev server serves it. On a
 * timeout it reports the last answer seen and the server's last log lines.
 */
async function serverEdit(repo: string, base: string, project: ComposeProject) {
  const file = join(repo, 'server/src/http/errors.ts');
  let lastAnswer = '';
  const message = async () => {
    const response = await fetch(`${base}/api/bench-probe`, { signal: AbortSignal.timeout(5_000) });
    lastAnswer = `${response.status} ${(await response.text()).slice(0, 120)}`;
    return lastAnswer;
  };
  const before = await message();
  const source = readFileSync(file, 'utf8');
  writeFileSync(file, source.replace('`no route for ${req.method}', '`no route (edited) for ${req.method}'));
  const served = await waitUntil(async () => (await message()).includes('no route (edited) for'), {
    timeoutMs: 60_000,
    intervalMs: 25,
    what: 'the edited server message',
  });
  if (served.ok) return { servedSeconds: seconds(served.ms) };
  const logs = await compose(project, ['logs', '--tail', '20', 'server']).catch((error: unknown) => String(error));
  return { servedSeconds: served.timedOut, answerBefore: before, lastAnswer, serverLog: logs.split('\n').slice(-20) };
}

/** Changes the header's brand text in the copy and waits until Chromium shows it, checking the page did not reload. */
async function clientEdit(repo: string, base: string) {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(base);
    await page.waitForSelector('.brand', { timeout: 60_000 });
    await page.evaluate(() => ((window as unknown as { benchMark: boolean }).benchMark = true));
    const file = join(repo, 'client/src/app/App.tsx');
    const started = performance.now();
    writeFileSync(file, readFileSync(file, 'utf8').replace(/(className="brand">\s*)fibstack/, '$1fibstack (edited)'));
    const shown = await page
      .waitForFunction(() => document.querySelector('.brand')?.textContent?.includes('edited'), undefined, {
        timeout: 30_000,
        polling: 'raf',
      })
      .then(() => performance.now() - started)
      .catch(() => undefined);
    const reloaded = !(await page.evaluate(() => (window as unknown as { benchMark?: boolean }).benchMark === true));
    return { shownSeconds: shown === undefined ? 'not shown within 30 s' : seconds(shown), fullPageReload: reloaded };
  } finally {
    await browser.close();
  }
}
