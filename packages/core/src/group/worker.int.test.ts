import { createHook } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { closeTestClient, redisTargets, useRedis } from '@streamkit/testing';
import type { Cluster, Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createStreamClient, type StreamClient } from '../client.js';
import { ClientClosedError, ConfigError } from '../errors.js';
import type { Worker } from './worker.js';
import { recordCommands } from '../testHelpers.js';
import { gate, isBlocked, killClients, namedClient, waitFor } from './fixtures/helpers.js';

const schema = z.object({ n: z.number() });

describe.each(redisTargets())('worker on %s', (target) => {
  const ctx = useRedis(target);
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  /** A client on the suite's connection, or on a new one named `name` (for CLIENT LIST). */
  function open(name?: string): StreamClient {
    let redis: Redis | Cluster = ctx.redis;
    if (name) {
      redis = namedClient(target, name);
      cleanup.push(() => closeTestClient(redis));
    }
    const client = createStreamClient({ redis, prefix: ctx.prefix });
    cleanup.push(() => client.close());
    return client;
  }
  function track<W extends Worker<any>>(worker: W): W {
    cleanup.push(() => worker.stop());
    return worker;
  }
  const uniqueName = () => `sk-test-${randomBytes(4).toString('hex')}`;

  async function orders(client: StreamClient, count = 0) {
    const stream = client.stream('orders', { schema });
    const group = stream.group('g');
    await group.create({ from: '0' });
    const ids = count ? await stream.addMany(Array.from({ length: count }, (_, n) => ({ n }))) : [];
    return { stream, group, ids };
  }

  it('processes every entry once and acks it, with stats, events and lag', async () => {
    const { stream, group, ids } = await orders(open(), 20);
    expect(await group.info()).toMatchObject({ lag: 20, pending: 0 });
    const seen: string[] = [];
    const acked: string[] = [];
    const worker = track(group.consume((entry) => void seen.push(entry.id), { blockMs: 200, concurrency: 3 }));
    worker.on('acked', (batch) => acked.push(...batch));
    await worker.ready;
    await waitFor('20 acks', () => acked.length === 20);
    expect([...seen].sort()).toEqual([...ids].sort());
    expect([...acked].sort()).toEqual([...ids].sort());
    expect(await worker.lag()).toBe(0);
    const more = await stream.add({ n: 99 });
    await waitFor('the new entry', () => acked.includes(more));
    await worker.stop();
    expect(worker.stats()).toMatchObject({ running: false, processed: 21, acked: 21, failed: 0, inFlight: 0, buffered: 0 });
    expect((await group.pending()).count).toBe(0);
    expect(await worker.lag()).toBe(0);
    expect(worker.consumer).toMatch(/-\d+-[0-9a-f]{6}$/);
  });

  it('handles each entry exactly once without faults, also when stopped while its last acks are in flight', async () => {
    const client = open();
    const stream = client.stream('jobs');
    await stream.addMany(Array.from({ length: 3000 }, (_, n) => ({ n: String(n) })));
    for (let round = 0; round < 4; round++) {
      const group = stream.group(`g${round}`);
      await group.create({ from: '0' });
      const times = new Map<string, number>();
      let finish!: () => void;
      const all = new Promise<void>((resolve) => (finish = resolve));
      const worker = group.consume(
        (entry) => {
          times.set(entry.id, (times.get(entry.id) ?? 0) + 1);
          if (times.size === 3000) finish();
        },
        { concurrency: round % 2 ? 64 : 1, count: 100 },
      );
      await all;
      await worker.stop(); // its read is cut and its pending list drained while XACKs are on the way
      expect(worker.stats().processed).toBe(3000);
      expect([...times.values()].every((n) => n === 1)).toBe(true);
      expect((await group.pending()).count).toBe(0);
    }
  });

  it('drains its own pending list first (deleted entries acked and reported), then reads new ones', async () => {
    const { stream, group, ids } = await orders(open(), 6);
    await group.read({ consumer: 'w', count: 3 }); // delivered to "w" before a crash, never acked
    await stream.delete(ids[1]!);
    const handled: [string, number][] = [];
    const deleted: string[] = [];
    const worker = track(group.consume((entry, context) => void handled.push([entry.id, context.deliveryCount]), { consumer: 'w', blockMs: 200 }));
    worker.on('deleted', (gone) => deleted.push(...gone));
    await waitFor('5 entries', () => handled.length === 5);
    await worker.stop();
    expect(handled).toEqual([
      [ids[0], 2],
      [ids[2], 2],
      [ids[3], 1],
      [ids[4], 1],
      [ids[5], 1],
    ]);
    expect(deleted).toEqual([ids[1]]);
    expect(worker.stats()).toMatchObject({ processed: 5, deleted: 1, acked: 6 });
    expect((await group.pending()).count).toBe(0);
  });

  it('never runs more than `concurrency` handlers at once', async () => {
    const { group } = await orders(open(), 120);
    let current = 0;
    let most = 0;
    let done = 0;
    const worker = track(
      group.consume(
        async () => {
          current++;
          most = Math.max(most, current);
          await sleep(1 + Math.floor(Math.random() * 4));
          current--;
          done++;
        },
        { concurrency: 4, count: 50, blockMs: 200 },
      ),
    );
    await waitFor('120 entries', () => done === 120);
    await worker.stop();
    expect(most).toBe(4);
    expect(worker.stats().maxInFlight).toBe(4);

    // Batches: at most `concurrency` batch handlers at once, each of at most `count` entries.
    const { stream } = await orders(open());
    await stream.addMany(Array.from({ length: 60 }, (_, n) => ({ n: 1000 + n })));
    let running = 0;
    let mostBatches = 0;
    const sizes: number[] = [];
    const batcher = track(
      group.consumeBatch(
        async (entries) => {
          running++;
          mostBatches = Math.max(mostBatches, running);
          sizes.push(entries.length);
          await sleep(3);
          running--;
        },
        { concurrency: 2, count: 5, blockMs: 200 },
      ),
    );
    await waitFor('60 entries in batches', () => sizes.reduce((a, b) => a + b, 0) === 60);
    await batcher.stop();
    expect(mostBatches).toBeLessThanOrEqual(2);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(5);
    expect((await group.pending()).count).toBe(0);
  });

  it('stop() while blocked in XREADGROUP lets in-flight handlers finish, acks them and does not wait for the block', async () => {
    const name = uniqueName();
    const client = open(name);
    const { group } = await orders(client, 5);
    const hold = gate();
    cleanup.push(async () => hold.open());
    let started = 0;
    let finished = 0;
    const worker = track(
      group.consume(
        async () => {
          started++;
          await hold.promise;
          await sleep(10);
          finished++;
        },
        { concurrency: 5, count: 5, blockMs: 60_000 },
      ),
    );
    await waitFor('5 handlers running', () => started === 5);
    await waitFor('the worker blocked in XREADGROUP', () => isBlocked(ctx.redis, name));

    let stopped = false;
    const stopping = worker.stop().then(() => (stopped = true));
    await sleep(50);
    expect(stopped).toBe(false); // in-flight handlers are still held
    hold.open();
    // The test's own timeout (30 s) is far below blockMs (60 s): resolving at all means stop did not wait for the block.
    await stopping;
    expect(finished).toBe(5);
    expect((await group.pending()).count).toBe(0);
    expect(worker.stats()).toMatchObject({ running: false, processed: 5, acked: 5, inFlight: 0 });
    expect(await isBlocked(ctx.redis, name)).toBe(false);
  });

  it('an aborted signal stops a worker blocked in XREADGROUP; entries buffered at stop are still handled', async () => {
    const name = uniqueName();
    const { group } = await orders(open(name), 5);
    const controller = new AbortController();
    const hold = gate();
    cleanup.push(async () => hold.open());
    const handled: number[] = [];
    const worker = track(
      group.consume(
        async (entry) => {
          await hold.promise;
          handled.push(entry.data.n);
        },
        { concurrency: 1, count: 10, blockMs: 60_000, signal: controller.signal },
      ),
    );
    await waitFor('the worker blocked in XREADGROUP', () => isBlocked(ctx.redis, name));
    // One running, four buffered (at most half of `count` buffered, so it reads, and blocks).
    expect(worker.stats()).toMatchObject({ inFlight: 1, buffered: 4 });
    controller.abort();
    hold.open();
    await worker.stopped;
    expect(handled).toEqual([0, 1, 2, 3, 4]);
    expect((await group.pending()).count).toBe(0);
    expect(worker.stats().running).toBe(false);
  });

  it('stop() handles entries delivered by the read it cut (a reply that never arrived)', async () => {
    const name = uniqueName();
    const { group, ids } = await orders(open(name), 2);
    await group.read({ consumer: 'other' });
    const seen: number[] = [];
    const worker = track(group.consume((entry) => void seen.push(entry.data.n), { blockMs: 60_000, consumer: 'w' }));
    await waitFor('the worker blocked in XREADGROUP', () => isBlocked(ctx.redis, name));
    // What a reply lost at the cut leaves behind: entries pending for "w" that the worker never saw
    // (XCLAIM moves them there without waking the blocked read).
    expect(await group.claim('w', 0, ids)).toHaveLength(2);
    expect(seen).toEqual([]);
    await worker.stop();
    expect(seen.sort()).toEqual([0, 1]);
    expect((await group.pending()).count).toBe(0);
  });

  it('after a reconnect it drains its own pending list before reading new entries', async () => {
    const name = uniqueName();
    const { group, ids } = await orders(open(name), 2);
    await group.read({ consumer: 'other' });
    const seen: [number, number][] = [];
    const worker = track(group.consume((entry, context) => void seen.push([entry.data.n, context.deliveryCount]), { blockMs: 30_000, consumer: 'w' }));
    await waitFor('the worker blocked in XREADGROUP', () => isBlocked(ctx.redis, name));
    expect(await group.claim('w', 0, ids)).toHaveLength(2); // pending for "w", unseen by the worker
    expect(await killClients(ctx.redis, name, 'xreadgroup')).toBe(1);
    await waitFor('the drained entries', () => seen.length === 2);
    // Delivered by the read, the claim, and the drain's history read.
    expect(seen.sort()).toEqual([
      [0, 3],
      [1, 3],
    ]);
    await waitFor('pending list empty', async () => (await group.pending()).count === 0);
    await worker.stop();
  });

  it('retries a failing handler with backoff, redelivering through XCLAIM so Redis counts every delivery', async () => {
    const { group, ids } = await orders(open(), 3);
    const deliveries: { context: number; redis: number }[] = [];
    const retried: [string, number, number][] = [];
    const worker = track(
      group.consume(
        async (entry, context) => {
          if (entry.data.n !== 1) return;
          const [pending] = await group.pendingEntries({ start: entry.id, end: entry.id });
          deliveries.push({ context: context.deliveryCount, redis: pending!.deliveryCount });
          if (context.deliveryCount < 3) throw new Error('not yet');
        },
        { retry: { delayMs: 20, factor: 2, jitter: 0 }, maxDeliveries: 5, blockMs: 200 },
      ),
    );
    worker.on('retried', (id, delay, next) => retried.push([id, delay, next]));
    await waitFor('3 acks', () => worker.stats().acked === 3);
    await worker.stop();
    expect(deliveries).toEqual([
      { context: 1, redis: 1 },
      { context: 2, redis: 2 },
      { context: 3, redis: 3 },
    ]);
    expect(retried).toEqual([
      [ids[1], 20, 2],
      [ids[1], 40, 3],
    ]);
    expect(worker.stats()).toMatchObject({ processed: 3, failed: 2, retried: 2, deadLettered: 0 });
    expect((await group.pending()).count).toBe(0);
  });

  it('emits processed and failed with the entry and its context; a throwing listener breaks nothing', async () => {
    const { group, ids } = await orders(open(), 2);
    const events: string[] = [];
    const errors: unknown[] = [];
    const worker = track(
      group.consume(
        (entry, context) => {
          if (entry.data.n === 1 && context.deliveryCount === 1) throw new Error('first try fails');
        },
        { retry: { delayMs: 10 }, blockMs: 200 },
      ),
    );
    worker.on('processed', (entry, context) => {
      events.push(`processed ${entry.id} #${context.deliveryCount} by ${context.consumer} in ${context.group}`);
      throw new Error('a listener bug');
    });
    worker.on('failed', (entry, error, context) => events.push(`failed ${entry.id} #${context.deliveryCount}: ${(error as Error).message}`));
    worker.on('error', (error) => errors.push(error));
    await waitFor('2 acks', () => worker.stats().acked === 2);
    await worker.stop();
    expect(events).toEqual([
      `processed ${ids[0]} #1 by ${worker.consumer} in g`,
      `failed ${ids[1]} #1: first try fails`,
      `processed ${ids[1]} #2 by ${worker.consumer} in g`,
    ]);
    expect(errors.map((error) => (error as Error).message)).toEqual(['a listener bug', 'a listener bug']);
    expect((await group.pending()).count).toBe(0);
  });

  it('a failing batch fails each of its entries: each is retried and counted on its own', async () => {
    const { group } = await orders(open(), 6);
    const batches: [number[], number[]][] = [];
    const worker = track(
      group.consumeBatch(
        (entries, context) => {
          batches.push([entries.map((e) => e.data.n), context.deliveryCounts]);
          if (entries.some((e) => e.data.n === 2) && context.deliveryCounts[0] === 1) throw new Error('batch failed');
        },
        { count: 3, retry: { delayMs: 10, jitter: 0 }, blockMs: 200 },
      ),
    );
    await waitFor('6 acks', () => worker.stats().acked === 6);
    await worker.stop();
    expect(batches[0]).toEqual([[0, 1, 2], [1, 1, 1]]);
    const handled = batches.flatMap(([ns, counts]) => ns.map((n, i) => [n, counts[i]]));
    // 0, 1 and 2 came back (each a second delivery); 3, 4 and 5 went through once.
    expect(handled.filter(([, count]) => count === 2).map(([n]) => n).sort()).toEqual([0, 1, 2]);
    expect(handled.filter(([n]) => n! >= 3).map(([, count]) => count)).toEqual([1, 1, 1]);
    expect(worker.stats()).toMatchObject({ failed: 3, retried: 3, processed: 6 });
    expect((await group.pending()).count).toBe(0);
  });

  it('dead-letters a poison entry after maxDeliveries and an entry failing the schema at once; the others flow on', async () => {
    const client = open();
    const { stream, group } = await orders(client);
    const ids = await stream.addMany(Array.from({ length: 10 }, (_, n) => ({ n })));
    const invalidId = String(await ctx.redis.xadd(stream.key, '*', 'n', 'abc'));
    const after = await stream.addMany([{ n: 10 }, { n: 11 }]);
    const poisonId = ids[3]!;
    const processed: number[] = [];
    const poisonDeliveries: number[] = [];
    const events: [string, string][] = [];
    const worker = track(
      group.consume(
        (entry, context) => {
          if (entry.data.n === 3) {
            poisonDeliveries.push(context.deliveryCount);
            throw new Error('cannot bill order 3');
          }
          processed.push(entry.data.n);
        },
        { maxDeliveries: 3, retry: { delayMs: 10 }, deadLetter: 'orders:dead', blockMs: 200, concurrency: 2 },
      ),
    );
    worker.on('deadLettered', (id, reason) => events.push([id, reason]));
    const dead = client.stream('orders:dead');
    await waitFor('2 dead letters and 11 processed', async () => (await dead.length()) === 2 && processed.length === 11);
    await waitFor('pending list empty', async () => (await group.pending()).count === 0);
    await worker.stop();

    expect([...processed].sort((a, b) => a - b)).toEqual([0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(poisonDeliveries).toEqual([1, 2, 3]);
    expect(events.sort()).toEqual([[poisonId, 'max-deliveries'], [invalidId, 'invalid']].sort());
    const letters = new Map((await dead.range()).map((e) => [e.data.dead_letter_id, e.data]));
    expect(letters.get(poisonId)).toMatchObject({
      n: '3',
      dead_letter_id: poisonId,
      dead_letter_stream: stream.key,
      dead_letter_group: 'g',
      dead_letter_consumer: worker.consumer,
      dead_letter_deliveries: '3',
      dead_letter_reason: 'max-deliveries',
      dead_letter_error: 'cannot bill order 3',
    });
    expect(letters.get(invalidId)).toMatchObject({
      n: 'abc',
      dead_letter_id: invalidId,
      dead_letter_group: 'g',
      dead_letter_deliveries: '1',
      dead_letter_reason: 'invalid',
    });
    expect(letters.get(invalidId)!.dead_letter_error).toContain(`entry ${invalidId}`);
    expect(letters.get(invalidId)!.dead_letter_error).toContain('"n"');
    expect(worker.stats()).toMatchObject({ processed: 11, deadLettered: 2, failed: 3, retried: 2 });
    expect(after).toHaveLength(2);
  });

  it('claims entries a dead consumer left idle, and dead-letters without running one delivered too often already', async () => {
    const client = open();
    const { group, ids } = await orders(client, 4);
    await group.read({ consumer: 'ghost', count: 4 });
    // Entry 0 crashed its consumers three more times (each takeover is a delivery): 4 deliveries.
    for (let i = 0; i < 3; i++) await group.claim('ghost', 0, [ids[0]!]);
    const handled: [number, number][] = [];
    const claimed: string[] = [];
    const worker = track(
      group.consume((entry, context) => void handled.push([entry.data.n, context.deliveryCount]), {
        claimIdleMs: 200,
        maxDeliveries: 3,
        deadLetter: 'dead',
        blockMs: 100,
      }),
    );
    worker.on('claimed', (batch) => claimed.push(...batch));
    await waitFor('pending list empty', async () => (await group.pending()).count === 0);
    await worker.stop();
    expect(handled.sort()).toEqual([
      [1, 2],
      [2, 2],
      [3, 2],
    ]);
    expect([...claimed].sort()).toEqual([...ids].sort());
    const [letter] = await client.stream('dead').range();
    expect(letter!.data).toMatchObject({ dead_letter_id: ids[0], dead_letter_deliveries: '5', dead_letter_reason: 'max-deliveries' });
    expect(worker.stats()).toMatchObject({ claimed: 4, processed: 3, deadLettered: 1 });
  });

  it('a CLIENT KILL of its blocking connection: it reconnects at once and loses no entry', async () => {
    const name = uniqueName();
    const client = open(name);
    const { stream, group } = await orders(client);
    const seen = new Map<string, number>();
    const errors: unknown[] = [];
    const worker = track(
      group.consume((entry) => void seen.set(entry.id, (seen.get(entry.id) ?? 0) + 1), {
        // Far beyond the test timeout: only noticing the closed connection gets the worker going again.
        blockMs: 30_000,
        concurrency: 2,
      }),
    );
    worker.on('error', (error) => errors.push(error));
    const produced: string[] = [];
    produced.push(...(await stream.addMany(Array.from({ length: 20 }, (_, n) => ({ n })))));
    await waitFor('the first 20', () => seen.size === 20);

    for (let round = 0; round < 3; round++) {
      await waitFor('the worker blocked in XREADGROUP', () => isBlocked(ctx.redis, name));
      expect(await killClients(ctx.redis, name, 'xreadgroup')).toBe(1);
      produced.push(...(await stream.addMany(Array.from({ length: 10 }, (_, n) => ({ n: 100 * (round + 1) + n })))));
      await waitFor(`the entries after kill ${round + 1}`, () => produced.every((id) => seen.has(id)));
    }
    // Kills under load: entries keep coming while the connection is cut again and again.
    const producing = (async () => {
      for (let i = 0; i < 20; i++) {
        produced.push(await stream.add({ n: 1000 + i }));
        await sleep(5);
      }
    })();
    for (let i = 0; i < 3; i++) {
      await sleep(15);
      await killClients(ctx.redis, name, 'xreadgroup');
    }
    await producing;
    await waitFor('every entry', () => produced.every((id) => seen.has(id)));
    await waitFor('pending list empty', async () => (await group.pending()).count === 0);
    await worker.stop();
    expect(seen.size).toBe(produced.length);
    expect([...seen.values()].every((times) => times === 1)).toBe(true);
    expect(errors.length).toBeGreaterThanOrEqual(3); // each kill surfaced as a (recovered) error
  });

  it('reports NOGROUP while its group is gone, and goes on once it is made again', async () => {
    const { stream, group } = await orders(open(), 1);
    const seen: number[] = [];
    const errors: string[] = [];
    const worker = track(group.consume((entry) => void seen.push(entry.data.n), { blockMs: 100 }));
    worker.on('error', (error) => errors.push(String(error)));
    await waitFor('the first entry', () => seen.length === 1);
    await group.destroy();
    await waitFor('a NOGROUP error', () => errors.some((message) => message.includes('NOGROUP')));
    await group.create({ from: '$' });
    await stream.add({ n: 1 });
    await waitFor('the entry added after the group came back', () => seen.includes(1));
    await worker.stop();
    expect(seen).toEqual([0, 1]);
    expect((await group.pending()).count).toBe(0);
  });

  it('a closed client stops the worker, and no retry timer outlives it', async () => {
    const client = createStreamClient({ redis: ctx.redis, prefix: ctx.prefix });
    const { group } = await orders(client, 1);
    // Timers of an hour or more, as Node itself tracks them (created, then cleared or fired).
    const longTimers = new Set<number>();
    const hook = createHook({
      init: (id, type, _trigger, resource) => {
        if (type === 'Timeout' && (resource as { _idleTimeout?: number })._idleTimeout! >= 3_600_000) longTimers.add(id);
      },
      destroy: (id) => longTimers.delete(id),
    }).enable();
    cleanup.push(async () => hook.disable());
    const worker = track(
      group.consume(
        () => {
          throw new Error('fails');
        },
        // A retry an hour away: left behind, it would keep the process alive that long.
        { retry: { delayMs: 3_600_000, maxDelayMs: 3_600_000, jitter: 0 }, blockMs: 100 },
      ),
    );
    const errors: unknown[] = [];
    worker.on('error', (error) => errors.push(error));
    await new Promise<void>((resolve) => worker.once('retried', () => setImmediate(resolve)));
    expect(longTimers.size).toBe(1);
    await client.close();
    await worker.stopped;
    expect(worker.stats()).toMatchObject({ running: false, failed: 1, retried: 1, inFlight: 0 });
    expect(errors.some((error) => ClientClosedError.is(error))).toBe(true);
    await new Promise((resolve) => setImmediate(resolve)); // destroy hooks run after the turn
    expect(longTimers.size).toBe(0);
    // Still pending, for this consumer's next start or a claim.
    expect((await open().stream('orders').group('g').pending()).count).toBe(1);
  });

  it('an XACK that Redis refuses is not retried: sent once, reported, and stop() does not wait on it', async () => {
    const { stream, group } = await orders(open(), 1);
    const hold = gate();
    cleanup.push(async () => hold.open());
    let started = false;
    const worker = track(
      group.consume(
        async () => {
          started = true;
          await hold.promise;
        },
        { blockMs: 100 },
      ),
    );
    const errors: unknown[] = [];
    worker.on('error', (error) => errors.push(error));
    await waitFor('the handler', () => started);
    // The stream turns into a string under the running handler: its XACK gets WRONGTYPE.
    await stream.destroy();
    await ctx.redis.set(stream.key, 'not a stream');
    const acks = recordCommands(ctx.redis);
    cleanup.push(async () => acks.stop());
    hold.open();
    await waitFor('the refused XACK reported', () => errors.some((error) => String(error).includes('XACK') && String(error).includes('WRONGTYPE')));
    await worker.stop();
    expect(acks.names().filter((name) => name === 'XACK')).toHaveLength(1);
    expect(worker.stats()).toMatchObject({ processed: 1, acked: 0, running: false });
  });

  it('stop() lets go of a signal that outlives the worker', async () => {
    const { group } = await orders(open(), 1);
    const controller = new AbortController();
    const worker = track(group.consume(() => undefined, { signal: controller.signal, blockMs: 100 }));
    await waitFor('the entry', () => worker.stats().acked === 1);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    await worker.stop();
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('rejects bad options before touching Redis', () => {
    const group = open().stream('orders', { schema }).group('g');
    expect(() => group.consume(() => undefined, { concurrency: 0 })).toThrow(ConfigError);
    expect(() => group.consume(() => undefined, { count: 1.5 })).toThrow(ConfigError);
    expect(() => group.consume(() => undefined, { blockMs: -1 })).toThrow(ConfigError);
    expect(() => group.consume(() => undefined, { retry: { delayMs: -5 } })).toThrow(ConfigError);
    expect(() => group.consume('nope' as never)).toThrow(ConfigError);
  });
});
