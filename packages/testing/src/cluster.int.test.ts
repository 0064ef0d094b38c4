import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeTestClient, createTestCluster } from './clients.js';
import { startCluster, type RedisCluster } from './cluster.js';
import { cleanupKeys, testPrefix } from './keys.js';

describe('startCluster', () => {
  let cluster: RedisCluster;
  let redis: Cluster;

  beforeAll(async () => {
    cluster = await startCluster();
    redis = createTestCluster(cluster.startupNodes);
  });
  afterAll(async () => {
    if (redis) await closeTestClient(redis);
    await cluster?.destroy();
  });

  it('starts 3 masters with one replica each', async () => {
    expect(cluster.nodes).toHaveLength(6);
    expect(await cluster.masters()).toHaveLength(3);
    const key = 'some-key';
    await redis.set(key, 'v');
    const owner = await cluster.masterForKey(key);
    expect(owner.running).toBe(true);
    expect((await cluster.masters()).map((m) => m.port)).toContain(owner.port);
  });

  it('fails over the master that owns a key to its replica, keeping the key', async () => {
    const key = 'failover-key';
    await redis.set(key, 'kept');
    await redis.wait(1, 2_000); // the replica has the write before its master dies
    const old = await cluster.masterForKey(key);

    const promoted = await cluster.failover(old);

    expect(old.running).toBe(false);
    expect(promoted.port).not.toBe(old.port);
    expect((await cluster.masterForKey(key)).port).toBe(promoted.port);
    expect(await redis.get(key)).toBe('kept');

    // The killed master comes back as a replica of the promoted one.
    await old.start();
    await cluster.waitForHealthy();
    const masters = (await cluster.masters()).map((m) => m.port);
    expect(masters).toHaveLength(3);
    expect(masters).not.toContain(old.port);
    expect(masters).toContain(promoted.port);

    // cleanupKeys follows the new topology.
    const prefix = testPrefix();
    await Promise.all(Array.from({ length: 20 }, (_, i) => redis.set(`${prefix}${i}`, '1')));
    expect(await cleanupKeys(redis, prefix)).toBe(20);
  });
});
