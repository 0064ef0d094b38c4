/**
 * Time series: ingest with rollups against raw XADD, aggregated queries from rollups against the
 * naive way, and the memory a sample takes.
 *
 * - ingest: 1 Hz samples of one field in batches of 1,000, each batch one `addMany` (one EVALSHA
 *   that XADDs every sample with a `<ms>-*` id and folds it into two rollup levels, 1 min and
 *   1 h, trimming with MINID ~). Baseline: ioredis pipelines of XADD `<ms>-*` of the same
 *   samples, one pipeline per batch, no rollups.
 * - query: one day of 1 Hz samples (86,400), 1-minute avg buckets over the whole day, answered
 *   from the 1-minute rollup. Baseline: the naive way, XRANGE of every raw sample of the same
 *   stream (pages of 10,000) and the averages computed in JavaScript. Both answers are compared.
 * - memory: MEMORY USAGE of the day's raw stream (and of its rollups) per sample, in the note,
 *   beside RedisTimeSeries' 16 bytes per uncompressed sample.
 */
import { Redis } from 'ioredis';
import { createStreamClient } from '@streamkit/core';
import { createTimeSeries, type SamplePoint } from '@streamkit/time-series';
import { alternate, row, spread } from '../measure.js';
import type { BenchContext, BenchResult } from '../types.js';

const BATCH = 1_000;
const DAY = 86_400_000;
const T0 = Math.floor(1_700_000_000_000 / DAY) * DAY;

async function deleteByPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}

/** 1 Hz samples from T0, values a smooth wave with noise (rounded, like real metrics). */
function samples(count: number): SamplePoint[] {
  return Array.from({ length: count }, (_, i) => ({
    timestamp: T0 + i * 1_000,
    value: Math.round((50 + 30 * Math.sin(i / 600) + ((i * 7919) % 100) / 10) * 100) / 100,
  }));
}

export default async function run(ctx: BenchContext): Promise<BenchResult[]> {
  const ingestCount = ctx.quick ? 20_000 : 100_000;
  const rounds = ctx.quick ? 3 : 7;
  const redis = new Redis(ctx.url);
  const client = createStreamClient({ redis, prefix: `${ctx.prefix}sk:` });
  const rawPrefix = `${ctx.prefix}raw:`;
  const results: BenchResult[] = [];
  let roundNo = 0;

  try {
    // ---- ingest ---------------------------------------------------------------------------------
    const points = samples(ingestCount);
    const batches: SamplePoint[][] = [];
    for (let i = 0; i < points.length; i += BATCH) batches.push(points.slice(i, i + BATCH));
    const ingest = await alternate(
      [
        {
          name: 'streamkit',
          before: async () => {
            roundNo++;
          },
          run: async () => {
            const series = createTimeSeries({
              client,
              name: `ingest-${roundNo}`,
              rollups: [{ bucketMs: 60_000 }, { bucketMs: 3_600_000 }],
            });
            for (const batch of batches) await series.addMany(batch);
            return points.length;
          },
          after: async (ops) => {
            const series = createTimeSeries({ client, name: `ingest-${roundNo}`, rollups: [{ bucketMs: 60_000 }, { bucketMs: 3_600_000 }] });
            const length = await redis.xlen(series.keys.raw);
            if (length !== ops) throw new Error(`ingest: ${length} samples stored, expected ${ops}`);
            const minutes = await series.range('-', '+', { aggregation: 'count', bucketMs: 60_000 });
            if (minutes.reduce((sum, s) => sum + s.value, 0) !== ops) throw new Error('ingest: the 1-minute rollup does not count every sample');
            await series.delete();
          },
        },
        {
          name: 'ioredis',
          before: async () => {
            roundNo++;
          },
          run: async () => {
            const key = `${rawPrefix}ingest-${roundNo}`;
            for (const batch of batches) {
              const pipeline = redis.pipeline();
              for (const p of batch) pipeline.xadd(key, `${p.timestamp as number}-*`, 'value', String(p.value));
              await pipeline.exec();
            }
            return points.length;
          },
          after: async (ops) => {
            const key = `${rawPrefix}ingest-${roundNo}`;
            const length = await redis.xlen(key);
            if (length !== ops) throw new Error(`ingest baseline: ${length} entries, expected ${ops}`);
            await redis.unlink(key);
          },
        },
      ],
      { rounds },
    );
    results.push(
      row(
        `time-series addMany with 2 rollup levels (batches of ${BATCH})`,
        ingest.get('streamkit')!,
        'ioredis pipelined XADD, no rollups',
        ingest.get('ioredis')!,
        `samples/s; goal ≥ 1.0×; ${spread(ingest.get('streamkit')!)} vs ${spread(ingest.get('ioredis')!)}`,
      ),
    );

    // ---- one day: query and memory ----------------------------------------------------------------
    const day = createTimeSeries({ client, name: 'day', rollups: [{ bucketMs: 60_000 }, { bucketMs: 3_600_000 }] });
    const dayPoints = samples(86_400);
    for (let i = 0; i < dayPoints.length; i += 10_000) await day.addMany(dayPoints.slice(i, i + 10_000));
    const from = T0;
    const to = T0 + DAY - 1;
    const plan = await day.explain(from, to, { aggregation: 'avg', bucketMs: 60_000 });
    if (plan.some((s) => s.source === 'raw' && s.to > s.from + 1)) throw new Error(`query: expected a plan from rollups, got ${JSON.stringify(plan)}`);

    let fromRollups: number[] = [];
    let naive: number[] = [];
    const query = await alternate(
      [
        {
          name: 'streamkit',
          run: async () => {
            const buckets = await day.range(from, to, { aggregation: 'avg', bucketMs: 60_000 });
            fromRollups = buckets.map((b) => b.value);
            return 1;
          },
        },
        {
          name: 'naive',
          run: async () => {
            const sums = new Map<number, { sum: number; count: number }>();
            let start = `${from}-0`;
            const end = `${to}-18446744073709551615`;
            for (;;) {
              const page = (await redis.xrange(day.keys.raw, start, end, 'COUNT', 10_000)) as [string, string[]][];
              for (const [id, fields] of page) {
                const t = Number(id.slice(0, id.indexOf('-')));
                const bucket = t - (t % 60_000);
                const value = Number(fields[1]);
                const acc = sums.get(bucket);
                if (acc) {
                  acc.sum += value;
                  acc.count++;
                } else sums.set(bucket, { sum: value, count: 1 });
              }
              if (page.length < 10_000) break;
              start = `(${page[page.length - 1]![0]}`;
            }
            naive = [...sums.keys()].sort((a, b) => a - b).map((k) => sums.get(k)!.sum / sums.get(k)!.count);
            return 1;
          },
        },
      ],
      { rounds: rounds * 2, warmup: 2 },
    );
    if (fromRollups.length !== 1_440 || naive.length !== 1_440) throw new Error(`query: ${fromRollups.length} and ${naive.length} buckets, expected 1440`);
    fromRollups.forEach((v, i) => {
      if (Math.abs(v - naive[i]!) > 1e-9 * Math.max(1, Math.abs(v))) throw new Error(`query: bucket ${i} differs: ${v} vs ${naive[i]}`);
    });

    const info = await day.info();
    const rawBytes = Number(await redis.call('MEMORY', 'USAGE', day.keys.raw, 'SAMPLES', '0'));
    const perSample = rawBytes / info.samples;
    const withRollups = info.memoryBytes / info.samples;
    results.push(
      row(
        'time-series range: 1 day of 1 Hz samples, 1-min avg buckets from rollups',
        query.get('streamkit')!,
        'naive: XRANGE all 86,400 samples + avg in JS',
        query.get('naive')!,
        `queries/s; goal ≥ 20×; memory: ${perSample.toFixed(1)} B/sample raw, ${withRollups.toFixed(1)} B/sample with rollups (MEMORY USAGE) vs RedisTimeSeries 16 B/sample uncompressed`,
      ),
    );
    await day.delete();
  } finally {
    await deleteByPrefix(redis, ctx.prefix);
    await client.close();
    redis.disconnect();
  }
  return results;
}
