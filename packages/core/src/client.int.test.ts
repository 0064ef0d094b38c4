import { closeTestClient, redisTargets, testPrefix, useRedis } from '@streamkit/testing';
import { getEventListeners } from 'node:events';
import type { Cluster, Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createStreamClient, type StreamClient } from './client.js';
import { ClientClosedError, ConfigError, DecodeError, InvalidStreamIdError, StreamkitError } from './errors.js';
import { keySlot } from './keys.js';
import { pack } from './msgpack.js';
import { clientsNamed, connectNamed, recordCommands, stateWithin, waitBlocked, waitFor } from './testHelpers.js';

describe.each(redisTargets())('StreamClient on %s', (target) => {
  const ctx = useRedis(target);
  let client: StreamClient;
  /** A second connection, named, so the client's blocking duplicates can be found in CLIENT LIST. */
  let named: Redis | Cluster;
  let name: string;

  beforeEach(async () => {
    name = `core-${testPrefix().slice(2, -1)}`;
    named = connectNamed(target, name);
    client = createStreamClient({ redis: named, prefix: ctx.prefix });
  });
  afterEach(async () => {
    await client.close();
    await closeTestClient(named);
  });

  const blocking = () => `${name}:blocking`;

  describe('read', () => {
    it('reads after an id without blocking, with count', async () => {
      const stream = client.stream('r');
      const added = await stream.addMany([{ n: '1' }, { n: '2' }, { n: '3' }]);
      expect(await stream.read({ after: '0' })).toEqual(added.map((id, i) => ({ id, data: { n: String(i + 1) } })));
      expect((await stream.read({ after: added[0]! })).map((entry) => entry.id)).toEqual(added.slice(1));
      expect((await stream.read({ after: '0', count: 1 })).map((entry) => entry.id)).toEqual([added[0]]);
      expect(await stream.read({ after: '$' })).toEqual([]);
      expect(await stream.read({ after: added[2]! })).toEqual([]);
      expect(await client.stream('missing').read({ after: '0' })).toEqual([]);
    });

    it('reads after a time in ms or a Date', async () => {
      const stream = client.stream('t');
      await stream.addMany([{ n: '1' }, { n: '2' }, { n: '3' }], { ids: ['1000-0', '2000-0', '2000-1'] });
      expect((await stream.read({ after: 1000 })).map((entry) => entry.id)).toEqual(['2000-0', '2000-1']);
      expect((await stream.read({ after: new Date(2000) })).map((entry) => entry.id)).toEqual(['2000-1']);
      expect((await stream.read({ after: '2000' })).map((entry) => entry.id)).toEqual(['2000-1']);
    });

    it('blocks and returns [] when nothing arrives in time', async () => {
      const stream = client.stream('quiet');
      await stream.add({ n: '0' });
      expect(await stream.read({ after: '$', blockMs: 100 })).toEqual([]);
    });

    it('blocks on its own connection until data arrives', async () => {
      const stream = client.stream('wait', { schema: z.object({ n: z.coerce.number() }) });
      await stream.add({ n: 0 });
      const pending = stream.read({ after: '$', blockMs: 20_000 });
      await waitBlocked(ctx.redis, blocking());
      // the shared connection is free while the read blocks
      expect(await named.ping()).toBe('PONG');
      expect(await stateWithin(pending, 0)).toBe('pending');
      const id = await stream.add({ n: 7 });
      expect(await pending).toEqual([{ id, data: { n: 7 } }]);
    });

    it('with blockMs 0 waits until data arrives', async () => {
      const stream = client.stream('forever');
      const pending = stream.read({ after: '0', blockMs: 0 });
      await waitBlocked(ctx.redis, blocking());
      const id = await stream.add({ hello: 'world' });
      expect(await pending).toEqual([{ id, data: { hello: 'world' } }]);
    });

    it('an aborted blocking read returns [] and frees its connection', async () => {
      const stream = client.stream('abort');
      const controller = new AbortController();
      const pending = stream.read({ after: '$', blockMs: 0, signal: controller.signal });
      await waitBlocked(ctx.redis, blocking());
      controller.abort();
      expect(await pending).toEqual([]);
      await waitFor(async () => (await clientsNamed(ctx.redis, blocking())).every((c) => !c.flags?.includes('b')), 'the read to stop blocking');
    });

    it('applies onInvalid to a foreign entry', async () => {
      const stream = client.stream('foreign', { schema: z.object({ n: z.coerce.number() }) });
      await ctx.redis.xadd(ctx.key('foreign'), '1-0', 'n', 'x');
      await ctx.redis.xadd(ctx.key('foreign'), '2-0', 'n', '2');
      await expect(stream.read({ after: '0' })).rejects.toSatisfy(DecodeError.is);
      expect(await stream.read({ after: '0', onInvalid: 'skip' })).toEqual([{ id: '2-0', data: { n: 2 } }]);
    });

    it('refuses bad input before any call', async () => {
      const stream = client.stream('bad');
      const recorder = recordCommands(named);
      try {
        await expect(stream.read({ after: 'nope' })).rejects.toSatisfy(InvalidStreamIdError.is);
        await expect(stream.read({ after: '-' })).rejects.toSatisfy(InvalidStreamIdError.is);
        await expect(stream.read({ after: '0', count: 0 })).rejects.toSatisfy(ConfigError.is);
        await expect(stream.read({ after: '0', blockMs: -1 })).rejects.toSatisfy(ConfigError.is);
      } finally {
        recorder.stop();
      }
      expect(recorder.commands).toEqual([]);
    });
  });

  describe('readMany', () => {
    /** Three stream names whose keys hash to three different slots. */
    const names = () => {
      const picked: string[] = [];
      for (let i = 0; picked.length < 3; i++) {
        const candidate = `s${i}`;
        if (!picked.some((other) => keySlot(ctx.key(other)) === keySlot(ctx.key(candidate)))) picked.push(candidate);
      }
      return picked as [string, string, string];
    };

    it('reads several streams in one call, merged per name', async () => {
      const [a, b, c] = names();
      expect(new Set([a, b, c].map((n) => keySlot(ctx.key(n)))).size).toBe(3);
      const aIds = await client.stream(a).addMany([{ n: 'a1' }, { n: 'a2' }]);
      const bIds = await client.stream(b).addMany([{ n: 'b1' }]);
      const result = await client.readMany({ [a]: '0', [b]: '0', [c]: '0' });
      expect(result).toEqual({
        [a]: [
          { id: aIds[0], data: { n: 'a1' } },
          { id: aIds[1], data: { n: 'a2' } },
        ],
        [b]: [{ id: bIds[0], data: { n: 'b1' } }],
        [c]: [],
      });
      expect(await client.readMany({ [a]: aIds[0]!, [b]: bIds[0]! })).toEqual({ [a]: [{ id: aIds[1], data: { n: 'a2' } }], [b]: [] });
      const counted = await client.readMany({ [a]: '0', [b]: '0' }, { count: 1 });
      expect(counted[a]).toHaveLength(1);
      expect(counted[b]).toHaveLength(1);
      expect(await client.readMany({})).toEqual({});
    });

    it('blocks across several streams until one gets data', async () => {
      const [a, b, c] = names();
      await client.stream(a).add({ n: 'old' });
      const pending = client.readMany({ [a]: '$', [b]: '$', [c]: '$' }, { blockMs: 20_000 });
      await waitBlocked(ctx.redis, blocking());
      expect(await stateWithin(pending, 0)).toBe('pending');
      const id = await client.stream(b).add({ n: 'new' });
      expect(await pending).toEqual({ [a]: [], [b]: [{ id, data: { n: 'new' } }], [c]: [] });
      // the other slots' blocked reads were cut: nothing of ours stays blocked
      await waitFor(async () => (await clientsNamed(ctx.redis, blocking())).every((entry) => !entry.flags?.includes('b')), 'no blocked readers');
    });

    it('returns data already there without blocking, and [] everywhere on timeout', async () => {
      const [a, b] = names();
      const id = await client.stream(a).add({ n: '1' });
      expect(await client.readMany({ [a]: '0', [b]: '0' }, { blockMs: 20_000 })).toEqual({ [a]: [{ id, data: { n: '1' } }], [b]: [] });
      expect(await client.readMany({ [a]: '$', [b]: '$' }, { blockMs: 50 })).toEqual({ [a]: [], [b]: [] });
    });

    it('leaves nothing behind on a signal that outlives the reads', async () => {
      const [a, b] = names();
      const id = await client.stream(a).add({ n: '1' });
      const controller = new AbortController();
      for (let i = 0; i < 5; i++) {
        expect(await client.readMany({ [a]: '0', [b]: '0' }, { blockMs: 20_000, signal: controller.signal })).toEqual({
          [a]: [{ id, data: { n: '1' } }],
          [b]: [],
        });
      }
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
      // Signals made from it with AbortSignal.any, which Node 20 keeps for good.
      const dependants = Object.getOwnPropertySymbols(controller.signal).find((symbol) => symbol.description === 'kDependantSignals');
      expect((dependants && (controller.signal as unknown as Record<symbol, Set<unknown>>)[dependants]?.size) ?? 0).toBe(0);
    });

    it('refuses bad input before any call', async () => {
      const recorder = recordCommands(named);
      try {
        await expect(client.readMany({ a: 'x' })).rejects.toSatisfy(InvalidStreamIdError.is);
        await expect(client.readMany({ a: '0' }, { count: 0 })).rejects.toSatisfy(ConfigError.is);
        await expect(client.readMany({ a: '0' }, { blockMs: 1.5 })).rejects.toSatisfy(ConfigError.is);
        await expect(client.readMany({ '': '0' })).rejects.toSatisfy(ConfigError.is);
      } finally {
        recorder.stop();
      }
      expect(recorder.commands).toEqual([]);
    });
  });

  describe('prefix', () => {
    it('is applied to every key the client touches', async () => {
      const app = createStreamClient({ redis: named, prefix: `${ctx.prefix}app:` });
      try {
        const full = `${ctx.prefix}app:orders`;
        const orders = app.stream('orders');
        expect(orders.key).toBe(full);
        expect(app.key('orders')).toBe(full);
        const id = await orders.add({ n: '1' });
        const [more] = await orders.addMany([{ n: '2' }]);
        expect(await ctx.redis.xlen(full)).toBe(2);
        expect(await ctx.redis.exists(ctx.key('orders'))).toBe(0);
        await ctx.redis.xadd(full, '*', 'n', '3');
        expect((await orders.range()).map((e) => e.data.n)).toEqual(['1', '2', '3']);
        expect((await orders.revRange()).map((e) => e.data.n)).toEqual(['3', '2', '1']);
        const iterated: string[] = [];
        for await (const entry of orders.iterate({ pageSize: 2 })) iterated.push(entry.data.n!);
        expect(iterated).toEqual(['1', '2', '3']);
        expect(await orders.read({ after: more! })).toHaveLength(1);
        expect((await app.readMany({ orders: '0' })).orders).toHaveLength(3);
        expect(await orders.length()).toBe(3);
        expect((await orders.info()).length).toBe(3);
        await ctx.redis.xgroup('CREATE', full, 'g', '0');
        expect((await orders.groups()).map((g) => g.name)).toEqual(['g']);
        expect(await orders.consumers('g')).toEqual([]);
        expect(await orders.delete(id)).toBe(1);
        expect(await orders.trim({ maxLen: 1 })).toBe(1);
        expect(await ctx.redis.xlen(full)).toBe(1);
        const controller = new AbortController();
        const tailed: string[] = [];
        const tail = (async () => {
          for await (const entry of orders.tail({ signal: controller.signal, blockMs: 200 })) {
            tailed.push(entry.data.n!);
            controller.abort();
          }
        })();
        await waitBlocked(ctx.redis, blocking());
        await ctx.redis.xadd(full, '*', 'n', 'tailed');
        await tail;
        expect(tailed).toEqual(['tailed']);
        expect(await orders.destroy()).toBe(true);
        expect(await ctx.redis.exists(full)).toBe(0);
      } finally {
        await app.close();
      }
    });
  });

  describe('close', () => {
    it('leaves a connection that was passed in open, and then refuses calls', async () => {
      const stream = client.stream('c');
      await stream.add({ n: '1' });
      await client.close();
      await client.close(); // twice is fine
      expect(await named.ping()).toBe('PONG');
      expect(named.status).toBe('ready');
      await expectClosed(client, 'c');
    });

    it('ends a running tail and fails pending blocking reads with ClientClosedError, closing their connections', async () => {
      const stream = client.stream('inflight');
      await stream.add({ n: '0' });
      const read = stream.read({ after: '$', blockMs: 0 }).catch((e: unknown) => e);
      const readMany = client.readMany({ inflight: '$', other: '$' }, { blockMs: 0 }).catch((e: unknown) => e);
      const tailed: string[] = [];
      const tail = (async () => {
        for await (const entry of stream.tail()) tailed.push(entry.id);
        return 'ended';
      })();
      await waitFor(async () => (await clientsNamed(ctx.redis, blocking())).filter((c) => c.flags?.includes('b')).length >= 3, 'read, readMany and tail to block');
      await client.close();
      expect(ClientClosedError.is(await read)).toBe(true);
      expect(ClientClosedError.is(await readMany), String(await readMany)).toBe(true);
      expect(await tail).toBe('ended');
      expect(tailed).toEqual([]);
      await waitFor(async () => (await clientsNamed(ctx.redis, blocking())).length === 0, 'the blocking connections to close');
    });
  });

  it('checks its options', () => {
    expect(() => createStreamClient(undefined as never)).toThrow(ConfigError);
    expect(() => createStreamClient({} as never)).toThrow(ConfigError);
    expect(() => createStreamClient({ redis: named, prefix: 5 as never })).toThrow(ConfigError);
    expect(() => client.stream('')).toThrow(ConfigError);
    expect(client.isCluster).toBe(target.name === 'cluster');
  });

  it('keySlot agrees with CLUSTER KEYSLOT, and pack() with cmsgpack.unpack', async () => {
    const keys = ['foo', 'bar', '{user1000}.following', '{user1000}.followers', 'foo{}{bar}', 'foo{{bar}}zap', 'ü日本🚀', ctx.key('x'), ''];
    for (let i = 0; i < 50; i++) keys.push(`${testPrefix()}${i}`);
    if (target.name === 'cluster') {
      for (const key of keys) expect(keySlot(key), key).toBe(await ctx.redis.call('CLUSTER', ['KEYSLOT', key]));
    }
    const batch = [['*', 'field', 'ünïcødé 🚀'], ['x'.repeat(40), 'y'.repeat(300), ''], Array.from({ length: 20 }, (_, i) => String(i))];
    const script = "local t = cmsgpack.unpack(ARGV[1]); local out = {}; for i = 1, #t do out[i] = table.concat(t[i], '|') end; return out";
    const echoed = (await ctx.redis.eval(script, 1, ctx.key('msgpack'), pack(batch))) as string[];
    expect(echoed).toEqual(batch.map((entry) => entry.join('|')));
  });
});

describe.each(redisTargets().filter((target) => target.name === 'standalone'))('a client made from a URL on %s', (target) => {
  const ctx = useRedis(target);

  it('opens its own connection, closes it on close(), then refuses calls', async () => {
    const client = createStreamClient({ redis: target.url!, prefix: ctx.prefix });
    const stream = client.stream('url');
    await stream.add({ n: '1' });
    expect(await ctx.redis.xlen(ctx.key('url'))).toBe(1);
    expect(client.redis.status).toBe('ready');
    await client.close();
    expect(client.redis.status).toBe('end');
    await expectClosed(client, 'url');
  });
});

/** Every call on a closed client throws ClientClosedError before touching Redis. */
async function expectClosed(client: StreamClient, name: string): Promise<void> {
  const stream = client.stream(name);
  const attempts: (() => Promise<unknown>)[] = [
    () => stream.add({ n: '2' }),
    () => stream.addMany([{ n: '2' }]),
    () => stream.range(),
    () => stream.revRange(),
    () => stream.read({ after: '0' }),
    () => stream.read({ after: '0', blockMs: 10 }),
    () => stream.length(),
    () => stream.delete('1-0'),
    () => stream.trim({ maxLen: 1 }),
    () => stream.info(),
    () => stream.groups(),
    () => stream.consumers('g'),
    () => client.readMany({ [name]: '0' }),
    () => client.readMany({ [name]: '0' }, { blockMs: 10 }),
    async () => {
      for await (const _ of stream.iterate()) void _;
    },
    async () => {
      for await (const _ of stream.tail({ after: '0' })) void _;
    },
  ];
  for (const attempt of attempts) {
    const error = await attempt().then(
      () => new Error('resolved'),
      (e: unknown) => e,
    );
    expect(ClientClosedError.is(error), `${attempt.toString().slice(0, 60)}: ${String(error)}`).toBe(true);
    expect(StreamkitError.is(error) && error.code).toBe('CLOSED');
  }
}
