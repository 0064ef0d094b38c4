import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { ClusterNodeAddress } from './types.js';

/**
 * Retries per command while the connection is down. ioredis reconnects after 50, 100, 150 ...
 * ms, so 10 retries ride out about 2.5 s of outage: enough for a `restart()` of a test server,
 * short enough that a test against a dead server fails quickly instead of hanging.
 */
const MAX_RETRIES_PER_REQUEST = 10;

/**
 * An ioredis client for a test server, with test-friendly defaults
 * (`maxRetriesPerRequest: 10`, `connectTimeout: 2000`); `options` override them.
 * Close it with {@link closeTestClient}.
 *
 * @example
 * ```ts
 * const redis = createTestRedis(server.url);
 * ```
 */
export function createTestRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: MAX_RETRIES_PER_REQUEST,
    connectTimeout: 2_000,
    ...options,
  });
}

/**
 * An ioredis `Cluster` client for a test cluster. Defaults: `enableReadyCheck: true` (commands
 * wait until the slot map is loaded), `scaleReads: 'master'` (reads see the latest write),
 * a `clusterRetryStrategy` that gives up after 20 attempts instead of retrying forever, and
 * retry delays sized for `--cluster-node-timeout 1000`, so commands sent during a failover
 * wait for the new master. `options` override them (`redisOptions` merged one level deep).
 * Close it with {@link closeTestClient}.
 *
 * @example
 * ```ts
 * const redis = createTestCluster(cluster.startupNodes);
 * ```
 */
export function createTestCluster(startupNodes: readonly ClusterNodeAddress[], options: ClusterOptions = {}): Cluster {
  const { redisOptions, ...rest } = options;
  return new Cluster(
    startupNodes.map(({ host, port }) => ({ host, port })),
    {
      enableReadyCheck: true,
      scaleReads: 'master',
      clusterRetryStrategy: (times) => (times > 20 ? null : Math.min(100 * times, 1_000)),
      retryDelayOnFailover: 300,
      retryDelayOnClusterDown: 300,
      retryDelayOnTryAgain: 100,
      maxRedirections: 16,
      slotsRefreshTimeout: 2_000,
      ...rest,
      redisOptions: {
        maxRetriesPerRequest: MAX_RETRIES_PER_REQUEST,
        connectTimeout: 2_000,
        ...redisOptions,
      },
    },
  );
}

/**
 * Closes a `Redis` or `Cluster` client for good: `QUIT` (letting queued replies arrive), and
 * `disconnect()` if that fails or takes longer than `timeoutMs` (a node is down, the client
 * never connected). Never throws; safe to call twice.
 */
export async function closeTestClient(client: Redis | Cluster, timeoutMs = 2_000): Promise<void> {
  if (client.status === 'end') return;
  if (client.status === 'wait') {
    client.disconnect();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.quit(),
      new Promise((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
  } catch {
    // already closing or closed: disconnect below
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}
