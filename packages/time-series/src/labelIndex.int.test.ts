import { createStreamClient, type StreamClient } from '@streamkit/core';
import { redisTargets, useRedis } from '@streamkit/testing';
import { describe, expect, it } from 'vitest';
import { createTimeSeries, createTimeSeriesIndex, matches, parseFilter, reduceSamples, type TimeSeries } from './index.js';
import { diffSamples, random } from './test/reference.js';

const T0 = 1_700_000_000_000;

const LABELS: Record<string, Record<string, string>> = {
  'cpu-a': { metric: 'cpu', host: 'a', dc: 'east' },
  'cpu-b': { metric: 'cpu', host: 'b', dc: 'east' },
  'cpu-c': { metric: 'cpu', host: 'c', dc: 'west' },
  'cpu-d': { metric: 'cpu', host: 'd' },
  'mem-a': { metric: 'mem', host: 'a', dc: 'east' },
  'disk-x': { metric: 'disk' },
};

describe.each(redisTargets())('label index on %s', (target) => {
  const ctx = useRedis(target);
  const clientOf = (): StreamClient => createStreamClient({ redis: ctx.redis, prefix: ctx.prefix });

  async function seed(): Promise<Map<string, TimeSeries>> {
    const client = clientOf();
    const all = new Map<string, TimeSeries>();
    let n = 0;
    for (const [name, labels] of Object.entries(LABELS)) {
      const series = createTimeSeries({ client, name, labels, rollups: [{ bucketMs: 10_000 }] });
      const rnd = random(++n);
      await series.addMany(Array.from({ length: 120 }, (_, i) => ({ timestamp: T0 + i * 1_000, value: Math.floor(rnd() * 100) })));
      all.set(name, series);
    }
    return all;
  }

  it('answers every form of the filter grammar, as a reference matcher does', async () => {
    await seed();
    const index = createTimeSeriesIndex({ client: clientOf() });
    const filters = [
      'metric=cpu',
      'metric!=cpu',
      'host=(a,b)',
      'host!=(a,b)',
      'dc=',
      'dc!=',
      'metric=cpu dc=',
      'metric=(cpu,mem) dc=east host!=b',
      'dc!=west host!=',
      'nothing=here',
      'nothing=',
    ];
    for (const filter of filters) {
      const expected = Object.keys(LABELS)
        .filter((name) => matches(LABELS[name]!, parseFilter(filter)))
        .sort();
      expect(await index.queryIndex(filter), filter).toEqual(expected);
    }
    expect(await index.queryIndex('host=(a,b) dc=east')).toEqual(['cpu-a', 'cpu-b', 'mem-a']);
    expect(await index.queryIndex(['metric=cpu', 'dc='])).toEqual(['cpu-d']);
    await expect(index.queryIndex('host')).rejects.toThrow(/expected l=v/);
  });

  it('keeps the index right when labels change and when a series is deleted', async () => {
    const client = clientOf();
    const index = createTimeSeriesIndex({ client });
    await createTimeSeries({ client, name: 'moving', labels: { host: 'a', rack: '1' } }).create();
    expect(await index.queryIndex('host=a')).toEqual(['moving']);
    const moved = createTimeSeries({ client, name: 'moving', labels: { host: 'b' } });
    await moved.add(1, { timestamp: 5 });
    expect(await index.queryIndex('host=a')).toEqual([]);
    expect(await index.queryIndex('host=b')).toEqual(['moving']);
    expect(await index.queryIndex('rack!=')).toEqual([]);
    expect((await index.open('moving'))?.labels).toEqual({ host: 'b' });
    await moved.delete();
    expect(await index.queryIndex('host!=')).toEqual([]);
    expect(await index.open('moving')).toBeNull();
    expect(await ctx.redis.exists(moved.keys.raw, moved.keys.meta)).toBe(0);
  });

  it('mget returns the newest sample of each matching series with its labels', async () => {
    const all = await seed();
    const index = createTimeSeriesIndex({ client: clientOf() });
    const result = await index.mget('metric=cpu dc!=west');
    expect(result.map((r) => r.name)).toEqual(['cpu-a', 'cpu-b', 'cpu-d']);
    for (const r of result) {
      expect(r.labels).toEqual(LABELS[r.name]);
      expect(r.sample).toEqual(await all.get(r.name)!.get());
      expect(r.sample!.timestamp).toBe(T0 + 119_000);
    }
  });

  it('mrange aggregates each series, and groups with groupBy/reduce', async () => {
    const all = await seed();
    const index = createTimeSeriesIndex({ client: clientOf() });
    const options = { aggregation: 'avg', bucketMs: 30_000 } as const;
    const each = await index.mrange('metric=cpu', T0, T0 + 100_000, options);
    expect(each.map((r) => r.name)).toEqual(['cpu-a', 'cpu-b', 'cpu-c', 'cpu-d']);
    for (const r of each) {
      expect(r.labels).toEqual(LABELS[r.name]);
      expect(diffSamples(r.samples, await all.get(r.name)!.range(T0, T0 + 100_000, options))).toBeUndefined();
    }
    const reverse = await index.mrange('metric=cpu', T0, T0 + 100_000, { ...options, reverse: true });
    expect(reverse[0]!.samples.map((s) => s.timestamp)).toEqual(each[0]!.samples.map((s) => s.timestamp).reverse());

    for (const reduce of ['sum', 'max', 'min', 'avg', 'count', 'range', 'std.p', 'var.s'] as const) {
      const groups = await index.mrange('metric=(cpu,mem)', T0, T0 + 100_000, { ...options, groupBy: 'dc', reduce });
      expect(groups.map((g) => g.name)).toEqual(['dc=east', 'dc=west']);
      expect(groups[0]!.labels).toEqual({ dc: 'east', __reducer__: reduce, __source__: 'cpu-a,cpu-b,mem-a' });
      expect(groups[1]!.labels.__source__).toBe('cpu-c');
      // The reference: combine the members' own range results at each timestamp.
      const members = await Promise.all(['cpu-a', 'cpu-b', 'mem-a'].map((n) => all.get(n)!.range(T0, T0 + 100_000, options)));
      const expected = members[0]!.map((s, i) => {
        const values = members.map((m) => m[i]!.value);
        const mean = values.reduce((a, b) => a + b, 0) / values.length;
        const m2 = values.reduce((a, v) => a + (v - mean) ** 2, 0);
        const value = {
          sum: values.reduce((a, b) => a + b, 0),
          max: Math.max(...values),
          min: Math.min(...values),
          avg: mean,
          count: values.length,
          range: Math.max(...values) - Math.min(...values),
          'std.p': Math.sqrt(m2 / values.length),
          'var.s': m2 / (values.length - 1),
        }[reduce];
        return { timestamp: s.timestamp, value, values: { value } };
      });
      expect(diffSamples(groups[0]!.samples, expected), reduce).toBeUndefined();
    }
    await expect(index.mrange('metric=cpu', '-', '+', { groupBy: 'dc' })).rejects.toThrow(/groupBy and reduce together/);
    expect(reduceSamples([], 'sum')).toEqual([]);
  });
});
