import { closeTestClient, createTestCluster, createTestRedis, redisTargets, useRedis, type RedisTarget } from '@streamkit/testing';
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createStreamClient } from './client.js';

/**
 * The reply shapes a user's client may hand over: RESP2 (arrays of pairs), RESP3 with ioredis's
 * default mapping (maps as flat lists), RESP3 with `replyMapping: 'resp3'` (maps as objects), and
 * `stringNumbers` (integer replies as strings).
 */
const shapes: { name: string; options: Pick<RedisOptions, 'protocol' | 'replyMapping' | 'stringNumbers'> }[] = [
  { name: 'RESP2', options: { protocol: 2 } },
  { name: 'RESP3', options: { protocol: 3 } },
  { name: "RESP3 with replyMapping 'resp3'", options: { protocol: 3, replyMapping: 'resp3' } },
  { name: 'stringNumbers', options: { stringNumbers: true } },
];

function connect(target: RedisTarget, options: RedisOptions): Redis | Cluster {
  return target.name === 'cluster' ? createTestCluster(target.startupNodes!, { redisOptions: options }) : createTestRedis(target.url!, options);
}

describe.each(redisTargets())('reply shapes on %s', (target) => {
  const ctx = useRedis(target);
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it.each(shapes)('reads, infos and the worker see the same data over $name', async ({ options }) => {
    const redis = connect(target, options);
    cleanup.push(() => closeTestClient(redis));
    const client = createStreamClient({ redis, prefix: ctx.prefix });
    cleanup.push(() => client.close());
    const orders = client.stream('orders', { schema: z.object({ n: z.number() }) });
    const ids = await orders.addMany([{ n: 1 }, { n: 2 }]);
    const entries = [
      { id: ids[0], data: { n: 1 } },
      { id: ids[1], data: { n: 2 } },
    ];

    expect(await orders.read({ after: '0' })).toEqual(entries);
    expect(await orders.read({ after: '0', blockMs: 50 })).toEqual(entries);
    expect(await client.readMany({ orders: '0', other: '0' })).toEqual({
      orders: entries.map(({ id, data }) => ({ id, data: { n: String(data.n) } })),
      other: [],
    });
    const controller = new AbortController();
    for await (const entry of orders.tail({ after: ids[0], signal: controller.signal })) {
      expect(entry).toEqual(entries[1]);
      controller.abort();
    }

    const info = await orders.info();
    expect(info).toMatchObject({ length: 2, lastGeneratedId: ids[1], firstEntry: entries[0], lastEntry: entries[1] });
    const group = orders.group('g');
    await group.create({ from: '0' });
    expect(await group.read({ consumer: 'c', count: 1 })).toEqual([entries[0]]);
    expect(await orders.groups()).toEqual([{ name: 'g', consumers: 1, pending: 1, lastDeliveredId: ids[0], entriesRead: 1, lag: 1 }]);
    expect((await orders.consumers('g')).map(({ name, pending }) => ({ name, pending }))).toEqual([{ name: 'c', pending: 1 }]);
    const full = await orders.info({ full: true });
    expect(full.entries).toEqual(entries);
    expect(full.groups).toMatchObject([{ name: 'g', pelCount: 1, pending: [{ id: ids[0], consumer: 'c' }], consumers: [{ name: 'c', pelCount: 1 }] }]);

    // The worker drains what "c" left pending, then reads the rest.
    const seen: number[] = [];
    const worker = group.consume((entry) => void seen.push(entry.data.n), { consumer: 'c', blockMs: 100 });
    cleanup.push(() => worker.stop());
    const acked = new Promise<void>((resolve) => worker.on('acked', () => worker.stats().acked === 2 && resolve()));
    await acked;
    await worker.stop();
    expect(seen).toEqual([1, 2]);
    expect((await group.pending()).count).toBe(0);

    // Counts are numbers and yes/no answers booleans, whatever the client makes of integer replies.
    expect(await orders.length()).toBe(2);
    expect(await orders.exists()).toBe(true);
    expect(await group.ack(ids[0]!)).toBe(0);
    expect(await group.createConsumer('d')).toBe(true);
    expect(await group.deleteConsumer('d')).toBe(0);
    expect(await orders.delete(ids[0]!)).toBe(1);
    expect(await orders.trim({ maxLen: 0 })).toBe(1);
    expect(await group.destroy()).toBe(true);
    expect(await orders.destroy()).toBe(true);
    expect(await orders.exists()).toBe(false);
  });
});
