import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { hasRedisServer, redisInstallHelp, waitForPing } from './redis.js';

/** One redis-server of the cluster. */
export interface RedisClusterNode {
  port: number;
  process: ChildProcess;
}

/** A node as the cluster sees it (CLUSTER NODES). */
export interface ClusterNodeState {
  id: string;
  port: number;
  role: 'master' | 'replica';
  /** The master's id, for a replica. */
  masterId?: string;
  /** Marked failed by the others (a dead master, before or after its replica took over). */
  failed: boolean;
  /** Slot ranges served, for a master: [first, last]. */
  slots: Array<[number, number]>;
}

export interface NativeRedisCluster {
  /** A node to start from, with the password: `redis://:<password>@127.0.0.1:<port>`; the client finds the rest. */
  url: string;
  password: string;
  nodes: RedisClusterNode[];
  /** Every node as a live node of the cluster sees them now. */
  state(): Promise<ClusterNodeState[]>;
  /** The node that serves `key` now (the master of its hash slot). */
  masterOf(key: string): Promise<RedisClusterNode>;
  /**
   * Kills the master that serves `key` (SIGKILL: no goodbye to the cluster) and waits until one of its
   * replicas serves that key's slot instead; resolves to the node killed and the one promoted.
   */
  failOver(key: string, timeoutMs?: number): Promise<{ killed: RedisClusterNode; promoted: RedisClusterNode }>;
  stop(): Promise<void>;
}

export interface NativeRedisClusterOptions {
  /** Each node keeps its append-only file and its cluster state (nodes.conf) in a folder of its own here. */
  dataDir: string;
  masters?: number;
  replicasPerMaster?: number;
  /**
   * How long a node may be unreachable before the others count it failed and its replica takes over
   * (cluster-node-timeout). Short here: on loopback a silent node is a dead one.
   */
  nodeTimeoutMs?: number;
  onLog?: (line: string) => void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** redis-cli against one node, the password from the environment (never an argument `ps` shows); resolves to its output. */
function cli(port: number, password: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], {
      env: { ...process.env, REDISCLI_AUTH: password },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(output) : reject(new Error(`redis-cli ${args.join(' ')} failed (${code}):\n${output}`)),
    );
  });
}

/** Parses CLUSTER NODES: `<id> <ip:port@bus> <flags> <master|-> <ping> <pong> <epoch> <link> <slot>…`. */
function parseNodes(text: string): ClusterNodeState[] {
  return text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [id, address, flags, master, , , , , ...slots] = line.trim().split(' ');
      const flagList = flags!.split(',');
      return {
        id: id!,
        port: Number(/:(\d+)@/.exec(address!)![1]),
        role: flagList.includes('master') ? ('master' as const) : ('replica' as const),
        ...(master !== '-' && { masterId: master }),
        failed: flagList.includes('fail'),
        // Ranges `a-b` or single slots; `[…]` entries are slots being migrated, which none is here.
        slots: slots
          .filter((slot) => !slot.startsWith('['))
          .map((slot) => {
            const [first, last] = slot.split('-').map(Number);
            return [first!, last ?? first!] as [number, number];
          }),
      };
    });
}

/**
 * A Redis Cluster of redis-server processes on loopback (cluster mode, each master with its replicas),
 * with a password of its own, as ElastiCache runs one in cluster mode: for the tests and the benchmark.
 * Each node listens on a free port and talks to the others on a free bus port.
 */
export async function startRedisCluster(options: NativeRedisClusterOptions): Promise<NativeRedisCluster> {
  if (!hasRedisServer()) throw new Error(`A Redis Cluster needs redis-server and redis-cli on PATH. ${redisInstallHelp()}`);
  const masters = options.masters ?? 3;
  const replicasPerMaster = options.replicasPerMaster ?? 1;
  const password = randomBytes(24).toString('hex');
  const hash = createHash('sha256').update(password).digest('hex');
  const nodes: RedisClusterNode[] = [];
  const stop = async () => {
    await Promise.all(
      nodes.map(
        ({ process: child }) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    );
  };
  try {
    for (let i = 0; i < masters * (1 + replicasPerMaster); i++) {
      const port = await freePort();
      const dir = join(options.dataDir, `node-${i}`);
      await mkdir(dir, { recursive: true });
      // The password's hash for clients; the password itself for replicas, which must log in to their
      // master (masterauth): in a file only this user reads, never in the arguments.
      const config = [
        `user default reset on #${hash} ~* &* +@all`,
        `masterauth ${password}`,
        `port ${port}`,
        `cluster-port ${await freePort()}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        'cluster-enabled yes',
        'cluster-config-file nodes.conf',
        `cluster-node-timeout ${options.nodeTimeoutMs ?? 1_000}`,
        // A replica takes over however long ago it last heard its master: on one machine under load a
        // replica may lag, and a cluster that stays down is no test of a failover (ElastiCache decides alone).
        'cluster-replica-validity-factor 0',
        // As production: AOF on, never evict a key (BullMQ), no RDB snapshots.
        'appendonly yes',
        'maxmemory-policy noeviction',
        'save ""',
      ];
      await writeFile(join(dir, 'redis.conf'), `${config.join('\n')}\n`, { mode: 0o600 });
      const child = spawn('redis-server', [join(dir, 'redis.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.on('data', (chunk: Buffer) => options.onLog?.(chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => options.onLog?.(chunk.toString()));
      nodes.push({ port, process: child });
      await waitForPing(port, password, 10_000, () => child.exitCode !== null || child.signalCode !== null);
    }
    await cli(nodes[0]!.port, password, [
      '--cluster',
      'create',
      ...nodes.map(({ port }) => `127.0.0.1:${port}`),
      '--cluster-replicas',
      String(replicasPerMaster),
      '--cluster-yes',
    ]);
    // Every node must see the whole cluster up before a client asks any of them for the slots, and every
    // replica must hold its master's data before the master may fail.
    for (const { port } of nodes) {
      for (let answer = ''; !answer.includes('cluster_state:ok'); await sleep(100)) answer = await cli(port, password, ['cluster', 'info']);
      for (let answer = ''; !/role:master|master_link_status:up/.test(answer); await sleep(100))
        answer = await cli(port, password, ['info', 'replication']);
    }
  } catch (error) {
    await stop();
    throw error;
  }

  const alive = () => nodes.filter(({ process: child }) => child.exitCode === null && child.signalCode === null && !child.killed);
  const state = async () => parseNodes(await cli(alive()[0]!.port, password, ['cluster', 'nodes']));
  const nodeOn = (port: number) => nodes.find((node) => node.port === port)!;
  const slotOf = async (key: string) => Number((await cli(alive()[0]!.port, password, ['cluster', 'keyslot', key])).trim());
  const serving = (states: ClusterNodeState[], slot: number) =>
    states.find((node) => node.role === 'master' && !node.failed && node.slots.some(([first, last]) => slot >= first && slot <= last));
  const masterOf = async (key: string) => {
    const master = serving(await state(), await slotOf(key));
    if (!master) throw new Error(`no master serves ${key} now`);
    return nodeOn(master.port);
  };
  return {
    url: `redis://:${password}@127.0.0.1:${nodes[0]!.port}`,
    password,
    nodes,
    state,
    masterOf,
    async failOver(key, timeoutMs = 30_000) {
      const slot = await slotOf(key);
      const killed = await masterOf(key);
      killed.process.kill('SIGKILL');
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const now = serving(await state(), slot);
        if (now && now.port !== killed.port) return { killed, promoted: nodeOn(now.port) };
        if (Date.now() > deadline) throw new Error(`no replica took over slot ${slot} within ${timeoutMs} ms`);
        await sleep(100);
      }
    },
    stop,
  };
}
