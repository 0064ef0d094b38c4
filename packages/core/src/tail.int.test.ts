import { closeTestClient, createTestRedis, redisTargets, startRedis, testPrefix, useRedis, type RedisServer } from '@streamkit/testing';
import type { Cluster, Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createStreamClient, type StreamClient } from './client.js';
import type { Entry } from './codec.js';
import { ConfigError, DecodeError, InvalidStreamIdError } from './errors.js';
import type { Stream } from './stream.js';
import type { StreamId } from './streamId.js';
import { clientsNamed, connectNamed, killConnectionsNamed, recordCommands, waitBlocked, waitFor } from './testHelpers.js';

/** Runs a tail in the background, collecting what it yields, until stopped. */
function runTail<T>(stream: Stream<T, unknown>, options: Parameters<Stream<T, unknown>['tail']>[0] = {}) {
  const controller = new AbortController();
  const received: Entry<T>[] = [];
  const done = (async () => {
    for await (const entry of stream.tail({ ...options, signal: controller.signal })) received.push(entry);
  })();
  done.catch(() => undefined);
  return {
    received,
    done,
    stop: async () => {
      controller.abort();
      await done;
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(redisTargets())('tail on %s', (target) => {
  const ctx = useRedis(target);
  let client: StreamClient;
  let named: Redis | Cluster;
  let name: string;

  beforeEach(() => {
    name = `tail-${testPrefix().slice(2, -1)}`;
    named = connectNamed(target, name);
    client = createStreamClient({ redis: named, prefix: ctx.prefix });
  });
  afterEach(async () => {
    await client.close();
    await closeTestClient(named);
  });

  it("yields entries added after '$', in order, and ends when aborted", async () => {
    const stream = client.stream('live', { schema: z.object({ n: z.coerce.number() }) });
    await stream.add({ n: -1 });
    const tail = runTail(stream);
    await waitBlocked(ctx.redis, `${name}:blocking`);
    const added = [];
    for (let n = 0; n < 20; n++) added.push(await stream.add({ n }));
    await waitFor(() => tail.received.length >= 20, '20 entries');
    await tail.stop();
    expect(tail.received.map((entry) => entry.id)).toEqual(added);
    expect(tail.received.map((entry) => entry.data.n)).toEqual([...Array(20).keys()]);
    await waitFor(async () => (await clientsNamed(ctx.redis, `${name}:blocking`)).length === 0, 'the tail connection to close');
  });

  it('starts after a given id, reading what is already there first', async () => {
    const stream = client.stream('from');
    const [first, ...rest] = await stream.addMany([{ n: '1' }, { n: '2' }, { n: '3' }]);
    const tail = runTail(stream, { after: first!, count: 1 });
    await waitFor(() => tail.received.length >= 2, 'the entries after the first');
    const late = await stream.add({ n: '4' });
    await waitFor(() => tail.received.length >= 3, 'the late entry');
    await tail.stop();
    expect(tail.received.map((entry) => entry.id)).toEqual([...rest, late]);
  });

  it('starts after a time given as a Date', async () => {
    const stream = client.stream('since');
    await stream.addMany([{ n: '1' }, { n: '2' }, { n: '3' }], { ids: ['1000-0', '2000-0', '3000-0'] });
    const tail = runTail(stream, { after: new Date(2000) });
    await waitFor(() => tail.received.length >= 1, 'the entry after 2000-0');
    await tail.stop();
    expect(tail.received.map((entry) => entry.id)).toEqual(['3000-0']);
  });

  it('refuses bad options on the first step, before any call', async () => {
    const stream = client.stream('bad');
    const recorder = recordCommands(named);
    try {
      for (const options of [{ count: 0 }, { blockMs: 0 }, { blockMs: 1.5 }, { after: 'nope' }, { after: '-' }]) {
        const error = await stream
          .tail(options)
          .next()
          .catch((e: unknown) => e);
        expect(ConfigError.is(error) || InvalidStreamIdError.is(error), `${JSON.stringify(options)}: ${String(error)}`).toBe(true);
      }
    } finally {
      recorder.stop();
    }
    expect(recorder.commands).toEqual([]);
  });

  it('skips or throws on a foreign entry as told', async () => {
    const schema = z.object({ n: z.coerce.number() });
    const key = ctx.key('mixed');
    await ctx.redis.xadd(key, '1-0', 'n', '1');
    await ctx.redis.xadd(key, '2-0', 'n', 'x');
    await ctx.redis.xadd(key, '3-0', 'n', '3');
    const skipping = runTail(client.stream('mixed', { schema }), { after: '0', onInvalid: 'skip' });
    await waitFor(() => skipping.received.length >= 2, 'the valid entries');
    await skipping.stop();
    expect(skipping.received.map((entry) => entry.id)).toEqual(['1-0', '3-0']);

    const throwing = runTail(client.stream('mixed', { schema }), { after: '0' });
    const error = await throwing.done.catch((e: unknown) => e);
    expect(DecodeError.is(error)).toBe(true);
    expect((error as DecodeError).entryId).toBe('2-0');
    expect(throwing.received.map((entry) => entry.id)).toEqual(['1-0']);
  });

  it('survives CLIENT KILL of its blocking connection: every entry arrives once, in order', async () => {
    const stream = client.stream('killed', { schema: z.object({ n: z.coerce.number() }) });
    const tail = runTail(stream, { blockMs: 2_000, count: 7 });
    const blockingName = `${name}:blocking`;
    await waitBlocked(ctx.redis, blockingName);

    const total = 400;
    const added: string[] = [];
    let kills = 0;
    for (let n = 0; n < total; n++) {
      added.push(await stream.add({ n }));
      if (n % 50 === 25) {
        // kill it while it blocks (every other time), or at once, possibly mid-reply or while reconnecting
        if (kills % 2 === 0) await waitBlocked(ctx.redis, blockingName);
        else await waitFor(async () => (await clientsNamed(ctx.redis, blockingName)).length > 0, 'a tail connection');
        const killed = await killConnectionsNamed(ctx.redis, blockingName);
        kills += killed > 0 ? 1 : 0;
      }
      if (n % 8 === 0) await sleep(1);
    }
    await waitFor(() => tail.received.length >= total, `all ${total} entries (got ${tail.received.length})`, 20_000);
    await sleep(50); // a duplicate would arrive right behind
    await tail.stop();

    expect(kills).toBeGreaterThanOrEqual(4);
    expect(tail.received.map((entry) => entry.id)).toEqual(added);
    expect(tail.received.map((entry) => entry.data.n)).toEqual([...Array(total).keys()]);
  });
});

describe('tail across a restart of a persistent (AOF) server', () => {
  let server: RedisServer;
  let redis: Redis;
  let client: StreamClient;

  beforeAll(async () => {
    server = await startRedis({ appendOnly: true });
  });
  afterAll(async () => {
    await server?.destroy();
  });
  beforeEach(() => {
    redis = createTestRedis(server.url, { maxRetriesPerRequest: 2 });
    redis.on('error', () => undefined); // the restarts are expected
    client = createStreamClient({ redis, prefix: testPrefix() });
  });
  afterEach(async () => {
    await client.close();
    await closeTestClient(redis);
  });

  it('SIGKILL and restart while a producer adds: every acknowledged entry arrives once, in order', async () => {
    const stream = client.stream('durable', { schema: z.object({ n: z.coerce.number() }) });
    await stream.add({ n: -1 });
    const tail = runTail(stream, { blockMs: 1_000 });
    await waitFor(async () => (await stream.length()) === 1 && tail.received.length === 0, 'the tail to start');
    await sleep(20);

    const total = 300;
    const acknowledged: string[] = [];
    let failedAdds = 0;
    const producer = (async () => {
      for (let n = 0; n < total; n++) {
        // retry until acknowledged: a lost reply may leave a copy in the stream, which the tail must deliver too
        for (;;) {
          try {
            acknowledged.push(await stream.add({ n }));
            break;
          } catch {
            failedAdds++;
            await sleep(50);
          }
        }
        if (n % 4 === 0) await sleep(1);
      }
    })();

    for (const at of [80, 190]) {
      await waitFor(() => acknowledged.length >= at, `${at} acknowledged adds`, 30_000);
      const pid = server.pid;
      await server.kill();
      await sleep(150);
      await server.start();
      expect(server.pid).not.toBe(pid);
    }
    await producer;

    const inStream = (await stream.range('(' + (await stream.range('-', '+', { count: 1 }))[0]!.id)).map((entry) => entry.id);
    await waitFor(() => tail.received.length >= inStream.length, `the tail to catch up (${tail.received.length}/${inStream.length})`, 30_000);
    await sleep(50);
    await tail.stop();

    const tailed = tail.received.map((entry) => entry.id);
    // exactly the stream's entries after the start, each once and in order (AOF fsync always: nothing acknowledged was lost)
    expect(tailed).toEqual(inStream);
    expect(new Set(tailed).size).toBe(tailed.length);
    const tailedSet = new Set(tailed);
    expect(acknowledged.filter((id) => !tailedSet.has(id))).toEqual([]);
    const values = tail.received.map((entry) => entry.data.n);
    expect(values.every((n, i) => i === 0 || n >= values[i - 1]!)).toBe(true);
    expect(new Set(values).size).toBe(total);
    void failedAdds;
  });
});

describe('tail on a server that stops answering without closing the connection', () => {
  let server: RedisServer;
  let redis: Redis;
  let client: StreamClient;
  const name = `tail-hung-${testPrefix().slice(2, -1)}`;

  beforeAll(async () => {
    server = await startRedis();
    redis = createTestRedis(server.url, { connectionName: name, maxRetriesPerRequest: null });
    client = createStreamClient({ redis, prefix: testPrefix() });
  });
  afterAll(async () => {
    await client?.close();
    if (redis) await closeTestClient(redis);
    await server?.destroy();
  });

  it('cuts the silent connection past the block time and reads on: every entry once, in order', async () => {
    const stream = client.stream('hung');
    const tail = runTail(stream, { blockMs: 500 });
    await waitBlocked(redis, `${name}:blocking`);
    const [before] = await clientsNamed(redis, `${name}:blocking`);
    const added = await stream.addMany(Array.from({ length: 50 }, (_, n) => ({ n: String(n) })));
    await waitFor(() => tail.received.length >= 50, 'the first 50 entries');

    process.kill(server.pid!, 'SIGSTOP'); // the socket stays open, nothing answers
    let late: Promise<StreamId[]>;
    try {
      late = stream.addMany(Array.from({ length: 50 }, (_, n) => ({ n: String(50 + n) }))); // waits for the server
      await sleep(500 + 10_000 + 2_000); // past the tail's watchdog: the block time plus 10 s
    } finally {
      process.kill(server.pid!, 'SIGCONT');
    }
    added.push(...(await late));
    await waitFor(() => tail.received.length >= 100, `all 100 entries (got ${tail.received.length})`, 20_000);
    await sleep(50);
    const [after] = await clientsNamed(redis, `${name}:blocking`);
    await tail.stop();

    expect(tail.received.map((entry) => entry.id)).toEqual(added);
    expect(after!.id).not.toBe(before!.id); // the hung connection was replaced
  });
});
