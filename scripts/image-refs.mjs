#!/usr/bin/env node
// The pushed images by digest: what `scripts/release-images push` records and every deploy runs.
//   scripts/image-refs.mjs get SERVICE [FILE]   print one service's reference (for shell deploy scripts)
//   scripts/image-refs.mjs list [FILE]          print "service reference" lines
// A missing service, a reference without a digest or an unknown service is an error (exit 1), so no deploy can
// fall back to a tag. Node scripts import readImageRefs() (and writeImageRefs()) instead.
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export const SERVICES = ['client', 'server', 'worker', 'nginx'];
export const DEFAULT_FILE = 'dist/images.json';
const PINNED = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*@sha256:[0-9a-f]{64}$/;

export class ImageRefsError extends Error {}

/** Checks a service → reference map: exactly the four services, each a repository with a sha256 digest and no tag. */
export function validateImageRefs(refs, source) {
  if (typeof refs !== 'object' || refs === null || Array.isArray(refs)) throw new ImageRefsError(`${source}: expected a JSON object`);
  const unknown = Object.keys(refs).filter((service) => !SERVICES.includes(service));
  if (unknown.length) throw new ImageRefsError(`${source}: unknown service(s) ${unknown.join(', ')}`);
  for (const service of SERVICES) {
    const ref = refs[service];
    if (ref === undefined) throw new ImageRefsError(`${source}: no image for ${service}`);
    if (typeof ref !== 'string' || !PINNED.test(ref)) {
      throw new ImageRefsError(
        `${source}: ${service} is ${JSON.stringify(ref)}, not registry/name@sha256:<64 hex> (a tag is not a release)`,
      );
    }
  }
  return refs;
}

/** The recorded references (dist/images.json by default), validated. */
export function readImageRefs(file = DEFAULT_FILE) {
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new ImageRefsError(`${file}: not found (scripts/release-images push writes it)`);
  }
  let refs;
  try {
    refs = JSON.parse(text);
  } catch {
    throw new ImageRefsError(`${file}: not JSON`);
  }
  return validateImageRefs(refs, file);
}

/** Writes `refs` (service → registry/name@sha256:…) to `file`, refusing anything readImageRefs would refuse. */
export function writeImageRefs(refs, file = DEFAULT_FILE) {
  writeFileSync(file, `${JSON.stringify(validateImageRefs(refs, file), null, 2)}\n`);
}

function main([command, ...args]) {
  switch (command) {
    case 'get': {
      const [service, file] = args;
      if (!SERVICES.includes(service)) throw new ImageRefsError(`usage: scripts/image-refs.mjs get ${SERVICES.join('|')} [FILE]`);
      console.log(readImageRefs(file)[service]);
      return;
    }
    case 'list': {
      const refs = readImageRefs(args[0]);
      for (const service of SERVICES) console.log(`${service} ${refs[service]}`);
      return;
    }
    default:
      throw new ImageRefsError('usage: scripts/image-refs.mjs get SERVICE [FILE] | list [FILE]');
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    main(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof ImageRefsError)) throw error;
    console.error(`image-refs: ${error.message}`);
    process.exit(1);
  }
}
