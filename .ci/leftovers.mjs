// What a CI run leaves behind on the machine. .ci/test-gate takes a snapshot before the suites run and
// checks after them; anything the run made that is still there fails the run, named:
//  - files in the run's temporary directory (the tsx compile cache and the gate's own directory aside);
//  - processes: any still carrying the run's id in its environment (FIBSTACK_CI_RUN, set by the gate and
//    inherited by everything it starts), and any process at all whose TMPDIR is the run's or whose working
//    directory is inside it: a daemon started that way outlives the run and breaks once the directory is
//    gone (a dockerd that inherited it once made every later `docker exec` on the machine fail);
//  - Docker containers, volumes and networks that did not exist before, and images: new ones, and new
//    names on old ones, except base images (official ones, or this machine's stand-ins for them);
//  - podman containers, pods and volumes that did not exist before (when podman is installed).
//   node .ci/leftovers.mjs snapshot FILE
//   node .ci/leftovers.mjs check FILE RUN_TMP RUN_ID
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';

const [command, file, runTmp, runId] = process.argv.slice(2);

/** The output lines of a command; undefined when it is not installed (podman before podman-setup). */
function lines(tool, args) {
  let output;
  try {
    output = execFileSync(tool, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  } catch (error) {
    if (error.code === 'ENOENT') return undefined;
    throw new Error(`${tool} ${args.join(' ')} failed: ${error.stderr || error.message}`);
  }
  return output.split('\n').filter(Boolean);
}

/** Each object as "id name", so that a leftover is named and an object recreated under a new id counts as new. */
function inventory() {
  const docker = {
    containers: lines('docker', ['ps', '-a', '--no-trunc', '--format', '{{.ID}} {{.Names}}']),
    images: lines('docker', ['images', '--no-trunc', '--format', '{{.ID}} {{.Repository}}:{{.Tag}}']),
    volumes: lines('docker', ['volume', 'ls', '--format', '{{.Name}} {{.Name}}']),
    networks: lines('docker', ['network', 'ls', '--no-trunc', '--format', '{{.ID}} {{.Name}}']),
  };
  if (Object.values(docker).includes(undefined)) throw new Error('docker is not installed: the suites need a Docker engine');
  const podmanInstalled = lines('sh', ['-c', 'command -v podman || true']).length > 0;
  const podman = podmanInstalled
    ? {
        'podman containers': lines('podman', ['ps', '-a', '--format', '{{.ID}} {{.Names}}']),
        'podman pods': lines('podman', ['pod', 'ps', '--format', '{{.ID}} {{.Name}}']),
        'podman volumes': lines('podman', ['volume', 'ls', '--format', '{{.Name}} {{.Name}}']),
      }
    : {};
  return { ...docker, ...podman };
}

/**
 * A base image a run may pull or provision and keep: an official one (`postgres:17-bookworm`), or this
 * machine's stand-in for one (`standin/postgres:17-…`, labelled standin=true). A new name on any other
 * image is the run's, even on a base image's id (`docker tag redis:7-bookworm mine:test`).
 */
function isBaseImage(id, reference) {
  if (reference === '<none>:<none>' || reference.startsWith('fibstack')) return false;
  if (/^[a-z0-9._-]+:[\w.-]+$/.test(reference)) return true;
  return (
    reference.startsWith('standin/') && lines('docker', ['image', 'inspect', '-f', '{{index .Config.Labels "standin"}}', id])[0] === 'true'
  );
}

/** Processes the run started that are still alive, and any that took the run's temporary directory with it. */
function leftoverProcesses() {
  // This check itself and the processes that run it (the gate, .ci/run, the shell) are not leftovers.
  const exempt = new Set();
  for (let pid = String(process.pid); pid !== '0' && !exempt.has(pid);) {
    exempt.add(pid);
    try {
      pid = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').at(-1).split(' ')[1];
    } catch {
      break;
    }
  }
  const inRunTmp = (path) => path === runTmp || path.startsWith(`${runTmp}/`);
  const found = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name) && !exempt.has(name))) {
    let environ;
    let cwd = '';
    let state;
    let cmdline;
    try {
      state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').at(-1).split(' ')[0];
      environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim().slice(0, 200);
      cwd = readlinkSync(`/proc/${pid}/cwd`);
    } catch {
      // gone meanwhile, or another user's process (its environment is not readable, and not ours)
    }
    if (!environ || state === 'Z') continue;
    // Rootless podman keeps one pause process per user for good, as an engine; it holds nothing of the run.
    if (cmdline === 'catatonit -P') continue;
    const reasons = [];
    if (environ.includes(`FIBSTACK_CI_RUN=${runId}`)) reasons.push('started by the run');
    const tmpdir = environ.find((entry) => entry.startsWith('TMPDIR='))?.slice('TMPDIR='.length);
    if (tmpdir && inRunTmp(tmpdir)) reasons.push(`TMPDIR is the run's (${tmpdir})`);
    if (cwd && inRunTmp(cwd)) reasons.push(`works in the run's temporary directory (${cwd})`);
    if (reasons.length) found.push(`pid ${pid} (${reasons.join('; ')}): ${cmdline}`);
  }
  return found;
}

function leftoverFiles() {
  return readdirSync(runTmp).filter((name) => name !== 'gate' && !/^tsx-\d+$/.test(name));
}

if (command === 'snapshot' && file) {
  writeFileSync(file, JSON.stringify(inventory()));
} else if (command === 'check' && file && runTmp && runId) {
  const before = JSON.parse(readFileSync(file, 'utf8'));
  const after = inventory();
  const problems = [];
  const indent = (line) => `  ${line}`;
  const files = leftoverFiles();
  if (files.length) problems.push(`files in the run's temporary directory ${runTmp}:`, ...files.slice(0, 50).map(indent));
  const processes = leftoverProcesses();
  if (processes.length) problems.push('processes:', ...processes.map(indent));
  for (const [kind, entries] of Object.entries(after)) {
    const known = new Set(before[kind] ?? []);
    let added = entries.filter((entry) => !known.has(entry));
    if (kind === 'images') {
      // An image is the run's when its id is new, or when it has a name it did not have (`docker tag`); an
      // image that existed and only lost its name to a rebuild (now <none>) is not.
      const split = (entry) => [entry.slice(0, entry.indexOf(' ')), entry.slice(entry.indexOf(' ') + 1)];
      const knownIds = new Set([...known].map((entry) => split(entry)[0]));
      added = added.filter((entry) => {
        const [id, reference] = split(entry);
        return (!knownIds.has(id) || reference !== '<none>:<none>') && !isBaseImage(id, reference);
      });
    }
    if (added.length) problems.push(`${kind} that did not exist before the run:`, ...added.map(indent));
  }
  if (problems.length) {
    console.error(`the run left these behind (each test must remove what it creates):\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
  console.log(`nothing left behind: no file, no process, and no ${Object.keys(after).join(', ')} of the run`);
} else {
  console.error('usage: leftovers.mjs snapshot FILE | leftovers.mjs check FILE RUN_TMP RUN_ID');
  process.exit(2);
}
