import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createStreamClient, type StreamClient } from '@streamkit/core';
import { closeTestClient, createTestRedis, redisTargets, startRedis, useRedis } from '@streamkit/testing';
import { describe, expect, it } from 'vitest';
import { createTimeSeries, type TimeSeries } from './index.js';
import { diffSamples, random, referenceRange, type Point } from './test/reference.js';

const T0 = 1_700_000_000_000;
type RawEntry = [string, string[]];

/** Every raw sample of a series, read back from Redis. */
async function rawPoints(series: TimeSeries, fields: readonly string[]): Promise<Point[]> {
  const samples = await series.range();
  return samples.map((s) => ({ ts: s.timestamp, v: fields.map((f) => s.values[f]!) }));
}

/** The closed buckets and open buckets of every level, as stored. */
async function rollupState(series: TimeSeries, redis: StreamClient['redis']) {
  const levels = await Promise.all(series.rollups.map((r) => redis.xrange(series.keys.level(r.bucketMs), '-', '+') as Promise<RawEntry[]>));
  const meta = await redis.hgetall(series.keys.meta);
  const open = Object.fromEntries(Object.entries(meta).filter(([k]) => k.startsWith('o:')));
  return { levels, open };
}

/** Checks every rollup level's bucket counts and sums against the raw samples. */
async function expectRollupsMatchRaw(series: TimeSeries, redis: StreamClient['redis'], fields: readonly string[]) {
  const points = await rawPoints(series, fields);
  for (const { bucketMs } of series.rollups) {
    const entries = (await redis.xrange(series.keys.level(bucketMs), '-', '+')) as RawEntry[];
    const counts = new Map<number, number>();
    for (const p of points) counts.set(p.ts - (p.ts % bucketMs), (counts.get(p.ts - (p.ts % bucketMs)) ?? 0) + 1);
    const closed = [...counts.keys()].sort((a, b) => a - b).slice(0, -1);
    expect(entries.map(([id]) => Number(id.split('-')[0]))).toEqual(closed);
    for (const [id, flat] of entries) expect(Number(flat[1]!.split(' ')[0]), `level ${bucketMs} bucket ${id}`).toBe(counts.get(Number(id.split('-')[0])));
    for (const aggregation of ['count', 'sum', 'min', 'max', 'first', 'last', 'std.p'] as const) {
      const options = { aggregation, bucketMs };
      expect(diffSamples(await series.range('-', '+', options), referenceRange(points, fields, '-', '+', options)), `${aggregation}/${bucketMs}`).toBeUndefined();
    }
  }
  return points;
}

describe.each(redisTargets())('rollups on %s', (target) => {
  const ctx = useRedis(target);
  const clientOf = (): StreamClient => createStreamClient({ redis: ctx.redis, prefix: ctx.prefix });

  it('keeps raw samples and each rollup level for their own retention', async () => {
    const series = createTimeSeries({
      client: clientOf(),
      name: 'kept',
      retentionMs: 600_000,
      rollups: [
        { bucketMs: 10_000, retentionMs: 1_800_000 },
        { bucketMs: 60_000, retentionMs: 7_200_000 },
      ],
    });
    const rnd = random(5);
    const points: Point[] = [];
    for (let i = 0; i < 3 * 3_600; i++) points.push({ ts: T0 + i * 1_000, v: [Math.round(rnd() * 10_000) / 100] });
    for (let i = 0; i < points.length; i += 1_000) {
      await series.addMany(points.slice(i, i + 1_000).map((p) => ({ timestamp: p.ts, value: p.v[0]! })));
    }
    const last = points[points.length - 1]!.ts;
    // Storage is trimmed approximately (MINID ~, whole radix-tree nodes) ...
    const rawLength = await ctx.redis.xlen(series.keys.raw);
    expect(rawLength).toBeGreaterThanOrEqual(600);
    expect(rawLength).toBeLessThan(points.length / 2);
    const level10 = await ctx.redis.xlen(series.keys.level(10_000));
    expect(level10).toBeGreaterThanOrEqual(179);
    expect(level10).toBeLessThan(points.length / 10 / 2);
    const level60 = await ctx.redis.xlen(series.keys.level(60_000));
    expect(level60).toBeGreaterThanOrEqual(120);
    expect(level60).toBeLessThan(3 * 60);
    // ... and queries see exactly what the retention keeps.
    const raw = await series.range();
    expect(raw[0]!.timestamp).toBe(last - 600_000);
    expect(raw).toHaveLength(601);
    const visible10 = Math.floor(last / 10_000) * 10_000 - 1_800_000;
    const visible60 = Math.floor(last / 60_000) * 60_000 - 7_200_000;
    for (const [bucketMs, visibleFrom] of [
      [10_000, visible10],
      [60_000, visible60],
      [120_000, visible60],
      [7_000, last - 600_000],
    ] as const) {
      const options = { aggregation: 'avg', bucketMs } as const;
      const actual = await series.range('-', '+', options);
      expect(diffSamples(actual, referenceRange(points, ['value'], '-', '+', options, false, visibleFrom)), String(bucketMs)).toBeUndefined();
    }
    // Older than the 60 s level keeps: nothing.
    expect(await series.range(T0, visible60 - 1, { aggregation: 'avg', bucketMs: 60_000 })).toEqual([]);
    const info = await series.info();
    expect(info).toMatchObject({ name: 'kept', samples: rawLength, lastTimestamp: last, retentionMs: 600_000 });
    expect(info.rollups.map((r) => [r.bucketMs, r.buckets])).toEqual([
      [10_000, level10 + 1],
      [60_000, level60 + 1],
    ]);
    expect(info.memoryBytes).toBeGreaterThan(0);
  });

  it('answers from the coarsest rollup whose bucket divides the asked one, with raw data for the edges', async () => {
    const series = createTimeSeries({ client: clientOf(), name: 'planned', rollups: [{ bucketMs: 10_000 }, { bucketMs: 60_000 }, { bucketMs: 3_600_000 }] });
    const points: Point[] = [];
    for (let i = 0; i < 3 * 3_600; i++) points.push({ ts: T0 + i * 1_000, v: [i % 17] });
    await series.addMany(points.map((p) => ({ timestamp: p.ts, value: p.v[0]! })));
    const from = T0 + 1_234;
    const to = T0 + 3 * 3_600_000 - 4_321;
    const plan = await series.explain(from, to, { aggregation: 'avg', bucketMs: 120_000 });
    // T0 is 20 s past a minute: raw to the first 10 s boundary, the 10 s level to the first minute,
    // the minute level for the middle, then the 10 s level and raw again at the end.
    expect(plan).toEqual([
      { source: 'raw', from, to: T0 + 10_000 },
      { source: 'rollup', bucketMs: 10_000, from: T0 + 10_000, to: T0 + 40_000 },
      { source: 'rollup', bucketMs: 60_000, from: T0 + 40_000, to: T0 + 40_000 + 179 * 60_000 },
      { source: 'rollup', bucketMs: 10_000, from: T0 + 40_000 + 179 * 60_000, to: T0 + 10_790_000 },
      { source: 'raw', from: T0 + 10_790_000, to: to + 1 },
    ]);
    // Segments tile [from, to] without gaps or overlaps, and each rollup segment is on its level's boundaries.
    expect(plan[0]!.from).toBe(from);
    expect(plan[plan.length - 1]!.to).toBe(to + 1);
    for (let i = 1; i < plan.length; i++) expect(plan[i]!.from).toBe(plan[i - 1]!.to);
    for (const s of plan) if (s.source === 'rollup') expect([s.from % s.bucketMs, s.to % s.bucketMs]).toEqual([0, 0]);
    const hourly = await series.explain('-', '+', { aggregation: 'sum', bucketMs: 7_200_000 });
    expect(hourly.some((s) => s.source === 'rollup' && s.bucketMs === 3_600_000)).toBe(true);
    const end = points[points.length - 1]!.ts + 1;
    expect(await series.explain('-', '+', { aggregation: 'sum', bucketMs: 7_000 })).toEqual([{ source: 'raw', from: 0, to: end }]);
    // With '+', the minute level's open bucket (kept beside the raw samples) answers the last minute.
    const whole = await series.explain(T0 + 40_000, '+', { aggregation: 'sum', bucketMs: 60_000 });
    expect(whole).toEqual([{ source: 'rollup', bucketMs: 60_000, from: T0 + 40_000, to: Math.ceil(end / 60_000) * 60_000 }]);
    expect(await series.explain('-', '+', { aggregation: 'p99', bucketMs: 60_000 })).toEqual([{ source: 'raw', from: 0, to: end }]);
    const options = { aggregation: 'avg', bucketMs: 120_000 } as const;
    expect(diffSamples(await series.range(from, to, options), referenceRange(points, ['value'], from, to, options))).toBeUndefined();
  });

  it('rebuilds rollups from raw data, repairing damaged levels', async () => {
    const fields = ['a', 'b'];
    const series = createTimeSeries({ client: clientOf(), name: 'repair', fields, rollups: [{ bucketMs: 1_000 }, { bucketMs: 60_000 }] });
    const rnd = random(8);
    let t = T0;
    const points: { timestamp: number; value: { a: number; b: number } }[] = [];
    for (let i = 0; i < 6_000; i++) {
      t += Math.floor(rnd() * 900);
      points.push({ timestamp: t, value: { a: Math.round(rnd() * 1e5) / 100, b: Math.floor(rnd() * 7) } });
    }
    await series.addMany(points);
    const before = await rollupState(series, ctx.redis);
    expect(before.levels[0]!.length).toBeGreaterThan(1_000);

    // Damage: a lost bucket, an edited bucket, a lost open bucket.
    const [lostId] = before.levels[0]![100]!;
    const [editedId, editedFields] = before.levels[1]![3]!;
    await ctx.redis.xdel(series.keys.level(1_000), lostId);
    await ctx.redis.xdel(series.keys.level(60_000), editedId);
    await ctx.redis.hdel(series.keys.meta, 'o:60000');
    expect(editedFields[0]).toBe('p');

    const result = await series.rebuildRollups();
    expect(result.samples).toBe(points.length);
    expect(await rollupState(series, ctx.redis)).toEqual(before);
    await expectRollupsMatchRaw(series, ctx.redis, fields);
  });

  it('rebuilds only what raw data still covers once raw samples were trimmed', async () => {
    const series = createTimeSeries({ client: clientOf(), name: 'partial', retentionMs: 300_000, rollups: [{ bucketMs: 60_000 }] });
    const points: Point[] = [];
    for (let i = 0; i < 3_600; i++) points.push({ ts: T0 + i * 1_000 + (i % 7), v: [i % 13] });
    await series.addMany(points.map((p) => ({ timestamp: p.ts, value: p.v[0]! })));
    const options = { aggregation: 'sum', bucketMs: 60_000 } as const;
    const expected = referenceRange(points, ['value'], '-', '+', options);
    expect(diffSamples(await series.range('-', '+', options), expected)).toBeUndefined();
    const oldest = (await ctx.redis.xrange(series.keys.raw, '-', '+', 'COUNT', 1)) as RawEntry[];
    expect(Number(oldest[0]![0].split('-')[0])).toBeGreaterThan(T0 + 60_000);
    await series.rebuildRollups();
    expect(diffSamples(await series.range('-', '+', options), expected)).toBeUndefined();
  });

  it('rebuilds when a rollup level is added to an existing series', async () => {
    const points: Point[] = [];
    for (let i = 0; i < 2_000; i++) points.push({ ts: T0 + i * 500, v: [(i * 37) % 101] });
    const v1 = createTimeSeries({ client: clientOf(), name: 'grown', rollups: [{ bucketMs: 10_000 }] });
    await v1.addMany(points.slice(0, 1_500).map((p) => ({ timestamp: p.ts, value: p.v[0]! })));
    const v2 = createTimeSeries({ client: clientOf(), name: 'grown', rollups: [{ bucketMs: 10_000 }, { bucketMs: 60_000 }] });
    await v2.addMany(points.slice(1_500).map((p) => ({ timestamp: p.ts, value: p.v[0]! })));
    await expectRollupsMatchRaw(v2, ctx.redis, ['value']);
    await expect(createTimeSeries({ client: clientOf(), name: 'grown', fields: ['x'] }).add({ x: 1 })).rejects.toThrow(
      /exists with fields \["value"\], not \["x"\]/,
    );
  });

  it('stays correct with several writers at once (each batch is one atomic script)', async () => {
    const fields = ['a', 'b'];
    const connections = [target.connect(), target.connect(), target.connect()];
    try {
      const writers = connections.map((redis, w) =>
        createTimeSeries({
          client: createStreamClient({ redis, prefix: ctx.prefix }),
          name: 'shared',
          fields,
          rollups: [{ bucketMs: 100 }, { bucketMs: 1_000 }],
          outOfOrder: w === 2 ? 'drop' : 'clamp',
        }),
      );
      await Promise.all(
        writers.map(async (series, w) => {
          const rnd = random(w + 1);
          for (let batch = 0; batch < 25; batch++) {
            const points = [];
            for (let i = 0; i < 100; i++) {
              const ts = T0 + batch * 1_000 + i * 10 + Math.floor(rnd() * 10);
              points.push({ timestamp: ts, value: { a: w * 1_000 + batch, b: i } });
            }
            await series.addMany(points);
          }
        }),
      );
      const points = await expectRollupsMatchRaw(writers[0]!, ctx.redis, fields);
      expect(points.length).toBeGreaterThan(5_000);
      expect(await writers[1]!.rebuildRollups()).toMatchObject({ samples: points.length });
      await expectRollupsMatchRaw(writers[1]!, ctx.redis, fields);
    } finally {
      await Promise.all(connections.map((c) => closeTestClient(c)));
    }
  });

  it('a writer SIGKILLed mid-batch leaves rollups that match raw data, and a rebuild agrees', async () => {
    const fields = ['a', 'b'];
    const address = target.name === 'cluster' ? JSON.stringify(target.startupNodes) : target.url!;
    const child = spawn(
      process.execPath,
      ['--conditions=@streamkit/source', '--import', 'tsx', fileURLToPath(new URL('./test/writer.ts', import.meta.url)), target.name, address, ctx.prefix, 'crash'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    let errors = '';
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    const exited = once(child, 'exit');
    // Kill while the third batch (25,000 samples, sent as three scripts) is on its way.
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('sending 2')) setTimeout(resolve, 5);
      });
      child.once('exit', (code) => reject(new Error(`writer exited early (${code}): ${errors}`)));
    });
    child.kill('SIGKILL');
    await exited;
    expect(output).toContain('written 1');

    const series = createTimeSeries({ client: clientOf(), name: 'crash', fields, rollups: [{ bucketMs: 1_000 }, { bucketMs: 60_000 }] });
    const points = await expectRollupsMatchRaw(series, ctx.redis, fields);
    expect(points.length).toBeGreaterThanOrEqual(50_000);
    // Each script call (10,000 samples at most) is all or nothing: the total is a sum of whole chunks.
    expect([0, 10_000, 20_000]).toContain(points.length % 25_000);
    const before = await rollupState(series, ctx.redis);
    expect(await series.rebuildRollups()).toMatchObject({ samples: points.length });
    expect(await rollupState(series, ctx.redis)).toEqual(before);
  });

  it('closes the bucket at the epoch (timestamps below one bucket) like any other', async () => {
    const series = createTimeSeries({ client: clientOf(), name: 'epoch', rollups: [{ bucketMs: 1_000 }, { bucketMs: 10_000 }] });
    await series.add(1, { timestamp: 0 });
    await series.add(2, { timestamp: 5 });
    await series.addMany([
      { timestamp: 1_500, value: 3 },
      { timestamp: 12_000, value: 4 },
    ]);
    await series.add(5, { timestamp: 12_001 });
    expect(await ctx.redis.xlen(series.keys.raw)).toBe(5);
    await expectRollupsMatchRaw(series, ctx.redis, ['value']);
    expect(await series.range(0, '+', { aggregation: 'sum', bucketMs: 10_000 })).toEqual([
      { timestamp: 0, value: 6, values: { value: 6 } },
      { timestamp: 10_000, value: 9, values: { value: 9 } },
    ]);
    const before = await rollupState(series, ctx.redis);
    await series.rebuildRollups();
    expect(await rollupState(series, ctx.redis)).toEqual(before);
  });
});

describe('rollups after a Redis crash', () => {
  it('a SIGKILLed append-only server comes back with rollups that match its raw data', async () => {
    const server = await startRedis({ appendOnly: true });
    const redis = createTestRedis(server.url, { maxRetriesPerRequest: 1 });
    redis.on('error', () => undefined);
    try {
      const fields = ['a', 'b'];
      const client = createStreamClient({ redis, prefix: 'crash:' });
      const series = createTimeSeries({ client, name: 'aof', fields, rollups: [{ bucketMs: 1_000 }, { bucketMs: 60_000 }] });
      const rnd = random(21);
      let t = T0;
      let written = 0;
      const writer = (async () => {
        for (let batch = 0; batch < 1_000; batch++) {
          const points = [];
          for (let i = 0; i < 500; i++) {
            t += Math.floor(rnd() * 50);
            points.push({ timestamp: t, value: { a: Math.round(rnd() * 1e4) / 100, b: i % 5 } });
          }
          await series.addMany(points);
          written += points.length;
        }
      })().catch((error: unknown) => error);
      let finished = false;
      void writer.then(() => (finished = true));
      while (written < 20_000 && !finished) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(finished, 'the writer stopped before the crash').toBe(false);
      await server.kill();
      expect(await writer).toBeInstanceOf(Error);
      await server.start();
      const points = await expectRollupsMatchRaw(series, redis, fields);
      expect(points.length).toBeGreaterThanOrEqual(20_000);
      expect(points.length % 500).toBe(0);
      const before = await rollupState(series, redis);
      await series.rebuildRollups();
      expect(await rollupState(series, redis)).toEqual(before);
    } finally {
      await closeTestClient(redis);
      await server.destroy();
    }
  });
});
