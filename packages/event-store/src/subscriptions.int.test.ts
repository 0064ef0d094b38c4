import { spawn, type ChildProcess } from 'node:child_process';
import { getEventListeners, once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createStreamClient, type StreamClient } from '@streamkit/core';
import { redisTargets, useRedis } from '@streamkit/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createEventStore, type EventStore, type RecordedEvent } from './index.js';

const events = {
  Counted: z.object({ n: z.number() }),
  Noted: z.object({ text: z.string() }),
};
type Events = typeof events;

const subscriberScript = fileURLToPath(new URL('./testing/subscriberProcess.ts', import.meta.url));
const projectionScript = fileURLToPath(new URL('./testing/projectionProcess.ts', import.meta.url));

/** Resolves once `check` returns true, polling; gives up after `attempts` tries (no timing is asserted). */
async function until(check: () => Promise<boolean> | boolean, what: string, attempts = 1500): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`gave up waiting for ${what}`);
}

describe.each(redisTargets())('subscriptions and projections on %s', (target) => {
  const ctx = useRedis(target);
  let client: StreamClient;
  let store: EventStore<Events>;
  const children: ChildProcess[] = [];

  beforeEach(() => {
    client = createStreamClient({ redis: ctx.redis, prefix: ctx.prefix });
    store = createEventStore({ client, events, partitions: 4 });
  });
  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await client.close();
  });

  const append = (stream: string, from: number, count: number) =>
    store.appendToStream(stream, Array.from({ length: count }, (_, i) => ({ type: 'Counted' as const, data: { n: from + i } })));

  it('catches up, then goes live, with filters and a checkpoint to resume from', async () => {
    await append('a-1', 0, 5);
    await append('b-1', 0, 3);
    await store.appendToStream('a-2', [{ type: 'Noted', data: { text: 'hi' } }]);
    const seen: RecordedEvent[] = [];
    const liveFlags: boolean[] = [];
    const controller = new AbortController();
    const subscription = store.subscribe({
      filter: { streamPrefix: 'a-', types: ['Counted'] },
      batchSize: 2,
      pollMs: 10,
      blockMs: 200,
      signal: controller.signal,
      handler: (event, context) => {
        seen.push(event);
        liveFlags.push(context.live);
      },
    });
    await subscription.caughtUp;
    expect(seen.map((e) => `${e.streamName}:${e.version}`)).toEqual(['a-1:0', 'a-1:1', 'a-1:2', 'a-1:3', 'a-1:4']);
    await append('a-3', 0, 2);
    await append('b-1', 3, 1);
    await until(() => seen.length === 7, 'live events');
    expect(seen.slice(5).map((e) => `${e.streamName}:${e.version}`)).toEqual(['a-3:0', 'a-3:1']);
    expect(liveFlags.slice(0, 5).every((live) => !live)).toBe(true);
    expect(liveFlags.slice(5).every((live) => live)).toBe(true);
    const checkpoint = subscription.checkpoint();
    controller.abort();
    await subscription.done;

    // From the checkpoint: only what came after.
    await append('a-1', 5, 1);
    const later: string[] = [];
    const next = store.subscribe({ from: checkpoint, filter: { streamPrefix: 'a-' }, pollMs: 10, blockMs: 200, handler: (e) => void later.push(`${e.streamName}:${e.version}`) });
    await next.caughtUp;
    await next.stop();
    expect(later).toEqual(['a-1:5']);

    // From the end: nothing old.
    const fromEnd: string[] = [];
    const tail = store.subscribe({ from: 'end', pollMs: 10, blockMs: 200, handler: (e) => void fromEnd.push(e.streamName) });
    await tail.caughtUp;
    await append('c-1', 0, 1);
    await until(() => fromEnd.length === 1, 'the new event');
    await tail.stop();
    expect(fromEnd).toEqual(['c-1']);
  });

  it('stops with the handler error and keeps the checkpoint of what was handled', async () => {
    await append('x', 0, 4);
    const handled: number[] = [];
    const failing = store.subscribe({
      name: 'flaky',
      pollMs: 10,
      blockMs: 200,
      handler: (event) => {
        if (event.version === 2) throw new Error('boom');
        handled.push(event.version);
      },
    });
    await expect(failing.done).rejects.toThrow('boom');
    await expect(failing.caughtUp).rejects.toThrow('boom'); // it failed before catching up
    expect(handled).toEqual([0, 1]);
    const resumed: number[] = [];
    const again = store.subscribe({ name: 'flaky', pollMs: 10, blockMs: 200, handler: (event) => void resumed.push(event.version) });
    await again.caughtUp;
    await again.stop();
    expect(resumed).toEqual([2, 3]);
  });

  it("a named subscription from 'end' keeps its starting point: events appended while it was down before its first event still come", async () => {
    await append('old', 0, 3);
    const first: string[] = [];
    const sub = store.subscribe({ name: 'tail', from: 'end', pollMs: 10, blockMs: 200, handler: (e) => void first.push(`${e.streamName}:${e.version}`) });
    await sub.caughtUp;
    await sub.stop();
    await append('new', 0, 2);
    const resumed: string[] = [];
    const again = store.subscribe({ name: 'tail', from: 'end', pollMs: 10, blockMs: 200, handler: (e) => void resumed.push(`${e.streamName}:${e.version}`) });
    await again.caughtUp;
    await again.stop();
    expect(first).toEqual([]);
    expect(resumed).toEqual(['new:0', 'new:1']);
  });

  it('a subscription that ends lets go of the signal it was given', async () => {
    const controller = new AbortController();
    for (let i = 0; i < 5; i++) {
      const sub = store.subscribe({ signal: controller.signal, pollMs: 10, blockMs: 200, handler: () => undefined });
      await sub.caughtUp;
      await sub.stop();
    }
    const failing = store.subscribe({
      signal: controller.signal,
      pollMs: 10,
      blockMs: 200,
      handler: () => {
        throw new Error('boom');
      },
    });
    await append('sig', 0, 1);
    await expect(failing.done).rejects.toThrow('boom');
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  /**
   * Runs `script` in a child process, SIGKILLs it while events are written, starts it again and
   * waits until every event was recorded in the `list` it RPUSHes `<stream>:<version>` to (and
   * `settled` holds, when given). Returns the list, in order, and where the second process began in it.
   */
  const crashAndRestart = async (options: {
    script: string;
    list: string;
    streams: string[];
    expected: Set<string>;
    warmup: number;
    env?: Record<string, string>;
    settled?: () => Promise<boolean>;
  }) => {
    const { streams, expected } = options;
    const write = async (round: number) => {
      for (const stream of streams) {
        const result = await append(stream, round * 10, 10);
        for (let v = result.nextExpectedVersion - 9; v <= result.nextExpectedVersion; v++) expected.add(`${stream}:${v}`);
      }
    };
    await write(0);
    await write(1);
    const env = {
      ...process.env,
      ES_PREFIX: ctx.prefix,
      ES_PARTITIONS: '4',
      ...options.env,
      ...(target.name === 'cluster' ? { ES_CLUSTER_NODES: JSON.stringify(target.startupNodes) } : { ES_REDIS_URL: target.url! }),
    };
    const start = () => {
      const child = spawn(process.execPath, ['--conditions=@streamkit/source', '--import', 'tsx', options.script], { env, stdio: ['ignore', 'inherit', 'inherit'] });
      children.push(child);
      return child;
    };
    const list = `${ctx.prefix}${options.list}`;
    const recorded = async () => (await ctx.redis.lrange(list, 0, -1)) as string[];

    const first = start();
    await until(async () => (await ctx.redis.llen(list)) >= options.warmup, 'the first process to get going');
    // More events while it runs, then the crash in the middle of the stream.
    const writing = write(2);
    first.kill('SIGKILL');
    await once(first, 'exit');
    await writing;
    const restartedAt = (await recorded()).length;
    expect(restartedAt).toBeLessThan(expected.size);
    await write(3);

    const second = start();
    await until(async () => {
      const got = new Set(await recorded());
      return [...expected].every((key) => got.has(key));
    }, 'the restarted process to catch up');
    if (options.settled) await until(options.settled, 'the restarted process to settle');
    second.kill('SIGTERM');
    await once(second, 'exit');
    return { got: await recorded(), restartedAt };
  };

  it('a subscriber SIGKILLed mid-stream and restarted misses nothing', async () => {
    const streams = Array.from({ length: 8 }, (_, i) => `k-${i}`);
    const expected = new Set<string>();
    const { got, restartedAt } = await crashAndRestart({ script: subscriberScript, list: 'received', streams, expected, warmup: 40 });
    const missing = [...expected].filter((key) => !got.includes(key));
    expect(missing).toEqual([]);
    // at least once: a batch may come twice after the crash, but nothing outside the log appears
    expect(new Set(got).size).toBe(expected.size);
    // and it resumed from its saved checkpoint, not from the start: at most one batch (10) came twice
    expect(got.length - expected.size).toBeLessThanOrEqual(10);
    // each stream's events arrived in version order, per process run
    for (const run of [got.slice(0, restartedAt), got.slice(restartedAt)]) {
      for (const stream of streams) {
        const versions = run.filter((key) => key.startsWith(`${stream}:`)).map((key) => Number(key.split(':')[1]));
        expect(versions).toEqual([...versions].sort((x, y) => x - y));
        expect(new Set(versions).size).toBe(versions.length);
      }
    }
    const saved = await ctx.redis.get(`${ctx.prefix}es:main:sub:crash-test`);
    expect(saved).toBe(await store.endCheckpoint());
  }, 60_000);

  // nothing left: every group has delivered and acked everything
  const projectionSettled = async () => (await store.projection({ name: 'crash-test', handle: () => undefined }).lag()) === 0;

  it('a projection process SIGKILLed mid-stream and restarted misses nothing', async () => {
    const streams = Array.from({ length: 8 }, (_, i) => `q-${i}`);
    const expected = new Set<string>();
    const { got } = await crashAndRestart({ script: projectionScript, list: 'projected', streams, expected, warmup: 30, settled: projectionSettled });
    expect([...expected].filter((key) => !got.includes(key))).toEqual([]);
    expect(new Set(got).size).toBe(expected.size);
    // at least once: only the events in flight at the crash (one per partition) may have run twice
    expect(got.length - expected.size).toBeLessThanOrEqual(4);
    // per stream, first deliveries in version order: the restarted consumer took over its pending event first
    for (const stream of streams) {
      const firsts = [...new Set(got.filter((key) => key.startsWith(`${stream}:`)))].map((key) => Number(key.split(':')[1]));
      expect(firsts).toEqual(Array.from({ length: 40 }, (_, v) => v));
    }
  }, 60_000);

  it('a projection process SIGKILLed and replaced by one of another consumer name: its pending events are claimed and handled', async () => {
    const streams = Array.from({ length: 8 }, (_, i) => `q-${i}`);
    const expected = new Set<string>();
    // The new process reads the events appended meanwhile before the killed one's pending events
    // are idle long enough to be claimed: those must still be handled, not skipped.
    const { got } = await crashAndRestart({ script: projectionScript, list: 'projected', streams, expected, warmup: 30, env: { ES_DEFAULT_CONSUMER: '1' }, settled: projectionSettled });
    expect([...expected].filter((key) => !got.includes(key))).toEqual([]);
    expect(new Set(got).size).toBe(expected.size);
  }, 60_000);

  it('a projection builds a read model on consumer groups, skips failing events to a dead letter, and rebuilds', async () => {
    const totals = `${ctx.prefix}totals`;
    await append('p-1', 0, 5);
    await append('p-2', 0, 5);
    await store.appendToStream('p-3', [{ type: 'Noted', data: { text: 'poison' } }]);
    const errors: unknown[] = [];
    let resets = 0;
    const projection = store.projection({
      name: 'totals',
      blockMs: 100,
      maxAttempts: 2,
      onError: (error) => errors.push(error),
      handle: async (event) => {
        if (event.type === 'Noted') throw new Error(`cannot project ${event.data.text}`);
        await ctx.redis.hincrby(totals, event.streamName, event.data.n);
      },
      reset: async () => {
        resets++;
        await ctx.redis.del(totals);
      },
    });
    await projection.start();
    await until(async () => (await projection.lag()) === 0, 'the projection to catch up');
    expect(await ctx.redis.hgetall(totals)).toEqual({ 'p-1': '10', 'p-2': '10' });
    await append('p-1', 100, 1);
    await until(async () => (await ctx.redis.hget(totals, 'p-1')) === '110', 'the live event');

    // The poison event went to its partition's dead-letter stream, with the error.
    const dead = (await store.readAll({ filter: { types: ['Noted'] } })).events[0]!;
    const deadKey = `${ctx.prefix}{es:main:p${dead.partition}}:proj:totals:dead`;
    const deadEntries = (await ctx.redis.xrange(deadKey, '-', '+')) as [string, string[]][];
    expect(deadEntries).toHaveLength(1);
    expect(deadEntries[0]![1]).toContain('cannot project poison');
    expect(deadEntries[0]![1]).toContain(dead.position);

    await ctx.redis.hset(totals, 'p-1', '-999'); // a corrupted read model
    await projection.rebuild();
    expect(resets).toBe(1);
    await until(async () => (await projection.lag()) === 0 && (await ctx.redis.hget(totals, 'p-1')) === '110', 'the rebuild');
    expect(await ctx.redis.hgetall(totals)).toEqual({ 'p-1': '110', 'p-2': '10' });
    await projection.stop();
    expect(projection.running).toBe(false);
    expect(errors).toEqual([]);
  });
});
