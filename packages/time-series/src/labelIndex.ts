import { ConfigError, RedisCommandError, StreamkitError, type StreamClient } from '@streamkit/core';
import { parseFilter, type LabelFilter } from './filter.js';
import { indexKeys, seriesKeys, type IndexKeys } from './keys.js';
import { createTimeSeries, type OutOfOrderPolicy, type RangeOptions, type RollupOptions, type Sample, type TimeBound, type TimeSeries } from './timeSeries.js';

/** Options of {@link createTimeSeriesIndex}. */
export interface TimeSeriesIndexOptions {
  /** The streamkit client whose series to index (its prefix applies). */
  client: StreamClient;
}

/** Reducers of {@link MRangeOptions.reduce}: how the series of one group combine at each timestamp. */
export type Reducer = 'avg' | 'sum' | 'min' | 'max' | 'range' | 'count' | 'std.p' | 'std.s' | 'var.p' | 'var.s';

const REDUCERS: readonly Reducer[] = ['avg', 'sum', 'min', 'max', 'range', 'count', 'std.p', 'std.s', 'var.p', 'var.s'];

/** Options of {@link TimeSeriesIndex.mrange}: those of a range query, plus grouping. */
export interface MRangeOptions extends RangeOptions {
  /** Group the matching series by this label's value (series without it are left out). */
  groupBy?: string;
  /** How each group's series combine at each timestamp (required with `groupBy`). */
  reduce?: Reducer;
  /** Newest first. */
  reverse?: boolean;
}

/** One series' latest sample, from {@link TimeSeriesIndex.mget}. */
export interface MGetResult {
  name: string;
  labels: Record<string, string>;
  sample: Sample | null;
}

/**
 * One series' (or, with `groupBy`, one group's) samples, from {@link TimeSeriesIndex.mrange}.
 * A group is named `label=value`, with labels `{ [label]: value, __reducer__, __source__ }`
 * (`__source__`: the series' names, comma-separated), as RedisTimeSeries names them.
 */
export interface MRangeResult {
  name: string;
  labels: Record<string, string>;
  samples: Sample[];
}

/**
 * The label index of every series of a client: a set per `label=value`, a set per label and a
 * set of all series, all under the hash tag `{ts-index}` (on a cluster the index and the series
 * live in different slots; each command or script still touches one slot).
 *
 * @example
 * ```ts
 * const index = createTimeSeriesIndex({ client });
 * await index.queryIndex('host=(a,b) region!=');          // series with host a or b, without region
 * await index.mrange('metric=cpu', '-', '+', { aggregation: 'avg', bucketMs: 60_000, groupBy: 'host', reduce: 'max' });
 * ```
 */
export class TimeSeriesIndex {
  private readonly client: StreamClient;
  private readonly keys: IndexKeys;

  /** @internal use {@link createTimeSeriesIndex} */
  constructor(options: TimeSeriesIndexOptions) {
    if (!options?.client || typeof options.client.key !== 'function') {
      throw new ConfigError('createTimeSeriesIndex: `client` must be a streamkit client (createStreamClient from @streamkit/core)');
    }
    this.client = options.client;
    this.keys = indexKeys(this.client);
  }

  private async command<R>(name: string, run: () => Promise<R>): Promise<R> {
    try {
      this.client.assertOpen();
      return await run();
    } catch (error) {
      throw StreamkitError.is(error) ? error : new RedisCommandError({ command: name, stream: this.keys.all, cause: error });
    }
  }

  /**
   * The names of the series whose labels match the filter (RedisTimeSeries' grammar: `l=v`,
   * `l!=v`, `l=(a,b)`, `l!=(a,b)`, `l=` absent, `l!=` present; every expression must match),
   * sorted.
   */
  async queryIndex(filter: LabelFilter): Promise<string[]> {
    const matchers = parseFilter(filter);
    const redis = this.client.redis;
    const needed = new Set<string>();
    let needAll = false;
    for (const m of matchers) {
      if (m.op === 'eq' || m.op === 'ne') for (const v of m.values) needed.add(this.keys.eq(m.label, v));
      else needed.add(this.keys.has(m.label));
      if (m.op === 'ne' || m.op === 'absent') needAll = true;
    }
    if (needAll || matchers.length === 0) needed.add(this.keys.all);
    const list = [...needed];
    const members = await this.command('SMEMBERS', () => Promise.all(list.map((key) => redis.smembers(key))));
    const sets = new Map(list.map((key, i) => [key, new Set(members[i])]));
    const union = (keys: string[]) => {
      const out = new Set<string>();
      for (const key of keys) for (const name of sets.get(key)!) out.add(name);
      return out;
    };
    let result: Set<string> | undefined;
    const all = sets.get(this.keys.all);
    for (const m of matchers) {
      let matching: Set<string>;
      if (m.op === 'eq') matching = union(m.values.map((v) => this.keys.eq(m.label, v)));
      else if (m.op === 'present') matching = sets.get(this.keys.has(m.label))!;
      else {
        const excluded = m.op === 'ne' ? union(m.values.map((v) => this.keys.eq(m.label, v))) : sets.get(this.keys.has(m.label))!;
        matching = new Set([...all!].filter((name) => !excluded.has(name)));
      }
      result = result ? new Set([...result].filter((name) => matching.has(name))) : matching;
    }
    return [...(result ?? [])].sort();
  }

  /**
   * The series `name` as it was created (fields, labels, retention, rollups from its meta hash),
   * or `null` when there is no such series.
   */
  async open(name: string): Promise<TimeSeries | null> {
    const meta = await this.command('HGETALL', () => this.client.redis.hgetall(seriesKeys(this.client, name).meta));
    if (!meta.fields) return null;
    return createTimeSeries({
      client: this.client,
      name,
      fields: JSON.parse(meta.fields) as string[],
      labels: JSON.parse(meta.labels ?? '{}') as Record<string, string>,
      retentionMs: Number(meta.retentionMs ?? 0),
      rollups: JSON.parse(meta.rollups ?? '[]') as RollupOptions[],
      outOfOrder: (meta.outOfOrder ?? 'reject') as OutOfOrderPolicy,
    });
  }

  private async openAll(filter: LabelFilter): Promise<TimeSeries[]> {
    const names = await this.queryIndex(filter);
    const series = await Promise.all(names.map((name) => this.open(name)));
    return series.filter((s): s is TimeSeries => s !== null);
  }

  /** The newest sample of every series matching the filter, with its labels. */
  async mget(filter: LabelFilter): Promise<MGetResult[]> {
    const series = await this.openAll(filter);
    const samples = await Promise.all(series.map((s) => s.get()));
    return series.map((s, i) => ({ name: s.name, labels: { ...s.labels }, sample: samples[i]! }));
  }

  /**
   * A range query on every series matching the filter. With `groupBy` and `reduce`, the series
   * are grouped by that label's value and combined, field by field, at each timestamp.
   */
  async mrange(filter: LabelFilter, from: TimeBound = '-', to: TimeBound = '+', options: MRangeOptions = {}): Promise<MRangeResult[]> {
    const { groupBy, reduce, reverse, ...range } = options;
    if ((groupBy === undefined) !== (reduce === undefined)) throw new ConfigError('mrange: give groupBy and reduce together');
    if (reduce !== undefined && !REDUCERS.includes(reduce)) throw new ConfigError(`mrange: unknown reducer ${JSON.stringify(reduce)} (one of ${REDUCERS.join(', ')})`);
    const series = await this.openAll(filter);
    const results = await Promise.all(series.map((s) => (reverse ? s.revRange(from, to, range) : s.range(from, to, range))));
    const each = series.map((s, i) => ({ name: s.name, labels: { ...s.labels }, samples: results[i]! }));
    if (groupBy === undefined) return each;
    const groups = new Map<string, typeof each>();
    for (const entry of each) {
      const value = entry.labels[groupBy];
      if (value === undefined) continue;
      groups.set(value, [...(groups.get(value) ?? []), entry]);
    }
    return [...groups.keys()].sort().map((value) => {
      const members = groups.get(value)!;
      return {
        name: `${groupBy}=${value}`,
        labels: { [groupBy]: value, __reducer__: reduce!, __source__: members.map((m) => m.name).join(',') },
        samples: reduceSamples(members.map((m) => m.samples), reduce!, reverse === true),
      };
    });
  }
}

/** Combines several series' samples at each timestamp, field by field (NaN values are left out). */
export function reduceSamples(lists: readonly Sample[][], reducer: Reducer, reverse = false): Sample[] {
  const byTime = new Map<number, Sample[]>();
  for (const list of lists) for (const s of list) byTime.set(s.timestamp, [...(byTime.get(s.timestamp) ?? []), s]);
  const times = [...byTime.keys()].sort((a, b) => (reverse ? b - a : a - b));
  return times.map((timestamp) => {
    const group = byTime.get(timestamp)!;
    const fields = Object.keys(group[0]!.values);
    const values: Record<string, number> = {};
    for (const field of fields) values[field] = reduceValues(group.map((s) => s.values[field]!).filter((v) => !Number.isNaN(v)), reducer);
    return { timestamp, value: values[fields[0]!]!, values };
  });
}

function reduceValues(values: number[], reducer: Reducer): number {
  const n = values.length;
  if (reducer === 'count') return n;
  if (n === 0) return reducer === 'sum' ? 0 : Number.NaN;
  const sum = values.reduce((a, b) => a + b, 0);
  const mean = sum / n;
  const squares = values.reduce((a, v) => a + (v - mean) * (v - mean), 0);
  switch (reducer) {
    case 'sum':
      return sum;
    case 'avg':
      return mean;
    case 'min':
      return Math.min(...values);
    case 'max':
      return Math.max(...values);
    case 'range':
      return Math.max(...values) - Math.min(...values);
    case 'var.p':
      return squares / n;
    case 'var.s':
      return n > 1 ? squares / (n - 1) : 0;
    case 'std.p':
      return Math.sqrt(squares / n);
    case 'std.s':
      return n > 1 ? Math.sqrt(squares / (n - 1)) : 0;
  }
}

/** The label index of a client's time series; see {@link TimeSeriesIndex}. */
export function createTimeSeriesIndex(options: TimeSeriesIndexOptions): TimeSeriesIndex {
  return new TimeSeriesIndex(options);
}
