import type { Cluster, Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, inject } from 'vitest';
import { closeTestClient, createTestCluster, createTestRedis } from './clients.js';
import { cleanupKeys, testPrefix } from './keys.js';
import type {} from './provided.js';
import type { ClusterNodeAddress } from './types.js';

/**
 * One Redis deployment an integration suite runs against. `toString()` returns `name`, so
 * `describe.each(redisTargets())('core on %s', ...)` titles read "core on standalone" and
 * "core on cluster".
 */
export interface RedisTarget {
  /** `'standalone'` or `'cluster'`. */
  readonly name: 'standalone' | 'cluster';
  /** A new client for this target (`Redis` or `Cluster`); close it with {@link closeTestClient}. */
  connect(): Redis | Cluster;
  /** The server URL, for the standalone target. */
  readonly url?: string;
  /** The startup nodes, for the cluster target. */
  readonly startupNodes?: readonly ClusterNodeAddress[];
  /** `name`. */
  toString(): string;
}

/**
 * The targets every integration suite runs against: standalone, then cluster (left out with
 * `STREAMKIT_NO_CLUSTER=1`). Reads what the global setup provided, so call it in a test file
 * run with {@link streamkitVitestConfig} (at collection time is fine).
 *
 * Use `%s` in the title (it prints `toString()`, i.e. the name); `$name` works too but
 * prints the name quoted. `describe.for(redisTargets())` works the same way.
 *
 * @example
 * ```ts
 * describe.each(redisTargets())('streams on %s', (target) => {
 *   const ctx = useRedis(target);
 *   it('writes', async () => {
 *     await ctx.redis.xadd(ctx.key('orders'), '*', 'n', '1');
 *   });
 * });
 * ```
 */
export function redisTargets(): RedisTarget[] {
  const url = inject('redisUrl');
  const nodes = inject('redisClusterNodes');
  if (typeof url !== 'string' || !Array.isArray(nodes)) {
    throw new Error(
      'redisTargets(): no Redis was provided to this test run. Use `export default streamkitVitestConfig()` from ' +
        "'@streamkit/testing/vitest' in vitest.config.ts (it adds the '@streamkit/testing/global-setup' global setup).",
    );
  }
  const targets: RedisTarget[] = [
    { name: 'standalone', url, connect: () => createTestRedis(url), toString: () => 'standalone' },
  ];
  if (nodes.length > 0) {
    targets.push({
      name: 'cluster',
      startupNodes: nodes,
      connect: () => createTestCluster(nodes),
      toString: () => 'cluster',
    });
  }
  return targets;
}

/** Options for {@link useRedis}. */
export interface UseRedisOptions {
  /**
   * `'test'` (default): a new prefix before each test, and its keys removed after each test.
   * `'suite'`: one prefix for the whole `describe`, removed in `afterAll`, for suites whose
   * tests build on each other or seed data in `beforeAll`.
   */
  prefixScope?: 'test' | 'suite';
}

/** What {@link useRedis} returns: getters valid inside hooks and tests of the suite. */
export interface RedisHandle {
  /** The suite's client (one per `describe`). */
  readonly redis: Redis | Cluster;
  /** The current key prefix, `t:<random>:`. */
  readonly prefix: string;
  /** `prefix + parts.join(':')`. */
  key(...parts: string[]): string;
}

/**
 * Registers vitest hooks for a suite against `target`: a client in `beforeAll` (closed in
 * `afterAll`) and a fresh key prefix per test whose keys are removed afterwards (see
 * {@link UseRedisOptions.prefixScope}). Call it inside `describe`.
 */
export function useRedis(target: RedisTarget, options: UseRedisOptions = {}): RedisHandle {
  const scope = options.prefixScope ?? 'test';
  let client: Redis | Cluster | undefined;
  let prefix: string | undefined;

  beforeAll(async () => {
    client = target.connect();
    if (client.status === 'wait') await client.connect();
    if (scope === 'suite') prefix = testPrefix();
  });
  if (scope === 'test') {
    beforeEach(() => {
      prefix = testPrefix();
    });
    afterEach(async () => {
      if (client && prefix) await cleanupKeys(client, prefix);
      prefix = undefined;
    });
  }
  afterAll(async () => {
    try {
      if (client && prefix) await cleanupKeys(client, prefix);
    } finally {
      if (client) await closeTestClient(client);
      client = undefined;
    }
  });

  const handle: RedisHandle = {
    get redis() {
      if (!client) throw new Error(`useRedis(${target.name}): the client exists only inside the suite's hooks and tests`);
      return client;
    },
    get prefix() {
      if (!prefix) {
        throw new Error(
          `useRedis(${target.name}): no prefix here; with prefixScope 'test' it exists inside tests and beforeEach/afterEach`,
        );
      }
      return prefix;
    },
    key: (...parts) => handle.prefix + parts.join(':'),
  };
  return handle;
}
