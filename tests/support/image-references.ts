import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const read = (file: string) => readFileSync(join(REPO, file), 'utf8');

/** name:tag@sha256:<64 hex>: the tag a person reads, the digest that runs. */
export const PINNED = /^(?<repository>[a-z0-9][a-z0-9._/-]*):(?<tag>[\w][\w.-]*)@sha256:[0-9a-f]{64}$/;

/** base-images.json: every image the repository pulls, by role (node, nginx, postgres …). */
export function baseImages(): Record<string, string> {
  const { $comment: _comment, ...images } = JSON.parse(read('base-images.json')) as Record<string, string>;
  return images;
}

/** Every tracked file whose name makes it a Dockerfile or a compose file. */
export function trackedFiles(pattern: RegExp): string[] {
  return execFileSync('git', ['ls-files'], { cwd: REPO, encoding: 'utf8' })
    .split('\n')
    .filter((file) => pattern.test(file));
}
export const DOCKERFILE = /(^|\/)(Dockerfile[^/]*|[^/]*\.Dockerfile|Containerfile)$/;
export const COMPOSE_FILE = /(^|\/)(docker-)?compose[^/]*\.ya?ml$/;

/** `${NAME:-default}` as compose and Dockerfiles read it when NAME is unset: the default. */
const withDefaults = (value: string, args: Record<string, string> = {}) =>
  value.replace(/\$\{?([A-Za-z_]\w*)(?::-([^}]*))?\}?/g, (_, name: string, fallback?: string) => args[name] ?? fallback ?? '');

/** The image each FROM of a Dockerfile names (build arguments at their defaults), stages excluded. */
export function dockerfileBases(text: string): string[] {
  const args: Record<string, string> = {};
  const stages = new Set<string>();
  const bases: string[] = [];
  for (const line of text.split('\n')) {
    const arg = /^ARG\s+([A-Za-z_]\w*)=(\S+)/i.exec(line);
    if (arg && !bases.length) args[arg[1]!] = arg[2]!;
    const from = /^FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (!from) continue;
    const image = withDefaults(from[1]!, args);
    if (!stages.has(image.toLowerCase()) && image !== 'scratch') bases.push(image);
    if (from[2]) stages.add(from[2].toLowerCase());
  }
  return bases;
}

/** Every `image:` of a compose file and every build argument it passes, with `${NAME:-default}` at its default. */
export function composeReferences(file: string): { images: string[]; buildArgs: string[] } {
  const compose = parse(read(file)) as {
    services: Record<string, { image?: string; build?: { args?: Record<string, string> } }>;
  };
  const services = Object.values(compose.services);
  return {
    images: services.flatMap((service) => (service.image ? [withDefaults(service.image)] : [])),
    buildArgs: services.flatMap((service) => Object.values(service.build?.args ?? {}).map((value) => withDefaults(String(value)))),
  };
}

/** Every container image in the raw manifests: k8s/, its restore Job and the kustomize components and overlays. */
export function manifestImages(): Array<{ file: string; image: string }> {
  const files = trackedFiles(/^(k8s|kustomize)\/.*\.ya?ml$/);
  return files.flatMap((file) =>
    parseAllDocuments(read(file)).flatMap((document) => {
      const found: string[] = [];
      const visit = (node: unknown, key?: string) => {
        if (Array.isArray(node)) node.forEach((item) => visit(item, key));
        else if (node && typeof node === 'object') {
          for (const [child, value] of Object.entries(node)) {
            if ((key === 'containers' || key === 'initContainers') && child === 'image' && typeof value === 'string') found.push(value);
            else visit(value, child);
          }
        }
      };
      visit(document.toJS());
      return found.map((image) => ({ file, image }));
    }),
  );
}
