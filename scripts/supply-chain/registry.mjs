// A small client for the OCI distribution API: what signing and verifying an image need (manifests and
// blobs by digest or tag), with the registry's own authentication (anonymous, Basic, or a Bearer token
// from its realm). Credentials: REGISTRY_USERNAME/REGISTRY_PASSWORD, else those `docker login` stored.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
];

export const sha256 = (bytes) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

export class RegistryError extends Error {}

/**
 * registry/name@sha256:… → its parts. A name without a registry host is Docker Hub's; its API host is the
 * index the Docker engine is configured with (`docker info`), so none is written here.
 */
export function parseReference(reference) {
  const match = /^(?<name>[^@\s]+)@(?<digest>sha256:[0-9a-f]{64})$/.exec(reference);
  if (!match) throw new RegistryError(`${reference}: not name@sha256:<64 hex>`);
  const { name, digest } = match.groups;
  return { ...parseName(name), name, digest };
}

/** An image name without tag or digest (registry/path, or a Docker Hub path) → its registry host and repository. */
export function parseName(name) {
  const [first, ...rest] = name.split('/');
  if (rest.length && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    return { registry: first, repository: rest.join('/') };
  }
  const index = execFileSync('docker', ['info', '--format', '{{.IndexServerAddress}}'], { encoding: 'utf8' }).trim();
  return { registry: new URL(index).host, repository: rest.length ? name : `library/${name}` };
}

/** An Amazon ECR registry's host: <account>.dkr.ecr.<region>.amazonaws.com. */
const ECR_HOST = /^\d{12}\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com$/;
/** ECR tokens last 12 hours: one per registry and process. */
const ecrTokens = new Map();

/**
 * Credentials for `registry`: the environment's, else the `auths` entry `docker login` wrote, else for ECR a
 * token from the aws CLI (the job's AWS credentials), so no job needs `docker login` and its file of secrets.
 */
function credentialsFor(registry) {
  if (process.env.REGISTRY_USERNAME) return { username: process.env.REGISTRY_USERNAME, password: process.env.REGISTRY_PASSWORD ?? '' };
  try {
    const config = JSON.parse(readFileSync(join(process.env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json'), 'utf8'));
    const entry = Object.entries(config.auths ?? {}).find(([host]) => host.replace(/^https?:\/\//, '').split('/')[0] === registry)?.[1];
    if (entry?.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      return { username: decoded.slice(0, decoded.indexOf(':')), password: decoded.slice(decoded.indexOf(':') + 1) };
    }
  } catch {
    // no Docker configuration
  }
  const ecr = ECR_HOST.exec(registry);
  if (!ecr) return undefined;
  if (!ecrTokens.has(registry))
    ecrTokens.set(registry, execFileSync('aws', ['ecr', 'get-login-password', '--region', ecr[1]], { encoding: 'utf8' }).trim());
  return { username: 'AWS', password: ecrTokens.get(registry) };
}

const basic = ({ username, password }) => `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

export class Registry {
  #base;
  #repository;
  #registry;
  #authorization;

  constructor(registry, repository) {
    const host = new URL(`http://${registry}`).hostname;
    // A registry on this machine speaks plain HTTP (as Docker allows for 127.0.0.0/8); every other one TLS.
    const loopback = host === 'localhost' || host.startsWith('127.') || host === '[::1]';
    this.#base = `${loopback ? 'http' : 'https'}://${registry}/v2/${repository}`;
    this.#repository = repository;
    this.#registry = registry;
  }

  /** One request, authenticating once when challenged (Basic with the credentials, or their Bearer token). */
  async #request(path, init = {}) {
    const send = () =>
      fetch(`${this.#base}${path}`, {
        ...init,
        headers: { ...init.headers, ...(this.#authorization && { Authorization: this.#authorization }) },
      });
    let response = await send();
    if (response.status !== 401 || this.#authorization) return response;
    const challenge = response.headers.get('www-authenticate') ?? '';
    const credentials = credentialsFor(this.#registry);
    if (/^basic/i.test(challenge)) {
      if (!credentials)
        throw new RegistryError(`${this.#registry}: needs credentials (docker login, or REGISTRY_USERNAME/REGISTRY_PASSWORD)`);
      this.#authorization = basic(credentials);
    } else {
      const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map(([, key, value]) => [key, value]));
      if (!params.realm) throw new RegistryError(`${this.#registry}: unexpected authentication challenge ${challenge}`);
      const url = new URL(params.realm);
      if (params.service) url.searchParams.set('service', params.service);
      url.searchParams.set('scope', `repository:${this.#repository}:pull,push`);
      const tokenResponse = await fetch(url, { headers: credentials ? { Authorization: basic(credentials) } : {} });
      if (!tokenResponse.ok) throw new RegistryError(`${this.#registry}: token request answered ${tokenResponse.status}`);
      const token = await tokenResponse.json();
      this.#authorization = `Bearer ${token.token ?? token.access_token}`;
    }
    response = await send();
    return response;
  }

  /** The manifest at `reference` (a digest or a tag), with its digest; undefined when there is none. */
  async manifest(reference) {
    const response = await this.#request(`/manifests/${reference}`, { headers: { Accept: MANIFEST_TYPES.join(', ') } });
    if (response.status === 404) return undefined;
    if (!response.ok) throw new RegistryError(`GET manifest ${reference}: ${response.status}`);
    const bytes = Buffer.from(await response.arrayBuffer());
    const digest = sha256(bytes);
    if (reference.startsWith('sha256:') && digest !== reference) throw new RegistryError(`manifest ${reference} came back as ${digest}`);
    return { digest, mediaType: response.headers.get('content-type'), bytes, body: JSON.parse(bytes.toString('utf8')) };
  }

  /** A blob's bytes, checked against its digest. */
  async blob(digest) {
    const response = await this.#request(`/blobs/${digest}`);
    if (!response.ok) throw new RegistryError(`GET blob ${digest}: ${response.status}`);
    const bytes = Buffer.from(await response.arrayBuffer());
    if (sha256(bytes) !== digest) throw new RegistryError(`blob ${digest} does not match its digest`);
    return bytes;
  }

  /** Uploads `bytes` (monolithic: one POST, one PUT) unless the registry has them; returns the digest. */
  async putBlob(bytes) {
    const digest = sha256(bytes);
    if ((await this.#request(`/blobs/${digest}`, { method: 'HEAD' })).ok) return digest;
    const started = await this.#request('/blobs/uploads/', { method: 'POST' });
    if (started.status !== 202) throw new RegistryError(`POST blob upload: ${started.status}`);
    const location = new URL(started.headers.get('location'), this.#base);
    location.searchParams.set('digest', digest);
    const put = await fetch(location, {
      method: 'PUT',
      body: bytes,
      headers: { 'Content-Type': 'application/octet-stream', ...(this.#authorization && { Authorization: this.#authorization }) },
    });
    if (put.status !== 201) throw new RegistryError(`PUT blob ${digest}: ${put.status}`);
    return digest;
  }

  /**
   * Puts a manifest under `reference` (a tag or its digest); returns its digest, and whether the registry
   * indexed its subject (the referrers API answers OCI-Subject).
   */
  async putManifest(reference, manifest) {
    return this.putManifestBytes(reference, Buffer.from(JSON.stringify(manifest)), manifest.mediaType);
  }

  /** Puts a manifest's exact bytes (its digest is theirs) under `reference`, as putManifest. */
  async putManifestBytes(reference, bytes, mediaType) {
    const response = await this.#request(`/manifests/${reference}`, {
      method: 'PUT',
      body: bytes,
      headers: { 'Content-Type': mediaType },
    });
    if (response.status !== 201) throw new RegistryError(`PUT manifest ${reference}: ${response.status} ${await response.text()}`);
    const digest = sha256(bytes);
    // A registry that rewrote the manifest (another format, other whitespace) stores it under another digest.
    const stored = response.headers.get('docker-content-digest');
    if (stored && stored !== digest) throw new RegistryError(`PUT manifest ${reference}: stored as ${stored}, not ${digest}`);
    return { digest, subjectAccepted: response.headers.has('oci-subject') };
  }
}
