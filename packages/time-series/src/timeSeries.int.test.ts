import { createStreamClient, ValidationError, type StreamClient } from '@streamkit/core';
import { redisTargets, useRedis } from '@streamkit/testing';
import { describe, expect, it } from 'vitest';
import { AGGREGATIONS, createTimeSeries, OutOfOrderError, type Aggregation, type RangeOptions, type TimeSeries } from './index.js';
import { diffSamples, random, referenceRange, type Point } from './test/reference.js';

const T0 = 1_700_000_000_000;

/** Random multi-field samples: increasing times with same-millisecond repeats, gaps and bursts. */
function randomPoints(seed: number, count: number): Point[] {
  const rnd = random(seed);
  const points: Point[] = [];
  let t = T0 + Math.floor(rnd() * 100_000);
  for (let i = 0; i < count; i++) {
    const r = rnd();
    t += r < 0.08 ? 0 : r < 0.95 ? 1 + Math.floor(rnd() * 3_000) : 30_000 + Math.floor(rnd() * 200_000);
    points.push({ ts: t, v: [Math.round((rnd() * 2_000 - 1_000) * 1_000) / 1_000, Math.floor(rnd() * 100)] });
  }
  return points;
}

async function ingest(series: TimeSeries, points: readonly Point[], seed: number): Promise<void> {
  const rnd = random(seed);
  let i = 0;
  while (i < points.length) {
    if (rnd() < 0.1) {
      const p = points[i++]!;
      await series.add({ a: p.v[0]!, b: p.v[1]! }, { timestamp: p.ts });
      continue;
    }
    const size = 1 + Math.floor(rnd() * 400);
    const batch = points.slice(i, i + size);
    i += batch.length;
    await series.addMany(batch.map((p) => ({ timestamp: p.ts, value: { a: p.v[0]!, b: p.v[1]! } })));
  }
}

describe.each(redisTargets())('time series on %s', (target) => {
  const ctx = useRedis(target);
  const clientOf = (): StreamClient => createStreamClient({ redis: ctx.redis, prefix: ctx.prefix });

  it('stores samples with <ms>-* ids, so same-millisecond samples all survive', async () => {
    const cpu = createTimeSeries({ client: clientOf(), name: 'cpu' });
    const ids = [await cpu.add(1, { timestamp: 5_000 }), await cpu.add(2, { timestamp: 5_000 })];
    ids.push(...(await cpu.addMany([{ timestamp: 5_000, value: 3 }, { timestamp: new Date(5_001), value: 4.25 }])));
    expect(ids).toEqual(['5000-0', '5000-1', '5000-2', '5001-0']);
    expect(await ctx.redis.xlen(cpu.keys.raw)).toBe(4);
    expect((await cpu.latest(3)).map((s) => [s.timestamp, s.value])).toEqual([
      [5_000, 2],
      [5_000, 3],
      [5_001, 4.25],
    ]);
    expect(await cpu.get()).toEqual({ timestamp: 5_001, value: 4.25, values: { value: 4.25 } });
    expect((await cpu.range(5_000, 5_000)).map((s) => s.value)).toEqual([1, 2, 3]);
    expect((await cpu.revRange('-', '+', { count: 2 })).map((s) => s.value)).toEqual([4.25, 3]);
    expect(await cpu.range(5_000, 5_001, { aggregation: 'count', bucketMs: 10 })).toEqual([{ timestamp: 5_000, value: 4, values: { value: 4 } }]);
  });

  it('refuses bad samples before anything reaches Redis, naming the series, entry and field', async () => {
    const load = createTimeSeries({ client: clientOf(), name: 'load', fields: ['user', 'system'] });
    const bad: [unknown, RegExp][] = [
      [[{ timestamp: 1, value: { user: 1, system: 2 } }, { timestamp: 2, value: { user: 1 } }], /entry #1: field "system": expected a finite number/],
      [[{ timestamp: 1, value: { user: 1, system: Number.NaN } }], /entry #0: field "system": expected a finite number, got NaN|null/],
      [[{ timestamp: 1, value: { user: 1, system: 2, idle: 3 } }], /field "idle": unknown field/],
      [[{ timestamp: 1, value: 5 }], /expected a record of user, system/],
      [[{ timestamp: -1, value: { user: 1, system: 2 } }], /field "timestamp": expected a non-negative integer/],
      [[{ timestamp: 1.5, value: { user: 1, system: 2 } }], /field "timestamp"/],
    ];
    for (const [points, message] of bad) {
      const error = await load.addMany(points as never).catch((e: unknown) => e);
      expect(ValidationError.is(error), String(error)).toBe(true);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toContain(load.keys.raw);
    }
    expect(await ctx.redis.exists(load.keys.raw, load.keys.meta)).toBe(0);
    expect(() => createTimeSeries({ client: clientOf(), name: 'a{b}' })).toThrow(/without "\{"/);
    expect(() => createTimeSeries({ client: clientOf(), name: 'x', rollups: [{ bucketMs: 0 }] })).toThrow(/bucketMs must be a positive integer/);
    expect(() => createTimeSeries({ client: clientOf(), name: 'x', outOfOrder: 'keep' as never })).toThrow(/outOfOrder must be/);
    await expect(load.range(0, 10, { aggregation: 'median' as never, bucketMs: 5 })).rejects.toThrow(/unknown aggregation "median"/);
    await expect(load.range(0, 10, { aggregation: 'avg' })).rejects.toThrow(/bucketMs/);
  });

  it("rejects out-of-order samples by default with a clear error, writing nothing of the batch", async () => {
    const temp = createTimeSeries({ client: clientOf(), name: 'temp', rollups: [{ bucketMs: 1_000 }] });
    await temp.addMany([{ timestamp: 10_000, value: 1 }, { timestamp: 11_000, value: 2 }]);
    const error = await temp.addMany([{ timestamp: 12_000, value: 3 }, { timestamp: 10_500, value: 4 }]).catch((e: unknown) => e);
    expect(OutOfOrderError.is(error)).toBe(true);
    expect(error).toMatchObject({ code: 'OUT_OF_ORDER', series: 'temp', index: 1, timestamp: 10_500, lastTimestamp: 12_000 });
    expect((error as Error).message).toMatch(/time series "temp" sample #1: timestamp 10500 is older than 12000.*nothing was written/);
    await expect(temp.add(5, { timestamp: 9_999 })).rejects.toMatchObject({ code: 'OUT_OF_ORDER', index: 0, lastTimestamp: 11_000 });
    expect((await temp.range()).map((s) => s.value)).toEqual([1, 2]);
    expect(await temp.range('-', '+', { aggregation: 'sum', bucketMs: 1_000 })).toMatchObject([{ value: 1 }, { value: 2 }]);
  });

  it("drops or clamps late samples with the 'drop' and 'clamp' policies", async () => {
    const dropped = createTimeSeries({ client: clientOf(), name: 'dropped', outOfOrder: 'drop', rollups: [{ bucketMs: 1_000 }] });
    const ids = await dropped.addMany([
      { timestamp: 10_000, value: 1 },
      { timestamp: 9_000, value: 2 },
      { timestamp: 10_000, value: 3 },
      { timestamp: 12_000, value: 4 },
      { timestamp: 11_999, value: 5 },
    ]);
    expect(ids).toEqual(['10000-0', null, '10000-1', '12000-0', null]);
    expect(await dropped.add(6, { timestamp: 1 })).toBeNull();
    expect((await dropped.range()).map((s) => [s.timestamp, s.value])).toEqual([
      [10_000, 1],
      [10_000, 3],
      [12_000, 4],
    ]);
    expect((await dropped.range('-', '+', { aggregation: 'count', bucketMs: 1_000 })).map((s) => s.value)).toEqual([2, 1]);

    const clamped = createTimeSeries({ client: clientOf(), name: 'clamped', outOfOrder: 'clamp', rollups: [{ bucketMs: 1_000 }] });
    expect(await clamped.addMany([{ timestamp: 10_000, value: 1 }, { timestamp: 9_000, value: 2 }])).toEqual(['10000-0', '10000-1']);
    expect(await clamped.add(3, { timestamp: 5 })).toBe('10000-2');
    expect((await clamped.range()).map((s) => [s.timestamp, s.value])).toEqual([
      [10_000, 1],
      [10_000, 2],
      [10_000, 3],
    ]);
    expect(await clamped.range('-', '+', { aggregation: 'sum', bucketMs: 1_000 })).toMatchObject([{ timestamp: 10_000, value: 6 }]);
  });

  describe('aggregated ranges against a reference computed from the samples', () => {
    const fields = ['a', 'b'];
    const points = randomPoints(7, 2_500);
    const first = points[0]!.ts;
    const last = points[points.length - 1]!.ts;
    const rnd = random(99);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;
    const timeIn = () => first - 5_000 + Math.floor(rnd() * (last - first + 10_000));
    const buckets = [1_000, 7_000, 10_000, 60_000, 120_000, 300_000, 3_600_000];
    const aligns: RangeOptions['align'][] = [undefined, 'start', 'end', 5_000, 20_000, 60_000];

    const check = async (series: TimeSeries, from: number | '-', to: number | '+', options: RangeOptions, reverse: boolean) => {
      if ((options.align === 'start' && from === '-') || (options.align === 'end' && to === '+')) return;
      const actual = reverse ? await series.revRange(from, to, options) : await series.range(from, to, options);
      const expected = referenceRange(points, fields, from, to, options, reverse);
      const diff = diffSamples(actual, expected);
      expect(diff, `${series.name} ${reverse ? 'revRange' : 'range'}(${from}, ${to}, ${JSON.stringify(options)})`).toBeUndefined();
    };

    for (const withRollups of [true, false]) {
      it(`every aggregation, bucket, alignment, empty and bucketTimestamp ${withRollups ? 'with' : 'without'} rollups`, async () => {
        const series = createTimeSeries({
          client: clientOf(),
          name: withRollups ? 'rolled' : 'plain',
          fields,
          rollups: withRollups ? [{ bucketMs: 10_000 }, { bucketMs: 60_000 }, { bucketMs: 3_600_000 }] : [],
        });
        await ingest(series, points, 3);
        expect(await ctx.redis.xlen(series.keys.raw)).toBe(points.length);
        for (const aggregation of AGGREGATIONS as readonly Aggregation[]) {
          for (const bucketMs of buckets) {
            const from = rnd() < 0.2 ? '-' : timeIn();
            const to = rnd() < 0.2 ? '+' : timeIn();
            const options: RangeOptions = {
              aggregation,
              bucketMs,
              align: pick(aligns),
              empty: bucketMs >= 10_000 && rnd() < 0.5,
              bucketTimestamp: pick(['start', 'mid', 'end'] as const),
            };
            await check(series, from, to, options, rnd() < 0.3);
          }
        }
        for (const align of aligns) {
          for (const bucketTimestamp of ['start', 'mid', 'end'] as const) {
            for (const empty of [false, true]) {
              for (const aggregation of ['avg', 'last', 'sum', 'p90'] as const) {
                await check(series, first + 12_345, last - 6_789, { aggregation, bucketMs: 60_000, align, bucketTimestamp, empty }, false);
              }
            }
          }
        }
        // the whole series, the edge cases of the bounds, counts and value filters
        await check(series, '-', '+', { aggregation: 'avg', bucketMs: 60_000 }, false);
        await check(series, '-', '+', { aggregation: 'std.s', bucketMs: 3_600_000, empty: true }, true);
        await check(series, first, first, { aggregation: 'count', bucketMs: 10_000 }, false);
        await check(series, last, '+', { aggregation: 'max', bucketMs: 60_000 }, false);
        await check(series, '-', '+', { aggregation: 'sum', bucketMs: 60_000, count: 5 }, true);
        await check(series, '-', '+', { aggregation: 'avg', bucketMs: 60_000, filterByValue: { min: -200, max: 300 } }, false);
        await check(series, '-', '+', { aggregation: 'max', bucketMs: 10_000, filterByValue: { min: 50, field: 'b' } }, false);
        await check(series, timeIn(), timeIn(), {}, false);
        await check(series, '-', '+', { count: 17 }, true);
        await check(series, '-', '+', { filterByValue: { max: 0 }, count: 100 }, false);
      });
    }
  });
});
