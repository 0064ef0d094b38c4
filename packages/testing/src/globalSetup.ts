import type { TestProject } from 'vitest/node';
import { startCluster, type RedisCluster } from './cluster.js';
import { clusterDisabled, parseClusterNodesEnv } from './provided.js';
import { startRedis, type RedisServer } from './redisServer.js';
import type { ClusterNodeAddress } from './types.js';

/**
 * vitest `globalSetup` (wired in by {@link streamkitVitestConfig}): provides the Redis
 * deployments that {@link redisTargets} hands to the suites, and returns the teardown that
 * destroys whatever it started.
 *
 * - standalone: `REDIS_URL` when set, else a fixture server from `startRedis()`;
 * - cluster: `REDIS_CLUSTER_NODES` (comma-separated `host:port`) when set, else a fixture
 *   cluster from `startCluster()` (3 masters + 3 replicas); none with `STREAMKIT_NO_CLUSTER=1`,
 *   for quick local runs against standalone only.
 *
 * Servers given through the environment are only used, never flushed or stopped.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const fromEnvUrl = process.env.REDIS_URL?.trim() || undefined;
  const fromEnvNodes = process.env.REDIS_CLUSTER_NODES?.trim() || undefined;
  const wantCluster = !clusterDisabled();

  const [server, cluster] = await Promise.allSettled([
    fromEnvUrl ? Promise.resolve(undefined) : startRedis(),
    !wantCluster || fromEnvNodes ? Promise.resolve(undefined) : startCluster(),
  ]);
  const started: (RedisServer | RedisCluster)[] = [];
  if (server.status === 'fulfilled' && server.value) started.push(server.value);
  if (cluster.status === 'fulfilled' && cluster.value) started.push(cluster.value);
  const teardown = async (): Promise<void> => {
    await Promise.all(started.map((fixture) => fixture.destroy()));
  };
  if (server.status === 'rejected' || cluster.status === 'rejected') {
    await teardown();
    throw server.status === 'rejected' ? server.reason : (cluster as PromiseRejectedResult).reason;
  }

  const url = fromEnvUrl ?? server.value!.url;
  let nodes: ClusterNodeAddress[] = [];
  if (wantCluster) nodes = fromEnvNodes ? parseClusterNodesEnv(fromEnvNodes) : cluster.value!.startupNodes;

  project.provide('redisUrl', url);
  project.provide('redisClusterNodes', nodes);
  return teardown;
}
