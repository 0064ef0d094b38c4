import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { Cluster, Redis } from 'ioredis';

/**
 * A fresh key prefix for one test: `t:<8 random hex>:`. Use it for every key the test writes,
 * and remove them afterwards with {@link cleanupKeys}.
 */
export function testPrefix(): string {
  return `t:${randomBytes(4).toString('hex')}:`;
}

/** Escapes glob characters so `MATCH` treats the prefix literally. */
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

function isCluster(client: Redis | Cluster): client is Cluster {
  return client.isCluster;
}

async function ready(client: Redis | Cluster): Promise<void> {
  if (client.status === 'ready') return;
  if (client.status === 'wait') {
    await client.connect();
    return;
  }
  if (client.status === 'end' || client.status === 'close') throw new Error('cleanupKeys: the client is closed');
  await once(client, 'ready');
}

/**
 * Removes every key that starts with `prefix` (SCAN `prefix*`, then UNLINK) and returns how
 * many it removed. On a `Cluster` it scans every master (`cluster.nodes('master')`) and unlinks
 * key by key, since the keys live in different slots. It touches nothing else: no FLUSHALL.
 * Pass a client without ioredis `keyPrefix`.
 *
 * @throws Error for an empty prefix, which would match every key.
 */
export async function cleanupKeys(redis: Redis | Cluster, prefix: string): Promise<number> {
  if (prefix.length === 0) throw new Error('cleanupKeys: refusing an empty prefix, which would remove every key');
  if (redis.options.keyPrefix) {
    throw new Error(`cleanupKeys: the client has keyPrefix "${redis.options.keyPrefix}"; pass a client without one`);
  }
  await ready(redis);
  const pattern = `${globEscape(prefix)}*`;
  if (!isCluster(redis)) {
    let removed = 0;
    for await (const keys of scanKeys(redis, pattern)) removed += await redis.unlink(...keys);
    return removed;
  }
  // Scan the masters of the current topology, not of a slot map from before a failover.
  await new Promise<void>((resolve, reject) => redis.refreshSlotsCache((error) => (error ? reject(error) : resolve())));
  const counts = await Promise.all(
    redis.nodes('master').map(async (node) => {
      let removed = 0;
      for await (const keys of scanKeys(node, pattern)) {
        // Through the Cluster client, so each UNLINK goes to the slot's current owner.
        const results = await Promise.all(keys.map((key) => redis.unlink(key)));
        removed += results.reduce((sum, n) => sum + n, 0);
      }
      return removed;
    }),
  );
  return counts.reduce((sum, n) => sum + n, 0);
}

async function* scanKeys(node: Redis, pattern: string): AsyncGenerator<string[]> {
  let cursor = '0';
  do {
    const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) yield keys;
  } while (cursor !== '0');
}
