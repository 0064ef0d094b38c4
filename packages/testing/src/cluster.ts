import { execFile } from 'node:child_process';
import type { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { clusterSlots, parseClusterNodes, parseInfo, withNode, type ClusterNodesLine, type SlotRange } from './admin.js';
import { findRedisBinaries } from './binaries.js';
import { launchRedis, type RedisServer, type RedisServerProcess } from './redisServer.js';
import type { ClusterNodeAddress } from './types.js';

const run = promisify(execFile);

const TOTAL_SLOTS = 16384;

/** Options for {@link startCluster}. */
export interface StartClusterOptions {
  /** Number of masters; `redis-cli --cluster create` needs at least 3. Default 3. */
  masters?: number;
  /** Replicas per master. Default 1 (so 6 servers by default). */
  replicasPerMaster?: number;
  /** Extra `redis-server` arguments for every node, appended last. */
  args?: string[];
  /** How long to wait for the new cluster to become healthy, in ms. Default 30 000. */
  timeoutMs?: number;
}

/** Options for {@link RedisCluster.waitForHealthy} and {@link RedisCluster.failover}. */
export interface ClusterWaitOptions {
  /** Give up after this many ms. Default 30 000. */
  timeoutMs?: number;
}

/**
 * A real Redis Cluster of `redis-server` child processes on loopback ports
 * (`--cluster-node-timeout 1000`, no persistence).
 */
export interface RedisCluster {
  /** Every server of the cluster, masters and replicas, in start order; roles change on failover. */
  readonly nodes: readonly RedisServer[];
  /** Every node's address, for `new Cluster(startupNodes)` or {@link createTestCluster}. */
  readonly startupNodes: ClusterNodeAddress[];
  /** The servers that own slots now, as the cluster reports them (CLUSTER SLOTS). */
  masters(): Promise<RedisServer[]>;
  /** The server that owns `key`'s slot now (CLUSTER KEYSLOT + CLUSTER SLOTS). */
  masterForKey(key: string): Promise<RedisServer>;
  /**
   * A real failover: SIGKILLs `master`, waits until one of its replicas has taken over its
   * slots and every running node reports `cluster_state:ok` with the same slot owners, and
   * returns the promoted replica. `master.start()` brings the old node back; it rejoins as a
   * replica of the new master (await {@link RedisCluster.waitForHealthy} after it).
   *
   * @throws Error when `master` is not a running master of this cluster or has no running replica.
   */
  failover(master: RedisServer, options?: ClusterWaitOptions): Promise<RedisServer>;
  /**
   * Waits until every running node says `cluster_state:ok` with all 16384 slots served, all
   * running nodes agree on the slot owners, every owner is running, and every running node
   * is either such an owner or a replica with `master_link_status:up`.
   */
  waitForHealthy(options?: ClusterWaitOptions): Promise<void>;
  /** Kills every node and removes their folders (see {@link RedisServer.destroy}). Idempotent. */
  destroy(): Promise<void>;
}

class RedisClusterFixture implements RedisCluster {
  #destroyed = false;

  constructor(readonly nodes: readonly RedisServerProcess[]) {}

  get startupNodes(): ClusterNodeAddress[] {
    return this.nodes.map(({ host, port }) => ({ host, port }));
  }

  private running(): RedisServerProcess[] {
    const running = this.nodes.filter((node) => node.running);
    if (running.length === 0) throw new Error('no node of the cluster is running');
    return running;
  }

  private byPort(port: number): RedisServerProcess {
    const node = this.nodes.find((n) => n.port === port);
    if (!node) throw new Error(`the cluster reports a node on port ${port} that this fixture did not start`);
    return node;
  }

  /** Asks the first running node that answers. */
  private async ask<T>(fn: (redis: Redis) => Promise<T>): Promise<T> {
    let lastError: unknown;
    for (const node of this.running()) {
      try {
        return await withNode(node.port, fn);
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError;
  }

  async masters(): Promise<RedisServer[]> {
    const slots = await this.ask(clusterSlots);
    return [...new Set(slots.map((range) => range.port))].map((port) => this.byPort(port));
  }

  async masterForKey(key: string): Promise<RedisServer> {
    const { slot, slots } = await this.ask(async (redis) => ({
      slot: Number(await redis.call('CLUSTER', 'KEYSLOT', key)),
      slots: await clusterSlots(redis),
    }));
    const range = slots.find((r) => r.start <= slot && slot <= r.end);
    if (!range) throw new Error(`no master serves slot ${slot} of key "${key}"`);
    return this.byPort(range.port);
  }

  async failover(master: RedisServer, options: ClusterWaitOptions = {}): Promise<RedisServer> {
    const node = this.nodes.find((n) => n === master || n.port === master.port);
    if (!node) throw new Error(`${master.url} is not a node of this cluster`);
    if (!node.running) throw new Error(`${master.url} is not running`);
    const slots = await withNode(node.port, clusterSlots);
    const owned = slots.filter((range) => range.port === node.port);
    if (owned.length === 0) throw new Error(`${master.url} is not a master that owns slots`);
    // Each replica knows its own master for sure; a master's gossip view of its replicas can lag.
    const roles = await Promise.all(
      this.running().map(async (n) => ({ node: n, role: await withNode(n.port, async (redis) => selfRole(redis)) })),
    );
    const replicas = roles.filter(({ role }) => role === `replica of ${node.port}`).map(({ node: n }) => n);
    if (replicas.length === 0) throw new Error(`master ${master.url} has no running replica to fail over to`);

    await node.kill();
    await this.waitForHealthy(options);

    const firstSlot = owned[0]!.start;
    const after = await this.ask(clusterSlots);
    const newOwner = after.find((r) => r.start <= firstSlot && firstSlot <= r.end);
    const promoted = replicas.find((r) => r.port === newOwner?.port);
    if (!promoted) {
      throw new Error(`after killing ${master.url}, slot ${firstSlot} is served by port ${newOwner?.port}, not by one of its replicas`);
    }
    return promoted;
  }

  async waitForHealthy(options: ClusterWaitOptions = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    let problem: string | undefined;
    while (Date.now() < deadline) {
      try {
        problem = await this.healthProblem();
      } catch (error) {
        problem = error instanceof Error ? error.message : String(error);
      }
      if (problem === undefined) return;
      await sleep(50);
    }
    throw new Error(`the cluster is not healthy after ${timeoutMs} ms: ${problem}`);
  }

  /** `undefined` when healthy (see {@link RedisCluster.waitForHealthy}), else the first problem seen. */
  private async healthProblem(): Promise<string | undefined> {
    const running = this.running();
    const views = await Promise.all(
      running.map((node) =>
        withNode(node.port, async (redis) => ({
          node,
          info: parseInfo(String(await redis.call('CLUSTER', 'INFO'))),
          replication: parseInfo(await redis.info('replication')),
          slots: await clusterSlots(redis),
          roles: roleMap(parseClusterNodes(String(await redis.call('CLUSTER', 'NODES')))),
        })),
      ),
    );
    const signature = (slots: SlotRange[]): string => slots.map((r) => `${r.start}-${r.end}@${r.port}`).join(' ');
    const reference = signature(views[0]!.slots);
    const owners = new Set(views[0]!.slots.map((r) => r.port));
    for (const { node, info, replication, slots } of views) {
      const at = `node ${node.port}`;
      if (info.get('cluster_state') !== 'ok') return `${at}: cluster_state:${info.get('cluster_state')}`;
      if (info.get('cluster_slots_ok') !== String(TOTAL_SLOTS)) return `${at}: cluster_slots_ok:${info.get('cluster_slots_ok')}`;
      if (Number(info.get('cluster_known_nodes')) < this.nodes.length) {
        return `${at}: knows ${info.get('cluster_known_nodes')} of ${this.nodes.length} nodes`;
      }
      if (signature(slots) !== reference) return `${at} disagrees on slot owners: ${signature(slots)} vs ${reference}`;
      const role = replication.get('role');
      if (role === 'slave') {
        if (replication.get('master_link_status') !== 'up') return `${at}: replica link ${replication.get('master_link_status')}`;
      } else if (!owners.has(node.port)) {
        return `${at} is a master without slots`;
      }
    }
    // Every node's view of every running node matches what that node says of itself.
    for (const { node } of views) {
      const self = views.find((v) => v.node === node)!.roles.get(node.port);
      for (const view of views) {
        const seen = view.roles.get(node.port);
        if (seen !== self) return `node ${view.node.port} sees node ${node.port} as ${seen ?? 'unknown'}, it says ${self}`;
      }
    }
    for (const port of owners) {
      if (!this.byPort(port).running) return `slots are still owned by stopped node ${port}`;
    }
    return undefined;
  }

  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    // Throwaway data: SIGKILL is enough and skips the replicas' shutdown handshake.
    await Promise.all(this.nodes.map((node) => node.kill()));
    await Promise.all(this.nodes.map((node) => node.destroy()));
  }
}

/** A node's role as CLUSTER NODES lines describe it: `master`, `replica of <port>`, or `failing`. */
function roleMap(lines: ClusterNodesLine[]): Map<number, string> {
  const portOf = new Map(lines.map((line) => [line.id, line.port]));
  const roles = new Map<number, string>();
  for (const line of lines) {
    if (line.flags.some((flag) => flag.startsWith('fail') || flag === 'handshake' || flag === 'noaddr')) {
      roles.set(line.port, 'failing');
    } else if (line.masterId !== undefined) {
      roles.set(line.port, `replica of ${portOf.get(line.masterId) ?? line.masterId}`);
    } else {
      roles.set(line.port, 'master');
    }
  }
  return roles;
}

/** What the connected node says of itself (its `myself` line). */
async function selfRole(redis: Redis): Promise<string | undefined> {
  const lines = parseClusterNodes(String(await redis.call('CLUSTER', 'NODES')));
  const port = lines.find((line) => line.flags.includes('myself'))?.port;
  return port === undefined ? undefined : roleMap(lines).get(port);
}

/**
 * Starts a real Redis Cluster: `masters * (1 + replicasPerMaster)` servers with
 * `--cluster-enabled yes`, joined with `redis-cli --cluster create ... --cluster-yes`, and
 * resolves once {@link RedisCluster.waitForHealthy} passes (about 2-3 s for the default 3 + 3).
 *
 * @example
 * ```ts
 * const cluster = await startCluster();
 * const redis = createTestCluster(cluster.startupNodes);
 * await redis.set('k', 'v');
 * const promoted = await cluster.failover(await cluster.masterForKey('k'));
 * expect(await redis.get('k')).toBe('v');
 * await closeTestClient(redis);
 * await cluster.destroy();
 * ```
 */
export async function startCluster(options: StartClusterOptions = {}): Promise<RedisCluster> {
  const masters = options.masters ?? 3;
  const replicasPerMaster = options.replicasPerMaster ?? 1;
  if (!Number.isInteger(masters) || masters < 3) throw new Error(`a cluster needs at least 3 masters, got ${masters}`);
  if (!Number.isInteger(replicasPerMaster) || replicasPerMaster < 0) {
    throw new Error(`replicasPerMaster must be a whole number >= 0, got ${replicasPerMaster}`);
  }
  const { cli } = findRedisBinaries();
  const args = [
    '--cluster-enabled', 'yes',
    '--cluster-config-file', 'nodes.conf',
    '--cluster-node-timeout', '1000',
    '--appendonly', 'no',
    ...(options.args ?? []),
  ];
  const started = await Promise.allSettled(
    Array.from({ length: masters * (1 + replicasPerMaster) }, () => launchRedis({ clusterBus: true, args })),
  );
  const nodes = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const cluster = new RedisClusterFixture(nodes);
  try {
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
    try {
      await run(
        cli,
        [
          '--cluster', 'create',
          ...nodes.map((node) => `${node.host}:${node.port}`),
          '--cluster-replicas', String(replicasPerMaster),
          '--cluster-yes',
        ],
        { timeout: 60_000 },
      );
    } catch (error) {
      const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
      throw new Error(`redis-cli --cluster create failed:\n${stdout}${stderr}`, { cause: error });
    }
    await cluster.waitForHealthy(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs });
    return cluster;
  } catch (error) {
    await cluster.destroy();
    throw error;
  }
}
