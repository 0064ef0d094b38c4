import { createStreamClient, DecodeError, keySlot, ValidationError, type StreamClient } from '@streamkit/core';
import { redisTargets, useRedis } from '@streamkit/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConcurrencyError, createEventStore, partitionOf, type EventStore } from './index.js';

const events = {
  OrderPlaced: z.object({ order_id: z.string(), amount: z.number().positive() }),
  OrderPaid: z.object({ order_id: z.string() }),
  Counted: z.object({ n: z.number().int() }),
};
type Events = typeof events;

describe.each(redisTargets())('event store on %s', (target) => {
  const ctx = useRedis(target);
  let client: StreamClient;
  let store: EventStore<Events>;

  beforeEach(() => {
    client = createStreamClient({ redis: ctx.redis, prefix: ctx.prefix });
    store = createEventStore({ client, events, partitions: 4 });
  });
  afterEach(async () => {
    await client.close();
  });

  /** Every key under the test prefix, read straight from Redis (all masters on a cluster). */
  async function keysInRedis(): Promise<string[]> {
    const redis = ctx.redis;
    const nodes = 'nodes' in redis && typeof redis.nodes === 'function' && target.name === 'cluster' ? (redis as any).nodes('master') : [redis];
    const all: string[] = [];
    for (const node of nodes) all.push(...(await node.keys(`${ctx.prefix}*`)));
    return all.sort();
  }

  it('appends, reads back with versions and positions, and keeps every key of a stream in one slot', async () => {
    const first = await store.appendToStream(
      'order-1',
      [
        { type: 'OrderPlaced', data: { order_id: 'order-1', amount: 42 }, metadata: { user: 'ann' } },
        { type: 'OrderPaid', data: { order_id: 'order-1' } },
      ],
      { expectedVersion: 'no_stream' },
    );
    expect(first.nextExpectedVersion).toBe(1);
    expect(first.createdNewStream).toBe(true);
    expect(first.positions).toHaveLength(2);

    const second = await store.appendToStream('order-1', [{ type: 'OrderPaid', data: { order_id: 'order-1' } }], { expectedVersion: 1 });
    expect(second).toMatchObject({ nextExpectedVersion: 2, createdNewStream: false });

    const read = await store.readStream('order-1');
    expect(read.map((e) => [e.type, e.version, e.streamName])).toEqual([
      ['OrderPlaced', 0, 'order-1'],
      ['OrderPaid', 1, 'order-1'],
      ['OrderPaid', 2, 'order-1'],
    ]);
    expect(read[0]!.data).toEqual({ order_id: 'order-1', amount: 42 });
    expect(read[0]!.metadata).toEqual({ user: 'ann' });
    expect(read.map((e) => e.position)).toEqual([...first.positions, ...second.positions]);
    expect(read[0]!.recordedAt).toBeInstanceOf(Date);
    expect(await store.streamVersion('order-1')).toBe(2);
    expect(await store.streamExists('order-1')).toBe(true);
    expect(await store.streamExists('order-2')).toBe(false);
    expect(await store.streamVersion('order-2')).toBe(-1);

    // ranges and direction
    expect((await store.readStream('order-1', { from: 1 })).map((e) => e.version)).toEqual([1, 2]);
    expect((await store.readStream('order-1', { from: 0, to: 1 })).map((e) => e.version)).toEqual([0, 1]);
    expect((await store.readStream('order-1', { maxCount: 2 })).map((e) => e.version)).toEqual([0, 1]);
    expect((await store.readStream('order-1', { direction: 'backward' })).map((e) => e.version)).toEqual([2, 1, 0]);
    expect((await store.readStream('order-1', { direction: 'backward', from: 1, maxCount: 1 })).map((e) => e.version)).toEqual([1]);
    expect(await store.readStream('nothing-here')).toEqual([]);

    // Key layout: one hash tag per partition, the stream's keys and its log partition together.
    // (The idempotency hash appears once an append gives its own event ids.)
    await store.appendToStream('order-1', [{ id: 'client-id-1', type: 'OrderPaid', data: { order_id: 'order-1' } }]);
    const keys = await keysInRedis();
    const partition = partitionOf('order-1', 4);
    const tag = `{es:main:p${partition}}`;
    expect(keys).toEqual(
      [`${tag}:ids:order-1`, `${tag}:log`, `${tag}:s:order-1`, `${tag}:v:order-1`].map((k) => ctx.prefix + k).sort(),
    );
    expect(new Set(keys.map(keySlot)).size).toBe(1);
    expect(await ctx.redis.get(`${ctx.prefix}${tag}:v:order-1`)).toBe('3');
    expect(await ctx.redis.hget(`${ctx.prefix}${tag}:ids:order-1`, 'client-id-1')).toMatch(/^3 \d+-\d+$/);
  });

  it('lets exactly one of 50 concurrent appends with the same expected version win', async () => {
    await store.appendToStream('race', [{ type: 'Counted', data: { n: -1 } }], { expectedVersion: 'no_stream' });
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, n) => store.appendToStream('race', [{ type: 'Counted', data: { n } }], { expectedVersion: 0 })),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(49);
    for (const failure of lost) {
      expect(ConcurrencyError.is(failure.reason)).toBe(true);
      expect(failure.reason).toBeInstanceOf(ConcurrencyError);
      expect(failure.reason).toMatchObject({ code: 'CONCURRENCY', streamName: 'race', expected: 0, actual: 1 });
    }
    const stream = await store.readStream('race');
    expect(stream.map((e) => e.version)).toEqual([0, 1]);
    expect((won[0] as PromiseFulfilledResult<{ nextExpectedVersion: number }>).value.nextExpectedVersion).toBe(1);
    // the global log holds the same two events, no more
    const all = await store.readAll();
    expect(all.events.filter((e) => e.streamName === 'race')).toHaveLength(2);
  });

  it('group-commits appends made in the same tick, each checked and applied on its own', async () => {
    // Streams of one partition, so the appends share one script call.
    const names = Array.from({ length: 200 }, (_, i) => `g-${i}`).filter((n) => partitionOf(n, 4) === 0).slice(0, 3);
    const [a, b, c] = names as [string, string, string];
    await store.appendToStream(b, [{ type: 'Counted', data: { n: 0 } }]);
    const results = await Promise.allSettled([
      store.appendToStream(a, [{ type: 'Counted', data: { n: 1 } }], { expectedVersion: 'no_stream' }),
      store.appendToStream(b, [{ type: 'Counted', data: { n: 2 } }], { expectedVersion: 'no_stream' }), // conflicts
      store.appendToStream(a, [{ type: 'Counted', data: { n: 3 } }], { expectedVersion: 0 }), // sees the first
      store.appendToStream(c, [{ type: 'Counted', data: { n: 4 } }, { type: 'Counted', data: { n: 5 } }], { expectedVersion: 'no_stream' }),
      store.appendToStream(a, [{ type: 'Counted', data: { n: 6 } }], { expectedVersion: 0 }), // conflicts: a is at 1 now
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'rejected']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ streamName: b, actual: 0 });
    expect((results[4] as PromiseRejectedResult).reason).toMatchObject({ streamName: a, expected: 0, actual: 1 });
    expect((await store.readStream(a)).map((e) => e.data)).toEqual([{ n: 1 }, { n: 3 }]);
    expect((await store.readStream(b)).map((e) => e.data)).toEqual([{ n: 0 }]);
    expect((await store.readStream(c)).map((e) => [e.version, e.data])).toEqual([
      [0, { n: 4 }],
      [1, { n: 5 }],
    ]);
  });

  it('checks no_stream, stream_exists and numeric expectations', async () => {
    await expect(store.appendToStream('s', [{ type: 'Counted', data: { n: 1 } }], { expectedVersion: 'stream_exists' })).rejects.toMatchObject({
      code: 'CONCURRENCY',
      expected: 'stream_exists',
      actual: -1,
    });
    await expect(store.appendToStream('s', [{ type: 'Counted', data: { n: 1 } }], { expectedVersion: 3 })).rejects.toMatchObject({ actual: -1 });
    await store.appendToStream('s', [{ type: 'Counted', data: { n: 1 } }], { expectedVersion: -1 });
    const error = await store.appendToStream('s', [{ type: 'Counted', data: { n: 2 } }], { expectedVersion: 'no_stream' }).catch((e) => e);
    expect(error).toBeInstanceOf(ConcurrencyError);
    expect(error.message).toContain('stream "s"');
    await store.appendToStream('s', [{ type: 'Counted', data: { n: 2 } }], { expectedVersion: 'stream_exists' });
    await store.appendToStream('s', [{ type: 'Counted', data: { n: 3 } }]);
    expect((await store.readStream('s')).map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
  });

  it('writes nothing twice when an append is retried with the same event ids', async () => {
    const batch = [
      { id: 'evt-1', type: 'OrderPlaced' as const, data: { order_id: 'o', amount: 5 } },
      { id: 'evt-2', type: 'OrderPaid' as const, data: { order_id: 'o' } },
    ];
    const first = await store.appendToStream('o', batch, { expectedVersion: 'no_stream' });
    // The retry a client makes when the first reply was lost: same ids, same expected version.
    const retry = await store.appendToStream('o', batch, { expectedVersion: 'no_stream' });
    expect(retry.nextExpectedVersion).toBe(first.nextExpectedVersion);
    expect(retry.positions).toEqual(first.positions);
    expect(retry.createdNewStream).toBe(false);
    // A batch mixing an old id with a new one appends only the new one.
    const mixed = await store.appendToStream('o', [batch[1]!, { id: 'evt-3', type: 'OrderPaid', data: { order_id: 'o' } }], { expectedVersion: 1 });
    expect(mixed.nextExpectedVersion).toBe(2);
    expect(mixed.positions[0]).toBe(first.positions[1]);

    const stored = await store.readStream('o');
    expect(stored.map((e) => e.id)).toEqual(['evt-1', 'evt-2', 'evt-3']);
    expect(stored.map((e) => e.version)).toEqual([0, 1, 2]);
    const log = await store.readAll();
    expect(log.events.map((e) => e.id)).toEqual(['evt-1', 'evt-2', 'evt-3']);
    expect(await ctx.redis.xlen(`${ctx.prefix}{es:main:p${partitionOf('o', 4)}}:s:o`)).toBe(3);
  });

  it('rejects invalid events before writing anything', async () => {
    await store.appendToStream('v', [{ type: 'Counted', data: { n: 1 } }]);
    const before = await keysInRedis();
    const lengths = async () => Promise.all(before.filter((k) => k.endsWith(':log') || k.includes(':s:')).map((k) => ctx.redis.xlen(k)));
    const lengthsBefore = await lengths();

    const bad = await store
      .appendToStream('v', [
        { type: 'Counted', data: { n: 2 } },
        { type: 'OrderPlaced', data: { order_id: 'x', amount: -3 } },
      ])
      .catch((e) => e);
    expect(ValidationError.is(bad)).toBe(true);
    expect(bad).toMatchObject({ stream: 'v', index: 1 });
    expect(bad.issues[0].path).toEqual(['data', 'amount']);
    expect(bad.message).toContain('stream "v" entry #1: field "data.amount"');

    await expect(store.appendToStream('v', [{ type: 'Nope', data: {} } as any])).rejects.toThrow(/unknown event type "Nope"/);
    await expect(store.appendToStream('v', [{ type: 'Counted', data: { n: 1.5 } }])).rejects.toThrow(ValidationError);
    await expect(store.appendToStream('v', [])).rejects.toThrow(ValidationError);
    await expect(
      store.appendToStream('v', [
        { id: 'same', type: 'Counted', data: { n: 1 } },
        { id: 'same', type: 'Counted', data: { n: 2 } },
      ]),
    ).rejects.toThrow(/appears twice/);
    await expect(store.appendToStream('v', [{ type: 'Counted', data: { n: 1 }, metadata: 'x' as any }])).rejects.toThrow(/metadata/);
    await expect(store.appendToStream('', [{ type: 'Counted', data: { n: 1 } }])).rejects.toThrow(/stream name/);
    await expect(store.appendToStream('v', [{ type: 'Counted', data: { n: 1 } }], { expectedVersion: 1.5 })).rejects.toThrow(/expectedVersion/);

    expect(await keysInRedis()).toEqual(before);
    expect(await lengths()).toEqual(lengthsBefore);
    expect(await store.streamVersion('v')).toBe(0);
  });

  it('reads an entry whose stored metadata is not JSON as a DecodeError naming the entry', async () => {
    const { positions } = await store.appendToStream('m', [{ type: 'Counted', data: { n: 1 }, metadata: { by: 'me' } }]);
    const p = partitionOf('m', 4);
    // Damage the stored metadata in the stream and in the log (as a foreign writer could).
    await ctx.redis.xadd(`${ctx.prefix}{es:main:p${p}}:s:m`, '0-2', 'id', 'x', 't', 'Counted', 'd', '{"n":2}', 'm', '{oops', 'g', positions[0]!);
    await ctx.redis.xadd(`${ctx.prefix}{es:main:p${p}}:log`, '*', 's', 'm', 'v', '1', 'id', 'x', 't', 'Counted', 'd', '{"n":2}', 'm', '{oops');
    const fromStream = await store.readStream('m').catch((error: unknown) => error);
    expect(DecodeError.is(fromStream)).toBe(true);
    expect(fromStream).toMatchObject({ entryId: '0-2' });
    expect(String((fromStream as Error).message)).toContain('metadata');
    const fromLog = await store.readAll().catch((error: unknown) => error);
    expect(DecodeError.is(fromLog)).toBe(true);
  });

  it('aggregates a stream, up to a version, a position or a time', async () => {
    const evolve = (total: number, event: { type: string; data: any }) => (event.type === 'Counted' ? total + event.data.n : total);
    const r1 = await store.appendToStream('sum', [1, 2, 3].map((n) => ({ type: 'Counted' as const, data: { n } })));
    await store.appendToStream('sum', [4, 5].map((n) => ({ type: 'Counted' as const, data: { n } })));
    expect(await store.aggregateStream('sum', { evolve, initialState: () => 0 })).toMatchObject({ state: 15, version: 4, streamExists: true });
    expect(await store.aggregateStream('sum', { evolve, initialState: () => 0, upTo: 1 })).toMatchObject({ state: 3, version: 1 });
    expect(await store.aggregateStream('sum', { evolve, initialState: () => 0, upTo: r1.positions[2]! })).toMatchObject({ state: 6, version: 2 });
    expect(await store.aggregateStream('sum', { evolve, initialState: () => 0, upTo: new Date(0) })).toMatchObject({ state: 0, version: -1 });
    expect(await store.aggregateStream('missing', { evolve, initialState: () => 0 })).toEqual({ state: 0, version: -1, streamExists: false, fromSnapshot: false });
  });

  it('soft-deletes a stream: readers see it gone, no_stream starts a fresh one, the global log keeps its events', async () => {
    await store.appendToStream('d', [{ type: 'Counted', data: { n: 1 } }, { type: 'Counted', data: { n: 2 } }]);
    await expect(store.deleteStream('d', { expectedVersion: 0 })).rejects.toBeInstanceOf(ConcurrencyError);
    expect(await store.deleteStream('d', { expectedVersion: 1 })).toBe(true);
    expect(await store.streamExists('d')).toBe(false);
    expect(await store.readStream('d')).toEqual([]);
    expect(await store.deleteStream('d')).toBe(false);
    const fresh = await store.appendToStream('d', [{ type: 'Counted', data: { n: 10 } }], { expectedVersion: 'no_stream' });
    expect(fresh).toMatchObject({ nextExpectedVersion: 0, createdNewStream: true });
    expect((await store.readStream('d')).map((e) => [e.version, e.data])).toEqual([[0, { n: 10 }]]);
    const log = await store.readAll();
    expect(log.events.map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }, { n: 10 }]);
  });
});
