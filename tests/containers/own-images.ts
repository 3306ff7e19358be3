import { execFileSync } from 'node:child_process';

/**
 * Global setup of the containers suite. The suite builds the project's images (`docker-compose build`:
 * fibstack-server:local and the others, the dev image, the dev container's); once it is over, the images
 * it made are removed again, so that a run leaves none behind (.ci/test-gate checks). Images that existed
 * before stay, and so do base images the suite pulled or provisioned (reused by the next build).
 */
function images(): Array<{ id: string; reference: string }> {
  return execFileSync('docker', ['images', '--no-trunc', '--format', '{{.ID}} {{.Repository}}:{{.Tag}}'], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map((line) => ({ id: line.slice(0, line.indexOf(' ')), reference: line.slice(line.indexOf(' ') + 1) }));
}

/** The project's own images are named fibstack-…; a rebuild leaves the image it replaced nameless. */
const isOwn = (reference: string) => /(^|\/)fibstack-/.test(reference) || reference === '<none>:<none>';

export default function setup(): () => void {
  const before = new Set(images().map((image) => image.id));
  return function removeImagesTheSuiteMade() {
    for (const { id, reference } of images().filter((image) => !before.has(image.id) && isOwn(image.reference))) {
      try {
        // By name, so that only that name goes; a nameless one by id.
        execFileSync('docker', ['rmi', reference === '<none>:<none>' ? id : reference], { stdio: 'pipe' });
      } catch (error) {
        // Still used by a container (one another job on the machine runs): the gate's check will name it.
        console.warn(`could not remove ${reference} (${id}): ${(error as { stderr?: Buffer }).stderr?.toString().trim()}`);
      }
    }
  };
}
