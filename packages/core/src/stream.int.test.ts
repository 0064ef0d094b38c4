import { redisTargets, useRedis } from '@streamkit/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createStreamClient, type StreamClient } from './client.js';
import { ConfigError, DecodeError, InvalidStreamIdError, RedisCommandError, ValidationError } from './errors.js';
import type { Entry } from './codec.js';
import { StreamId } from './streamId.js';
import { recordCommands } from './testHelpers.js';

const order = z.object({
  order_id: z.string(),
  amount: z.number(),
  status: z.enum(['new', 'paid', 'shipped']).default('new'),
  placedAt: z.date().optional(),
});

const ids = (entries: Entry<unknown>[]) => entries.map((entry) => entry.id);
const chunk = (flat: string[]) => Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i]!, flat[2 * i + 1]!] as const);

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

describe.each(redisTargets())('Stream on %s', (target) => {
  const ctx = useRedis(target);
  let client: StreamClient;

  beforeEach(() => {
    client = createStreamClient({ redis: ctx.redis, prefix: ctx.prefix });
  });
  afterEach(async () => {
    await client.close();
  });

  /** The raw entries of a stream, straight from Redis. */
  const raw = async (name: string) => (await ctx.redis.xrange(ctx.key(name), '-', '+')) as [string, string[]][];
  /** Fills a stream with entries `n=0..count-1` under explicit ids `<base+i>-0`. */
  const seed = async (name: string, count: number, base = 1000) => {
    const stream = client.stream(name);
    return stream.addMany(
      Array.from({ length: count }, (_, i) => ({ n: String(i) })),
      { ids: Array.from({ length: count }, (_, i) => `${base + i}-0`) },
    );
  };

  describe('add', () => {
    it('appends an entry, encoded by the schema, and returns its id', async () => {
      const orders = client.stream('orders', { schema: order });
      const id = await orders.add({ order_id: 'o-1', amount: 42.5, placedAt: new Date('2024-01-01T00:00:00Z') });
      expect(id).toMatch(/^\d+-\d+$/);
      expect(await raw('orders')).toEqual([[id, ['order_id', 'o-1', 'amount', '42.5', 'placedAt', '2024-01-01T00:00:00.000Z']]]);
      expect(await orders.range()).toEqual([{ id, data: { order_id: 'o-1', amount: 42.5, status: 'new', placedAt: new Date('2024-01-01T00:00:00Z') } }]);
    });

    it('round-trips every field kind through Redis', async () => {
      const schema = z.object({
        text: z.string(),
        count: z.number().int(),
        ratio: z.number(),
        big: z.bigint(),
        ok: z.boolean(),
        at: z.date(),
        bytes: z.instanceof(Buffer),
        tags: z.array(z.string()),
        meta: z.object({ source: z.string(), retries: z.number() }),
        kind: z.enum(['a', 'b']),
        either: z.union([z.string(), z.number()]),
        note: z.string().nullable(),
        extra: z.string().optional(),
      });
      const stream = client.stream('kinds', { schema });
      const data = {
        text: 'ünï 🚀 "quoted"',
        count: -7,
        ratio: 0.1 + 0.2,
        big: 2n ** 70n,
        ok: false,
        at: new Date('2024-02-29T12:00:00.123Z'),
        bytes: Buffer.from([0, 255, 1, 254]),
        tags: ['x', 'y'],
        meta: { source: 'api', retries: 2 },
        kind: 'b' as const,
        either: 12,
        note: null,
      };
      const id = await stream.add(data);
      const [entry] = await stream.range();
      expect(entry).toEqual({ id, data });
      expect(Buffer.isBuffer(entry!.data.bytes)).toBe(true);
      const stored = Object.fromEntries(chunk((await raw('kinds'))[0]![1]));
      expect(stored).toEqual({
        text: data.text,
        count: '-7',
        ratio: String(0.1 + 0.2),
        big: String(2n ** 70n),
        ok: 'false',
        at: '2024-02-29T12:00:00.123Z',
        bytes: 'AP8B/g==',
        tags: '["x","y"]',
        meta: '{"source":"api","retries":2}',
        kind: 'b',
        either: '12',
      });
    });

    it('takes explicit ids and <ms>-*', async () => {
      const stream = client.stream('ids');
      expect(await stream.add({ a: '1' }, { id: '5-1' })).toBe('5-1');
      expect(await stream.add({ a: '2' }, { id: '5-*' })).toBe('5-2');
      expect(await stream.add({ a: '3' }, { id: '7-*' })).toBe('7-0');
      const error = await stream.add({ a: '4' }, { id: '6-0' }).catch((e: unknown) => e);
      expect(RedisCommandError.is(error)).toBe(true);
      expect((error as RedisCommandError).command).toBe('XADD');
      expect((error as RedisCommandError).stream).toBe(ctx.key('ids'));
      expect((error as Error).message).toMatch(/equal or smaller/);
      expect(ids(await stream.range())).toEqual(['5-1', '5-2', '7-0']);
    });

    it('trims with MAXLEN exactly', async () => {
      const stream = client.stream('exact');
      await seed('exact', 10);
      await stream.add({ n: '10' }, { id: '2000-0', maxLen: 5 });
      expect(ids(await stream.range())).toEqual(['1006-0', '1007-0', '1008-0', '1009-0', '2000-0']);
    });

    it('trims with MAXLEN ~ by whole nodes, keeping at least maxLen', async () => {
      const stream = client.stream('approx');
      await seed('approx', 250); // radix-tree nodes of 100 entries (stream-node-max-entries)
      await stream.add({ n: 'last' }, { maxLen: 10, approximate: true });
      const left = await stream.length();
      expect(left).toBeGreaterThan(10); // whole nodes only: more than an exact trim keeps
      expect(left).toBeLessThan(251);
      const kept = await stream.range();
      expect(kept.at(-1)!.data).toEqual({ n: 'last' });
      expect(kept[0]!.id).toBe(`${1000 + 250 - (left - 1)}-0`); // the newest entries survive, in one run
    });

    it('caps approximate eviction with LIMIT', async () => {
      const stream = client.stream('limit');
      await seed('limit', 400);
      await stream.add({ n: 'x' }, { maxLen: 0, approximate: true, limit: 100 });
      const limited = await stream.length();
      expect(limited).toBeGreaterThanOrEqual(301); // at most 100 evicted
      expect(limited).toBeLessThan(401);
      await stream.add({ n: 'y' }, { maxLen: 0, approximate: true });
      expect(await stream.length()).toBeLessThan(limited - 100); // the default limit evicts far more
    });

    it('trims with MINID, from an id, an incomplete id or a Date', async () => {
      const stream = client.stream('minid');
      await seed('minid', 10); // 1000-0 .. 1009-0
      await stream.add({ n: 'a' }, { id: '1010-0', minId: '1003' });
      expect((await stream.range())[0]!.id).toBe('1003-0');
      await stream.add({ n: 'b' }, { id: '1011-0', minId: new Date(1005) });
      expect((await stream.range())[0]!.id).toBe('1005-0');
      await stream.add({ n: 'c' }, { id: '1012-0', minId: '1008-0', approximate: true });
      expect(await stream.length()).toBeGreaterThan(0);
    });

    it('with NOMKSTREAM returns null and creates nothing when the stream is missing', async () => {
      const stream = client.stream('nomk');
      expect(await stream.add({ a: '1' }, { noMkStream: true })).toBeNull();
      expect(await ctx.redis.exists(ctx.key('nomk'))).toBe(0);
      expect(await stream.exists()).toBe(false);
      await stream.add({ a: '1' });
      expect(await stream.add({ a: '2' }, { noMkStream: true })).toMatch(/^\d+-\d+$/);
      expect(await stream.length()).toBe(2);
    });

    it('turns a refused command into a RedisCommandError naming it and the stream', async () => {
      await ctx.redis.set(ctx.key('string'), 'not a stream');
      const stream = client.stream('string');
      for (const attempt of [() => stream.add({ a: '1' }), () => stream.addMany([{ a: '1' }, { a: '2' }]), () => stream.range(), () => stream.length()]) {
        const error = await attempt().catch((e: unknown) => e);
        expect(RedisCommandError.is(error), String(error)).toBe(true);
        expect((error as RedisCommandError).stream).toBe(ctx.key('string'));
        expect((error as Error).message).toMatch(/WRONGTYPE/);
        expect((error as Error).cause).toBeInstanceOf(Error);
      }
      expect(await ctx.redis.get(ctx.key('string'))).toBe('not a stream');
    });

    it('refuses bad input before any network call', async () => {
      const orders = client.stream('bad', { schema: order });
      const plain = client.stream('bad');
      const recorder = recordCommands(ctx.redis);
      try {
        const attempts: [Promise<unknown>, (e: unknown) => boolean][] = [
          [orders.add({ order_id: 'o', amount: 'abc' as unknown as number }), ValidationError.is],
          [plain.add({}), ValidationError.is],
          [plain.add({ a: '1' }, { id: '0-0' }), InvalidStreamIdError.is],
          [plain.add({ a: '1' }, { id: 'nope' }), InvalidStreamIdError.is],
          [plain.add({ a: '1' }, { maxLen: 5, minId: '1' }), ConfigError.is],
          [plain.add({ a: '1' }, { maxLen: 5, limit: 10 }), ConfigError.is],
          [plain.add({ a: '1' }, { maxLen: -1 }), ConfigError.is],
          [plain.add({ a: '1' }, { maxLen: 1.5 }), ConfigError.is],
          [plain.add({ a: '1' }, { approximate: true }), ConfigError.is],
          [plain.add({ a: '1' }, { minId: '(5-0' }), InvalidStreamIdError.is],
          [plain.add({ a: '1' }, { minId: 'x' }), InvalidStreamIdError.is],
        ];
        for (const [attempt, guard] of attempts) {
          const error = await attempt.then(
            () => new Error('resolved'),
            (e: unknown) => e,
          );
          expect(guard(error), String(error)).toBe(true);
        }
        const error = (await orders.add({ order_id: 'o', amount: 'abc' as unknown as number }).catch((e: unknown) => e)) as ValidationError;
        expect(error.stream).toBe(ctx.key('bad'));
        expect(error.issues[0]!.path).toEqual(['amount']);
        expect(error.message).toBe(`stream "${ctx.key('bad')}": field "amount": expected number, got "abc"`);
        expect(recorder.commands).toEqual([]);
      } finally {
        recorder.stop();
      }
      expect(await ctx.redis.exists(ctx.key('bad'))).toBe(0);
    });
  });

  describe('addMany', () => {
    it('appends a batch in order in one round trip', async () => {
      const orders = client.stream('batch', { schema: order });
      await orders.addMany([{ order_id: 'warm', amount: 0 }]); // loads the script
      const recorder = recordCommands(ctx.redis);
      const batch = Array.from({ length: 500 }, (_, i) => ({ order_id: `o-${i}`, amount: i / 4 }));
      let added: string[];
      try {
        added = await orders.addMany(batch);
      } finally {
        recorder.stop();
      }
      expect(recorder.commands).toHaveLength(1);
      expect(recorder.names()[0]).toMatch(/^EVAL(SHA)?$/);
      expect(added).toHaveLength(500);
      const stored = await orders.range('(' + (await orders.range())[0]!.id);
      expect(ids(stored)).toEqual(added);
      expect(stored.map((entry) => entry.data)).toEqual(batch.map((data) => ({ ...data, status: 'new' })));
      expect([...added].sort(StreamId.compare)).toEqual(added);
      expect(new Set(added).size).toBe(500);
    });

    it('returns [] for an empty batch without a call', async () => {
      const recorder = recordCommands(ctx.redis);
      try {
        expect(await client.stream('empty').addMany([])).toEqual([]);
      } finally {
        recorder.stop();
      }
      expect(recorder.commands).toEqual([]);
    });

    it('trims once after the batch', async () => {
      const stream = client.stream('trimmed');
      const added = await stream.addMany(
        Array.from({ length: 20 }, (_, i) => ({ n: String(i) })),
        { maxLen: 5 },
      );
      expect(ids(await stream.range())).toEqual(added.slice(-5));
      await stream.addMany([{ n: 'a' }, { n: 'b' }], { minId: added[18]!, ids: ['9999999999999-0', '9999999999999-1'] });
      expect(ids(await stream.range())).toEqual([added[18], added[19], '9999999999999-0', '9999999999999-1']);
    });

    it('takes explicit ids and <ms>-*', async () => {
      const stream = client.stream('explicit');
      const added = await stream.addMany([{ n: '1' }, { n: '2' }, { n: '3' }, { n: '4' }], { ids: ['5-1', '5-2', '6-*', '8-0'] });
      expect(added).toEqual(['5-1', '5-2', '6-0', '8-0']);
      expect(await stream.addMany([{ n: '5' }, { n: '6' }], { ids: ['8-*', '8-*'] })).toEqual(['8-1', '8-2']);
      expect(ids(await stream.range())).toEqual(['5-1', '5-2', '6-0', '8-0', '8-1', '8-2']);
    });

    it('with NOMKSTREAM writes nothing to a missing stream', async () => {
      expect(await client.stream('gone').addMany([{ a: '1' }, { a: '2' }], { noMkStream: true })).toEqual([]);
      expect(await ctx.redis.exists(ctx.key('gone'))).toBe(0);
    });

    it('writes nothing when one entry is invalid, naming its index and field, before any call', async () => {
      const orders = client.stream('half', { schema: order });
      await orders.add({ order_id: 'first', amount: 1 });
      const recorder = recordCommands(ctx.redis);
      let error: unknown;
      try {
        error = await orders
          .addMany([
            { order_id: 'a', amount: 1 },
            { order_id: 'b', amount: 2 },
            { order_id: 'c', amount: 2, status: 'lost' as 'new' },
            { order_id: 'd', amount: 4 },
          ])
          .catch((e: unknown) => e);
      } finally {
        recorder.stop();
      }
      expect(ValidationError.is(error)).toBe(true);
      const validation = error as ValidationError;
      expect(validation.index).toBe(2);
      expect(validation.stream).toBe(ctx.key('half'));
      expect(validation.issues[0]!.path).toEqual(['status']);
      expect(validation.message).toMatch(new RegExp(`^stream "${ctx.key('half')}" entry #2: field "status": `));
      expect(recorder.commands).toEqual([]);
      expect(await orders.length()).toBe(1);
    });

    it('writes nothing when an explicit id is not greater than the last id', async () => {
      const stream = client.stream('order');
      await stream.addMany([{ n: '1' }, { n: '2' }], { ids: ['10-0', '10-1'] });
      const error = await stream.addMany([{ n: '3' }, { n: '4' }, { n: '5' }], { ids: ['11-0', '12-0', '12-0'] }).catch((e: unknown) => e);
      expect(ConfigError.is(error)).toBe(true); // caught before the call: 12-0 twice
      expect((error as Error).message).toMatch(/entry #2 id 12-0 does not come after/);
      const stale = await stream.addMany([{ n: '3' }, { n: '4' }], { ids: ['11-0', '10-1'] }).catch((e: unknown) => e);
      expect(ConfigError.is(stale)).toBe(true);
      for (const batchIds of [['10-1', '11-0'], ['9-*', '11-0'], ['10-0', '11-0']]) {
        const tooSmall = await stream.addMany([{ n: 'x' }, { n: 'y' }], { ids: batchIds }).catch((e: unknown) => e);
        expect(ConfigError.is(tooSmall), String(tooSmall)).toBe(true);
        expect((tooSmall as Error).message).toContain(`entry #0 id ${batchIds[0]} is not greater than the stream's last id; nothing was written`);
      }
      // the server checks every id before writing the first one
      const late = await client.stream('order2').addMany([{ n: 'a' }], { ids: ['50-0'] });
      expect(late).toEqual(['50-0']);
      expect(ids(await stream.range())).toEqual(['10-0', '10-1']);
      expect((await stream.info()).entriesAdded).toBe(2);
    });

    it('refuses ids that do not fit the batch before any call', async () => {
      const stream = client.stream('ids-bad');
      const recorder = recordCommands(ctx.redis);
      try {
        for (const options of [{ ids: ['1-1'] }, { ids: ['2-0', '1-0'] }, { ids: ['1-*', '1-5'] }, { ids: ['*', '*'] }, { ids: ['x', '1-1'] }, { ids: ['0-0', '1-1'] }]) {
          const error = await stream.addMany([{ n: '1' }, { n: '2' }], options).catch((e: unknown) => e);
          expect(ConfigError.is(error) || InvalidStreamIdError.is(error), `${JSON.stringify(options)}: ${String(error)}`).toBe(true);
        }
        const notArray = await stream.addMany({ n: '1' } as unknown as never[]).catch((e: unknown) => e);
        expect(ValidationError.is(notArray)).toBe(true);
      } finally {
        recorder.stop();
      }
      expect(recorder.commands).toEqual([]);
    });
  });

  describe('range / revRange', () => {
    beforeEach(async () => {
      await client.stream('r').addMany(
        ['a', 'b', 'c', 'd', 'e', 'f'].map((n) => ({ n })),
        { ids: ['1000-0', '1000-1', '1000-2', '2000-0', '3000-0', '3000-5'] },
      );
    });

    it('reads everything by default, oldest or newest first', async () => {
      const stream = client.stream('r');
      expect(ids(await stream.range())).toEqual(['1000-0', '1000-1', '1000-2', '2000-0', '3000-0', '3000-5']);
      expect(ids(await stream.revRange())).toEqual(['3000-5', '3000-0', '2000-0', '1000-2', '1000-1', '1000-0']);
      expect((await stream.range())[0]!.data).toEqual({ n: 'a' });
    });

    it('completes incomplete ids by side', async () => {
      const stream = client.stream('r');
      expect(ids(await stream.range('1000', '1000'))).toEqual(['1000-0', '1000-1', '1000-2']);
      expect(ids(await stream.range('2000', '3000'))).toEqual(['2000-0', '3000-0', '3000-5']);
      expect(ids(await stream.revRange('3000', '2000'))).toEqual(['3000-5', '3000-0', '2000-0']);
    });

    it('excludes (id bounds', async () => {
      const stream = client.stream('r');
      expect(ids(await stream.range('(1000-1', '(3000-5'))).toEqual(['1000-2', '2000-0', '3000-0']);
      expect(ids(await stream.revRange('(3000-5', '(1000-1'))).toEqual(['3000-0', '2000-0', '1000-2']);
      expect(ids(await stream.range('(1000', '+'))).toEqual(['1000-1', '1000-2', '2000-0', '3000-0', '3000-5']);
    });

    it('limits with count', async () => {
      const stream = client.stream('r');
      expect(ids(await stream.range('-', '+', { count: 2 }))).toEqual(['1000-0', '1000-1']);
      expect(ids(await stream.revRange('+', '-', { count: 2 }))).toEqual(['3000-5', '3000-0']);
      await expect(stream.range('-', '+', { count: 0 })).rejects.toSatisfy(ConfigError.is);
    });

    it('takes Dates and ms as bounds', async () => {
      const stream = client.stream('r');
      expect(ids(await stream.range(new Date(1000), new Date(2000)))).toEqual(['1000-0', '1000-1', '1000-2', '2000-0']);
      expect(ids(await stream.range(2000, 3000))).toEqual(['2000-0', '3000-0', '3000-5']);
      expect(ids(await stream.revRange(new Date(1000), 0))).toEqual(['1000-2', '1000-1', '1000-0']);
    });

    it('returns [] for a missing stream and refuses bad bounds', async () => {
      expect(await client.stream('none').range()).toEqual([]);
      await expect(client.stream('r').range('x')).rejects.toSatisfy(InvalidStreamIdError.is);
      await expect(client.stream('r').revRange('+', '$')).rejects.toSatisfy(InvalidStreamIdError.is);
    });

    it('applies onInvalid to a foreign entry', async () => {
      const typed = client.stream('r', { schema: z.object({ n: z.enum(['a', 'b', 'd', 'e', 'f']) }) });
      const error = await typed.range().catch((e: unknown) => e);
      expect(DecodeError.is(error)).toBe(true);
      expect((error as DecodeError).entryId).toBe('1000-2');
      expect(ids(await typed.range('-', '+', { onInvalid: 'skip' }))).toEqual(['1000-0', '1000-1', '2000-0', '3000-0', '3000-5']);
    });
  });

  describe('iterate', () => {
    it('pages with COUNT and exclusive cursors, never one unbounded XRANGE', async () => {
      const stream = client.stream('pages');
      const added = await seed('pages', 23);
      const recorder = recordCommands(ctx.redis);
      let seen: Entry[];
      try {
        seen = await collect(stream.iterate({ pageSize: 5 }));
      } finally {
        recorder.stop();
      }
      expect(ids(seen)).toEqual(added);
      expect(recorder.names()).toEqual(['XRANGE', 'XRANGE', 'XRANGE', 'XRANGE', 'XRANGE']);
      expect(recorder.commands.map((command) => command.args.slice(1))).toEqual([
        ['-', '+', 'COUNT', '5'],
        ['(1004-0', '+', 'COUNT', '5'],
        ['(1009-0', '+', 'COUNT', '5'],
        ['(1014-0', '+', 'COUNT', '5'],
        ['(1019-0', '+', 'COUNT', '5'],
      ]);
    });

    it('ends on an exact multiple of the page size with one empty page', async () => {
      const stream = client.stream('exact-pages');
      const added = await seed('exact-pages', 10);
      const recorder = recordCommands(ctx.redis);
      try {
        expect(ids(await collect(stream.iterate({ pageSize: 5 })))).toEqual(added);
      } finally {
        recorder.stop();
      }
      expect(recorder.commands.map((command) => command.args[1])).toEqual(['-', '(1004-0', '(1009-0']);
    });

    it('walks newest first with reverse', async () => {
      const stream = client.stream('rev');
      const added = await seed('rev', 12);
      const recorder = recordCommands(ctx.redis);
      try {
        expect(ids(await collect(stream.iterate({ pageSize: 4, reverse: true })))).toEqual([...added].reverse());
      } finally {
        recorder.stop();
      }
      expect(recorder.commands.map((command) => [command.name, ...command.args.slice(1)])).toEqual([
        ['XREVRANGE', '+', '-', 'COUNT', '4'],
        ['XREVRANGE', '(1008-0', '-', 'COUNT', '4'],
        ['XREVRANGE', '(1004-0', '-', 'COUNT', '4'],
        ['XREVRANGE', '(1000-0', '-', 'COUNT', '4'],
      ]);
    });

    it('stays within from / to, inclusive, exclusive, incomplete or Dates', async () => {
      const stream = client.stream('bounded');
      await seed('bounded', 20); // 1000-0 .. 1019-0
      const range = (from: string | number | Date, to: string | number | Date, reverse = false) =>
        collect(stream.iterate({ from, to, pageSize: 3, reverse })).then(ids);
      expect(await range('1005', '1009')).toEqual(['1005-0', '1006-0', '1007-0', '1008-0', '1009-0']);
      expect(await range('(1005-0', '(1009-0')).toEqual(['1006-0', '1007-0', '1008-0']);
      expect(await range(new Date(1017), '+')).toEqual(['1017-0', '1018-0', '1019-0']);
      expect(await range('1005', '(1009-0', true)).toEqual(['1008-0', '1007-0', '1006-0', '1005-0']);
      expect(await range('1015', '1002')).toEqual([]);
    });

    it('stops paging when the consumer stops', async () => {
      const stream = client.stream('early');
      await seed('early', 50);
      const recorder = recordCommands(ctx.redis);
      const seen: string[] = [];
      try {
        for await (const entry of stream.iterate({ pageSize: 10 })) {
          seen.push(entry.id);
          if (seen.length === 12) break;
        }
      } finally {
        recorder.stop();
      }
      expect(seen).toHaveLength(12);
      expect(recorder.commands.length).toBeLessThanOrEqual(3); // the page in use and at most one ahead
    });

    describe('with a foreign entry that fails the schema', () => {
      const schema = z.object({ n: z.coerce.number().int() });
      beforeEach(async () => {
        await seed('foreign', 6);
        await ctx.redis.xadd(ctx.key('foreign'), '1010-0', 'n', 'not a number');
        await client.stream('foreign').addMany([{ n: '7' }, { n: '8' }], { ids: ['1011-0', '1012-0'] });
      });

      it("'throw' (the default) throws a DecodeError naming the entry after the good ones", async () => {
        const stream = client.stream('foreign', { schema });
        const seen: string[] = [];
        const error = await (async () => {
          for await (const entry of stream.iterate({ pageSize: 4 })) seen.push(entry.id);
        })().catch((e: unknown) => e);
        expect(DecodeError.is(error)).toBe(true);
        const decode = error as DecodeError;
        expect(decode.entryId).toBe('1010-0');
        expect(decode.stream).toBe(ctx.key('foreign'));
        expect(decode.issues[0]!.path).toEqual(['n']);
        expect(decode.fields).toEqual({ n: 'not a number' });
        expect(decode.message).toMatch(new RegExp(`^stream "${ctx.key('foreign')}" entry 1010-0: field "n": `));
        expect(seen).toEqual(['1000-0', '1001-0', '1002-0', '1003-0', '1004-0', '1005-0']);
      });

      it("'skip' goes on past it", async () => {
        const stream = client.stream('foreign', { schema });
        const seen = await collect(stream.iterate({ pageSize: 4, onInvalid: 'skip' }));
        expect(ids(seen)).toEqual(['1000-0', '1001-0', '1002-0', '1003-0', '1004-0', '1005-0', '1011-0', '1012-0']);
        expect(seen.at(-1)!.data).toEqual({ n: 8 });
      });

      it('a function sees the error and the iterator goes on', async () => {
        const stream = client.stream('foreign', { schema });
        const bad: DecodeError[] = [];
        const seen = await collect(stream.iterate({ pageSize: 4, onInvalid: (error) => bad.push(error) }));
        expect(seen).toHaveLength(8);
        expect(bad.map((error) => error.entryId)).toEqual(['1010-0']);
      });

      it("the stream's onInvalid is the default", async () => {
        const stream = client.stream('foreign', { schema, onInvalid: 'skip' });
        expect(await collect(stream.iterate())).toHaveLength(8);
        await expect(collect(stream.iterate({ onInvalid: 'throw' }))).rejects.toSatisfy(DecodeError.is);
      });
    });

    it('refuses a bad pageSize or bound on the first step, before any call', async () => {
      const stream = client.stream('it-bad');
      const recorder = recordCommands(ctx.redis);
      try {
        await expect(collect(stream.iterate({ pageSize: 0 }))).rejects.toSatisfy(ConfigError.is);
        await expect(collect(stream.iterate({ from: 'x' }))).rejects.toSatisfy(InvalidStreamIdError.is);
      } finally {
        recorder.stop();
      }
      expect(recorder.commands).toEqual([]);
    });
  });

  describe('delete / trim / length', () => {
    it('deletes leaving gaps and counts what existed', async () => {
      const stream = client.stream('del');
      await seed('del', 5);
      expect(await stream.delete('1001-0', '1003-0', '1999-0')).toBe(2);
      expect(ids(await stream.range())).toEqual(['1000-0', '1002-0', '1004-0']);
      expect(ids(await stream.range('1001', '1003'))).toEqual(['1002-0']);
      expect(await stream.length()).toBe(3);
      expect(await stream.delete()).toBe(0);
      const info = await stream.info();
      expect(info.maxDeletedEntryId).toBe('1003-0');
      expect(info.entriesAdded).toBe(5);
      const recorder = recordCommands(ctx.redis);
      try {
        await expect(stream.delete('1002-0', 'bad')).rejects.toSatisfy(InvalidStreamIdError.is);
        await expect(stream.delete('1002')).rejects.toSatisfy(InvalidStreamIdError.is);
      } finally {
        recorder.stop();
      }
      expect(recorder.commands).toEqual([]);
      expect(await stream.length()).toBe(3);
    });

    it('trims by maxLen and minId and returns the count', async () => {
      const stream = client.stream('trim');
      await seed('trim', 10);
      expect(await stream.trim({ maxLen: 7 })).toBe(3);
      expect((await stream.range())[0]!.id).toBe('1003-0');
      expect(await stream.trim({ minId: '1005' })).toBe(2);
      expect(await stream.trim({ minId: new Date(1006) })).toBe(1);
      expect(await stream.trim({ maxLen: 100 })).toBe(0);
      expect(await stream.length()).toBe(4);
      await seed('trim2', 300);
      const removed = await client.stream('trim2').trim({ maxLen: 10, approximate: true, limit: 100 });
      expect(removed).toBeGreaterThan(0);
      expect(removed).toBeLessThanOrEqual(100);
      await expect(stream.trim({})).rejects.toSatisfy(ConfigError.is);
      await expect(stream.trim({ maxLen: 1, minId: '1' })).rejects.toSatisfy(ConfigError.is);
      expect(await client.stream('missing').trim({ maxLen: 1 })).toBe(0);
    });

    it('length, exists, lastId and destroy', async () => {
      const stream = client.stream('len');
      expect(await stream.length()).toBe(0);
      expect(await stream.lastId()).toBe('0-0');
      await seed('len', 3);
      expect(await stream.length()).toBe(3);
      expect(await stream.exists()).toBe(true);
      expect(await stream.lastId()).toBe('1002-0');
      expect(await stream.destroy()).toBe(true);
      expect(await stream.exists()).toBe(false);
      expect(await stream.destroy()).toBe(false);
    });
  });

  describe('info / groups / consumers', () => {
    it('info() is typed XINFO STREAM with decoded first and last entries', async () => {
      const orders = client.stream('info', { schema: order });
      const [first] = await orders.addMany([
        { order_id: 'a', amount: 1 },
        { order_id: 'b', amount: 2 },
        { order_id: 'c', amount: 3 },
      ]);
      const last = await orders.add({ order_id: 'd', amount: 4, status: 'paid' });
      await orders.delete(first!);
      await ctx.redis.xgroup('CREATE', ctx.key('info'), 'billing', '0');
      const info = await orders.info();
      expect(info.length).toBe(3);
      expect(info.lastGeneratedId).toBe(last);
      expect(info.maxDeletedEntryId).toBe(first);
      expect(info.entriesAdded).toBe(4);
      expect(info.recordedFirstEntryId).toBe((await orders.range())[0]!.id);
      expect(info.groupCount).toBe(1);
      expect(info.firstEntry!.data).toEqual({ order_id: 'b', amount: 2, status: 'new' });
      expect(info.lastEntry).toEqual({ id: last, data: { order_id: 'd', amount: 4, status: 'paid' } });
      expect(info.radixTreeKeys).toBeGreaterThan(0);
      expect(info.radixTreeNodes).toBeGreaterThan(0);
    });

    it('info() of an empty stream has no entries; of a missing one it is a RedisCommandError', async () => {
      const stream = client.stream('info-empty');
      await stream.add({ a: '1' }, { id: '5-0' });
      await stream.delete('5-0');
      const info = await stream.info();
      expect(info.length).toBe(0);
      expect(info.firstEntry).toBeNull();
      expect(info.lastEntry).toBeNull();
      expect(info.lastGeneratedId).toBe('5-0');
      const error = await client.stream('info-missing').info().catch((e: unknown) => e);
      expect(RedisCommandError.is(error)).toBe(true);
      expect((error as RedisCommandError).command).toBe('XINFO STREAM');
      expect((error as RedisCommandError).stream).toBe(ctx.key('info-missing'));
    });

    it('info({ full: true }) lists entries, groups, their pending entries and consumers', async () => {
      const stream = client.stream('full', { schema: z.object({ n: z.coerce.number() }) });
      await seed('full', 5);
      const key = ctx.key('full');
      await ctx.redis.xgroup('CREATE', key, 'g', '0');
      await ctx.redis.xreadgroup('GROUP', 'g', 'alice', 'COUNT', 2, 'STREAMS', key, '>');
      await ctx.redis.xack(key, 'g', '1000-0');
      const full = await stream.info({ full: true, count: 3 });
      expect(full.length).toBe(5);
      expect(full.entries).toEqual([
        { id: '1000-0', data: { n: 0 } },
        { id: '1001-0', data: { n: 1 } },
        { id: '1002-0', data: { n: 2 } },
      ]);
      expect(full.groups).toHaveLength(1);
      const group = full.groups[0]!;
      expect(group).toMatchObject({ name: 'g', lastDeliveredId: '1001-0', entriesRead: 2, lag: 3, pelCount: 1 });
      expect(group.pending).toEqual([{ id: '1001-0', consumer: 'alice', deliveryTime: expect.any(Number), deliveryCount: 1 }]);
      expect(group.consumers).toEqual([
        { name: 'alice', seenTime: expect.any(Number), pelCount: 1, pending: [{ id: '1001-0', deliveryTime: expect.any(Number), deliveryCount: 1 }] },
      ]);
      expect((await stream.info({ full: true })).entries).toHaveLength(5);
    });

    it('groups() and consumers() are typed XINFO GROUPS / CONSUMERS', async () => {
      const stream = client.stream('groups');
      await seed('groups', 6);
      const key = ctx.key('groups');
      expect(await stream.groups()).toEqual([]);
      await ctx.redis.xgroup('CREATE', key, 'billing', '0');
      await ctx.redis.xgroup('CREATE', key, 'shipping', '$');
      await ctx.redis.xreadgroup('GROUP', 'billing', 'alice', 'COUNT', 2, 'STREAMS', key, '>');
      await ctx.redis.xreadgroup('GROUP', 'billing', 'bob', 'COUNT', 1, 'STREAMS', key, '>');
      await ctx.redis.xack(key, 'billing', '1000-0');
      const groups = await stream.groups();
      expect(groups).toEqual([
        { name: 'billing', consumers: 2, pending: 2, lastDeliveredId: '1002-0', entriesRead: 3, lag: 3 },
        // created at '$' and never read: Redis does not count entries read yet
        { name: 'shipping', consumers: 0, pending: 0, lastDeliveredId: '1005-0', entriesRead: null, lag: 0 },
      ]);
      const consumers = await stream.consumers('billing');
      expect(consumers.map(({ name, pending }) => ({ name, pending }))).toEqual([
        { name: 'alice', pending: 1 },
        { name: 'bob', pending: 1 },
      ]);
      for (const consumer of consumers) {
        expect(consumer.idleMs).toBeGreaterThanOrEqual(0);
        expect(consumer.inactiveMs === null || consumer.inactiveMs >= 0).toBe(true);
      }
      expect(await stream.consumers('shipping')).toEqual([]);
      await expect(stream.consumers('nope')).rejects.toSatisfy(RedisCommandError.is);
    });

    it('groups() reports lag as null when Redis cannot tell', async () => {
      const stream = client.stream('lagless');
      await seed('lagless', 5);
      const key = ctx.key('lagless');
      await ctx.redis.xgroup('CREATE', key, 'g', '0');
      await ctx.redis.xreadgroup('GROUP', 'g', 'c', 'COUNT', 1, 'STREAMS', key, '>');
      await stream.delete('1002-0'); // a deletion past the group's position
      expect((await stream.groups())[0]!.lag).toBeNull();
    });
  });
});
