import { redisTargets, useRedis } from '@streamkit/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createStreamClient, type StreamClient } from '../client.js';
import { ConfigError, InvalidStreamIdError, RedisCommandError } from '../errors.js';
import { StreamId } from '../streamId.js';
import { waitFor } from './fixtures/helpers.js';

const schema = z.object({ n: z.number() });

describe.each(redisTargets())('consumer group API on %s', (target) => {
  const ctx = useRedis(target);
  let client: StreamClient;
  const open = () => (client = createStreamClient({ redis: ctx.redis, prefix: ctx.prefix }));
  afterEach(async () => {
    await client?.close();
  });

  /** A stream with `n` entries `{ n: 0… }` and a group `g` created at `0`. */
  async function seeded(count: number) {
    const stream = open().stream('orders', { schema });
    const ids = await stream.addMany(Array.from({ length: count }, (_, n) => ({ n })));
    const group = stream.group('g');
    await group.create({ from: '0' });
    return { stream, group, ids };
  }

  it('create is idempotent, starts where asked, and makes the stream unless told not to', async () => {
    const stream = open().stream('orders', { schema });
    const group = stream.group('g');
    expect(await group.create()).toBe(true);
    expect(await group.create()).toBe(false);
    expect(await stream.exists()).toBe(true);
    const [first, second] = await stream.addMany([{ n: 1 }, { n: 2 }]);

    // `$` (the default): only entries added after the group was made.
    expect((await group.read({ consumer: 'c' })).map((e) => e.id)).toEqual([first, second]);
    // From an id: entries after it.
    const late = stream.group('late');
    expect(await late.create({ from: first! })).toBe(true);
    expect((await late.read({ consumer: 'c' })).map((e) => e.data)).toEqual([{ n: 2 }]);
    // From `$` on a stream that has entries: none of them.
    const fresh = stream.group('fresh');
    await fresh.create();
    expect(await fresh.read({ consumer: 'c' })).toEqual([]);

    const missing = open().stream('missing').group('g');
    await expect(missing.create({ mkStream: false })).rejects.toBeInstanceOf(RedisCommandError);
    expect(await open().stream('missing').exists()).toBe(false);
    expect(() => stream.group('')).toThrow(ConfigError);
  });

  it('destroy removes the group and its pending list', async () => {
    const { stream, group } = await seeded(3);
    await group.read({ consumer: 'c' });
    expect((await stream.groups()).map((g) => g.name)).toEqual(['g']);
    expect(await group.destroy()).toBe(true);
    expect(await group.destroy()).toBe(false);
    expect(await stream.groups()).toEqual([]);
    expect(await group.info()).toBeNull();
  });

  it('setId moves the last-delivered id', async () => {
    const { group, ids } = await seeded(4);
    expect(await group.read({ consumer: 'c' })).toHaveLength(4);
    await group.setId('0');
    expect((await group.read({ consumer: 'c', count: 10 })).map((e) => e.id)).toEqual(ids);
    await group.setId(ids[1]!);
    expect((await group.read({ consumer: 'c' })).map((e) => e.id)).toEqual(ids.slice(2));
    await group.setId('$');
    expect(await group.read({ consumer: 'c' })).toEqual([]);
    expect((await group.info())?.lastDeliveredId).toBe(ids[3]);
  });

  it('consumers lists them with their pending counts; deleteConsumer drops one and its pending entries', async () => {
    const { group } = await seeded(5);
    await group.read({ consumer: 'alice', count: 2 });
    await group.read({ consumer: 'bob', count: 3 });
    expect(await group.createConsumer('carol')).toBe(true);
    expect(await group.createConsumer('carol')).toBe(false);
    const consumers = await group.consumers();
    expect(consumers.map((c) => [c.name, c.pending]).sort()).toEqual([
      ['alice', 2],
      ['bob', 3],
      ['carol', 0],
    ]);
    expect(consumers.every((c) => c.idleMs >= 0)).toBe(true);
    expect(await group.deleteConsumer('bob')).toBe(3);
    expect((await group.consumers()).map((c) => c.name).sort()).toEqual(['alice', 'carol']);
    expect((await group.pending()).count).toBe(2);
  });

  it('read delivers new entries once per group, decoded, and history re-reads only the consumer’s own pending ones', async () => {
    const { group, ids } = await seeded(5);
    const firstTwo = await group.read({ consumer: 'alice', count: 2 });
    expect(firstTwo).toEqual([
      { id: ids[0], data: { n: 0 } },
      { id: ids[1], data: { n: 1 } },
    ]);
    expect((await group.read({ consumer: 'bob' })).map((e) => e.id)).toEqual(ids.slice(2));
    expect(await group.read({ consumer: 'alice' })).toEqual([]);

    expect((await group.read({ consumer: 'alice', history: true })).map((e) => e.id)).toEqual(ids.slice(0, 2));
    expect((await group.read({ consumer: 'bob', history: true, count: 2 })).map((e) => e.id)).toEqual(ids.slice(2, 4));
    expect((await group.read({ consumer: 'bob', history: true, after: ids[3]! })).map((e) => e.id)).toEqual([ids[4]]);
    await group.ack(ids[0]!);
    expect((await group.read({ consumer: 'alice', history: true })).map((e) => e.id)).toEqual([ids[1]]);
  });

  it('a history read acks and reports pending entries whose data was deleted', async () => {
    const { stream, group, ids } = await seeded(3);
    await group.read({ consumer: 'c' });
    await stream.delete(ids[1]!);
    const deleted: string[][] = [];
    const history = await group.read({ consumer: 'c', history: true, onDeleted: (gone) => deleted.push(gone) });
    expect(history.map((e) => e.id)).toEqual([ids[0], ids[2]]);
    expect(deleted).toEqual([[ids[1]]]);
    expect((await group.pendingEntries()).map((p) => p.id)).toEqual([ids[0], ids[2]]);
  });

  it('a blocking read waits for an entry, and returns [] when aborted', async () => {
    const { stream, group } = await seeded(0);
    const waiting = group.read({ consumer: 'c', blockMs: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const id = await stream.add({ n: 7 });
    expect(await waiting).toEqual([{ id, data: { n: 7 } }]);

    const controller = new AbortController();
    const aborted = group.read({ consumer: 'c', blockMs: 60_000, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    expect(await aborted).toEqual([]);
    expect(await group.read({ consumer: 'c', blockMs: 20 })).toEqual([]);
  });

  it('ack acks only pending ids and pending() summarises the pending list', async () => {
    const { group, ids } = await seeded(4);
    expect(await group.pending()).toEqual({ count: 0, minId: null, maxId: null, consumers: [] });
    await group.read({ consumer: 'alice', count: 1 });
    await group.read({ consumer: 'bob' });
    const summary = await group.pending();
    expect(summary.count).toBe(4);
    expect(summary.minId).toBe(ids[0]);
    expect(summary.maxId).toBe(ids[3]);
    expect(summary.consumers.sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: 'alice', count: 1 },
      { name: 'bob', count: 3 },
    ]);
    expect(await group.ack()).toBe(0);
    expect(await group.ack(ids[0]!, ids[1]!)).toBe(2);
    expect(await group.ack(ids[0]!)).toBe(0);
    expect((await group.pending()).count).toBe(2);
  });

  it('pendingEntries gives idle time and delivery count, filtered by consumer, idle time and range', async () => {
    const { group, ids } = await seeded(4);
    await group.read({ consumer: 'alice', count: 2 });
    await group.read({ consumer: 'bob' });
    const all = await group.pendingEntries();
    expect(all.map((p) => [p.id, p.consumer, p.deliveryCount])).toEqual([
      [ids[0], 'alice', 1],
      [ids[1], 'alice', 1],
      [ids[2], 'bob', 1],
      [ids[3], 'bob', 1],
    ]);
    expect(all.every((p) => Number.isInteger(p.idleMs) && p.idleMs >= 0)).toBe(true);
    expect((await group.pendingEntries({ consumer: 'bob' })).map((p) => p.id)).toEqual(ids.slice(2));
    expect((await group.pendingEntries({ start: ids[1]!, end: ids[2]! })).map((p) => p.id)).toEqual(ids.slice(1, 3));
    expect((await group.pendingEntries({ count: 1 })).map((p) => p.id)).toEqual([ids[0]]);

    // A history read is a delivery: the count goes up.
    await group.read({ consumer: 'alice', history: true });
    expect((await group.pendingEntries({ consumer: 'alice' })).map((p) => p.deliveryCount)).toEqual([2, 2]);

    await new Promise((resolve) => setTimeout(resolve, 150));
    await group.read({ consumer: 'bob', history: true }); // resets bob's idle time
    expect((await group.pendingEntries({ minIdleMs: 100 })).map((p) => p.consumer)).toEqual(['alice', 'alice']);
    expect(await group.pendingEntries({ minIdleMs: 3_600_000 })).toEqual([]);
  });

  it('claim moves idle entries to another consumer and counts the delivery', async () => {
    const { group, ids } = await seeded(3);
    await group.read({ consumer: 'alice' });
    expect(await group.claim('bob', 3_600_000, [ids[0]!])).toEqual([]);
    const claimed = await group.claim('bob', 0, [ids[0]!, ids[2]!]);
    expect(claimed).toEqual([
      { id: ids[0], data: { n: 0 } },
      { id: ids[2], data: { n: 2 } },
    ]);
    expect((await group.pendingEntries()).map((p) => [p.id, p.consumer, p.deliveryCount])).toEqual([
      [ids[0], 'bob', 2],
      [ids[1], 'alice', 1],
      [ids[2], 'bob', 2],
    ]);
    expect(await group.claim('bob', 0, [])).toEqual([]);
  });

  it('autoClaim follows the cursor, returns the ids of deleted entries and drops them from the pending list', async () => {
    const { stream, group, ids } = await seeded(30);
    await group.read({ consumer: 'alice', count: 30 });
    const deleted = [ids[1]!, ids[5]!, ids[17]!, ids[28]!];
    await stream.delete(...deleted);
    const alive = ids.filter((id) => !deleted.includes(id));

    // Nothing is idle long enough: the whole list is walked and nothing claimed, but the entries
    // whose data is gone are dropped from the pending list and reported, idle or not.
    const walk = await group.autoClaim('bob', 3_600_000);
    expect(walk.entries).toEqual([]);
    expect([...walk.deletedIds].sort()).toEqual([...deleted].sort());
    expect((await group.pendingEntries()).map((p) => p.id)).toEqual(alive);
    expect(await group.autoClaim('bob', 3_600_000)).toEqual({ entries: [], deletedIds: [], cursor: '0-0' });

    const first = await group.autoClaim('bob', 0, { count: 10 });
    expect(first.entries.map((e) => e.id)).toEqual(alive.slice(0, 10));
    expect(first.entries[0]).toEqual({ id: ids[0], data: { n: 0 } });
    const rest = await group.autoClaim('bob', 0, { start: StreamId.next(first.entries.at(-1)!.id), count: 100 });
    expect(rest.entries.map((e) => e.id)).toEqual(alive.slice(10));
    expect([...first.deletedIds, ...rest.deletedIds]).toEqual([]);

    const pending = await group.pendingEntries();
    expect(pending.map((p) => p.id)).toEqual(alive);
    expect(pending.every((p) => p.consumer === 'bob' && p.deliveryCount === 2)).toBe(true);
    expect((await group.pending()).count).toBe(alive.length);
  });

  it('autoClaim with a small count loops until it has claimed that many', async () => {
    const { group, ids } = await seeded(25);
    await group.read({ consumer: 'alice', count: 5 }); // 0..4 idle, ready to claim
    await new Promise((resolve) => setTimeout(resolve, 120));
    await group.read({ consumer: 'alice', count: 20 }); // 5..24 fresh
    await group.claim('carol', 0, ids.slice(0, 3)); // 0..2 fresh again
    // XAUTOCLAIM COUNT 2 scans at most 20 entries per call: the cursor has to be followed past the fresh ones.
    const result = await group.autoClaim('bob', 100, { count: 2 });
    expect(result.entries.map((e) => e.id)).toEqual(ids.slice(3, 5));
    expect(result.cursor).toBe(ids[5]); // where a next call goes on
    expect((await group.autoClaim('bob', 100, { start: result.cursor })).cursor).toBe('0-0');
  });

  it('bad ids and options throw naming the stream before anything is sent', async () => {
    const { group } = await seeded(1);
    const sent: string[] = [];
    const spy = (command: string) => sent.push(command);
    const calls = ctx.redis as unknown as { call: (...args: unknown[]) => unknown };
    const original = calls.call;
    calls.call = function (this: unknown, ...args: unknown[]) {
      spy(String(args[0]));
      return original.apply(this, args);
    };
    try {
      await expect(group.ack('nope')).rejects.toBeInstanceOf(InvalidStreamIdError);
      await expect(group.claim('c', 0, ['1-x'])).rejects.toBeInstanceOf(InvalidStreamIdError);
      await expect(group.pendingEntries({ minIdleMs: -1 })).rejects.toBeInstanceOf(ConfigError);
      await expect(group.pendingEntries({ minIdleMs: -1 })).rejects.toThrow(`stream "${group.stream.key}" group "g"`);
      await expect(group.claim('c', 1.5, ['1-1'])).rejects.toBeInstanceOf(ConfigError);
      await expect(group.read({ consumer: 'c', blockMs: -5 })).rejects.toBeInstanceOf(ConfigError);
      await expect(group.setId('x-y')).rejects.toBeInstanceOf(InvalidStreamIdError);
      await expect(group.create({ entriesRead: -1 })).rejects.toBeInstanceOf(ConfigError);
      // COUNT 0 or below would be "no limit" to Redis: every entry delivered at once.
      for (const count of [0, -1, 1.5]) await expect(group.read({ consumer: 'c', count })).rejects.toBeInstanceOf(ConfigError);
      await expect(group.read({ consumer: '' })).rejects.toBeInstanceOf(ConfigError);
      await expect(group.pendingEntries({ count: 0 })).rejects.toBeInstanceOf(ConfigError);
      await expect(group.autoClaim('c', 0, { count: 0 })).rejects.toBeInstanceOf(ConfigError);
      await expect(group.autoClaim('', 0)).rejects.toBeInstanceOf(ConfigError);
      await expect(group.claim('', 0, ['1-1'])).rejects.toBeInstanceOf(ConfigError);
    } finally {
      calls.call = original;
    }
    expect(sent).toEqual([]);
  });

  it('consumeBatch hands over batches of at most `count` and acks them', async () => {
    const stream = open().stream('orders', { schema });
    const group = stream.group('g');
    await group.create({ from: '0' });
    await stream.addMany(Array.from({ length: 25 }, (_, n) => ({ n })));
    const batches: number[][] = [];
    const worker = group.consumeBatch(
      (entries, context) => {
        expect(context.deliveryCounts).toEqual(entries.map(() => 1));
        batches.push(entries.map((e) => e.data.n));
      },
      { count: 10, blockMs: 100 },
    );
    await waitFor('25 entries', () => batches.flat().length === 25);
    await worker.stop();
    expect(batches.every((batch) => batch.length >= 1 && batch.length <= 10)).toBe(true);
    expect(batches.flat()).toEqual(Array.from({ length: 25 }, (_, n) => n));
    expect((await group.pending()).count).toBe(0);
    expect(worker.stats()).toMatchObject({ processed: 25, acked: 25, running: false });
  });
});
