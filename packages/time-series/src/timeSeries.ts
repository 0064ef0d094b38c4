import {
  ConfigError,
  pack,
  RedisCommandError,
  runScript,
  StreamkitError,
  ValidationError,
  type FieldIssue,
  type LuaScript,
  type RedisClient,
  type StreamClient,
  type StreamId,
} from '@streamkit/core';
import {
  AGGREGATIONS,
  addSample,
  bucketStart,
  ceilTo,
  emptyValue,
  finalize,
  floorTo,
  isPercentile,
  mergePartial,
  partialOf,
  percentile,
  percentileOf,
  type Aggregation,
  type PartialAggregate,
} from './aggregate.js';
import { OutOfOrderError } from './errors.js';
import { checkLabelName, checkLabelValue } from './filter.js';
import { checkSeriesName, indexKeys, seriesKeys, type SeriesKeys } from './keys.js';
import { addSamples, initSeries, levelRange, rebuildRollups as rebuildScript } from './scripts/generated/index.js';

/** A rollup level: closed buckets of `bucketMs`, kept `retentionMs` (default: forever). */
export interface RollupOptions {
  /** Bucket size in ms; buckets are aligned to the epoch. */
  bucketMs: number;
  /** How long buckets are kept, relative to the series' newest bucket. Default: forever. */
  retentionMs?: number;
}

/** What to do with a sample older than the series' last one. */
export type OutOfOrderPolicy = 'reject' | 'drop' | 'clamp';

/** Options of {@link createTimeSeries}. */
export interface TimeSeriesOptions {
  /** The streamkit client (its prefix applies to every key). */
  client: StreamClient;
  /** The series' name: non-empty, no braces, no whitespace. */
  name: string;
  /** Labels for the index (`host: 'a'`), see {@link createTimeSeriesIndex}. */
  labels?: Record<string, string>;
  /** Names of the values of one sample. Default `['value']`. */
  fields?: readonly string[];
  /** How long raw samples are kept, relative to the newest sample. Default: forever. */
  retentionMs?: number;
  /** Rollup levels, written as samples arrive. */
  rollups?: readonly RollupOptions[];
  /** `'reject'` (default: {@link OutOfOrderError}), `'drop'` (ignored) or `'clamp'` (stored at the last timestamp). */
  outOfOrder?: OutOfOrderPolicy;
}

/** One sample, or one aggregated bucket, as queries return it. */
export interface Sample {
  /** Time in ms (for a bucket: its start, middle or end, see {@link RangeOptions.bucketTimestamp}). */
  timestamp: number;
  /** The first field's value. */
  value: number;
  /** Every field's value. */
  values: Record<string, number>;
}

/** A sample's value: a number for a single-field series, or a record with every field. */
export type SampleValue = number | Record<string, number>;

/** One sample for {@link TimeSeries.addMany}. */
export interface SamplePoint {
  /** Time in ms or a Date; default now. */
  timestamp?: number | Date;
  value: SampleValue;
}

/** Options of {@link TimeSeries.add}. */
export interface AddSampleOptions {
  /** Time in ms or a Date; default now. */
  timestamp?: number | Date;
}

/** A time bound: ms, a Date, `'-'` (the oldest) or `'+'` (the newest). */
export type TimeBound = number | Date | '-' | '+';

/** Options of {@link TimeSeries.range} and {@link TimeSeries.revRange}. */
export interface RangeOptions {
  /** Aggregate into buckets of `bucketMs`. Without it, raw samples are returned. */
  aggregation?: Aggregation;
  /** Bucket size in ms (required with `aggregation`). */
  bucketMs?: number;
  /** Bucket alignment: a time in ms, `'start'` (the `from` bound) or `'end'` (the `to` bound). Default 0 (the epoch). */
  align?: number | 'start' | 'end';
  /** Also report empty buckets: 0 for `sum`/`count`, the previous bucket's value for `last`, NaN otherwise. */
  empty?: boolean;
  /** Which time a bucket reports: its `start` (default), `mid` or `end`. */
  bucketTimestamp?: 'start' | 'mid' | 'end';
  /** Keep only samples whose `field` (default the first) is within [min, max], before aggregating. */
  filterByValue?: { min?: number; max?: number; field?: string };
  /** At most this many results (the oldest for `range`, the newest for `revRange`). */
  count?: number;
}

/** What {@link TimeSeries.info} reports. */
export interface TimeSeriesInfo {
  name: string;
  fields: string[];
  labels: Record<string, string>;
  retentionMs: number;
  outOfOrder: OutOfOrderPolicy;
  /** Raw samples stored. */
  samples: number;
  firstTimestamp: number | null;
  lastTimestamp: number | null;
  /** MEMORY USAGE of every key of the series. */
  memoryBytes: number;
  rollups: {
    bucketMs: number;
    retentionMs: number;
    /** Closed buckets stored, plus the open one. */
    buckets: number;
    firstBucket: number | null;
    memoryBytes: number;
  }[];
}

/** One part of a query plan, from {@link TimeSeries.explain}: `[from, to)` in ms, read from a rollup level or raw samples. */
export type QuerySegment = { source: 'raw'; from: number; to: number } | { source: 'rollup'; bucketMs: number; from: number; to: number };

/** What {@link TimeSeries.rebuildRollups} did. */
export interface RebuildResult {
  /** Raw samples read. */
  samples: number;
  /** Closed buckets written. */
  buckets: number;
}

type RawEntry = [string, string[]];
type Level = { bucketMs: number; retentionMs: number; key: string };

/** Most samples per script call; bigger batches are split (each part atomic). */
const CHUNK = 10_000;
const MAX_SEQ = '18446744073709551615';
const MAX_TIME = Number.MAX_SAFE_INTEGER - 1;
const MAX_BUCKETS = 1_000_000;
/** Closed buckets per level-range call. */
const LEVEL_PAGE = 20_000;
const FIELD = /^[A-Za-z_][A-Za-z0-9_.:-]*$/;

const variants = new Map<string, LuaScript>();
/** A script taking `numberOfKeys` keys (rollup scripts take 2 keys plus one per level). */
function withKeys(script: LuaScript, numberOfKeys: number): LuaScript {
  const name = `${script.name}_${numberOfKeys}`;
  let variant = variants.get(name);
  if (!variant) variants.set(name, (variant = { name, numberOfKeys, lua: script.lua }));
  return variant;
}

function nonNegativeInt(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new ConfigError(`${what} must be a non-negative integer of ms, got ${String(value)}`);
  }
  return value;
}

function positiveInt(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new ConfigError(`${what} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

function mod(a: number, b: number): number {
  return ((a % b) + b) % b;
}

/**
 * One time series: samples of one or more numeric fields, stored as entries of a Redis stream
 * (ids `<ms>-*`), with rollup levels updated by the same server-side script that appends the
 * samples. Get one from {@link createTimeSeries}.
 *
 * @example
 * ```ts
 * const cpu = createTimeSeries({ client, name: 'cpu', labels: { host: 'a' }, rollups: [{ bucketMs: 60_000 }] });
 * await cpu.add(42.5);
 * const perMinute = await cpu.range(Date.now() - 3_600_000, '+', { aggregation: 'avg', bucketMs: 60_000 });
 * ```
 */
export class TimeSeries {
  /** The series' name (its keys are tagged `{ts:<name>}`). */
  readonly name: string;
  /** The names of a sample's values. */
  readonly fields: readonly string[];
  /** The labels this instance indexes the series under. */
  readonly labels: Readonly<Record<string, string>>;
  /** Raw retention in ms; 0 keeps everything. */
  readonly retentionMs: number;
  /** What happens to a sample older than the newest one. */
  readonly outOfOrder: OutOfOrderPolicy;
  /** The rollup levels, finest first. */
  readonly rollups: readonly Required<RollupOptions>[];
  /** @internal */
  readonly keys: SeriesKeys;
  private readonly client: StreamClient;
  private readonly levels: Level[];
  private readonly fieldIndex: Map<string, number>;
  private readonly configArgs: string[];
  private ready: Promise<void> | undefined;

  /** @internal use {@link createTimeSeries} */
  constructor(options: TimeSeriesOptions) {
    if (!options || typeof options !== 'object') throw new ConfigError('createTimeSeries: options are required');
    const { client } = options;
    if (!client || typeof (client as StreamClient).key !== 'function') {
      throw new ConfigError('createTimeSeries: `client` must be a streamkit client (createStreamClient from @streamkit/core)');
    }
    this.client = client;
    this.name = checkSeriesName(options.name);
    const where = `time series "${this.name}"`;
    const fields = options.fields ?? ['value'];
    if (!Array.isArray(fields) || fields.length === 0) throw new ConfigError(`${where}: fields must be a non-empty array of names`);
    for (const field of fields) {
      if (typeof field !== 'string' || !FIELD.test(field)) {
        throw new ConfigError(`${where}: field name ${JSON.stringify(field)} must match ${FIELD.source}`);
      }
    }
    if (new Set(fields).size !== fields.length) throw new ConfigError(`${where}: field names must be distinct`);
    this.fields = Object.freeze([...fields]);
    this.fieldIndex = new Map(this.fields.map((f, i) => [f, i]));
    const labels: Record<string, string> = {};
    for (const [label, value] of Object.entries(options.labels ?? {})) {
      checkLabelName(label, where);
      checkLabelValue(label, value, where);
      labels[label] = value;
    }
    this.labels = Object.freeze(labels);
    this.retentionMs = options.retentionMs === undefined ? 0 : nonNegativeInt(options.retentionMs, `${where}: retentionMs`);
    const policy = options.outOfOrder ?? 'reject';
    if (policy !== 'reject' && policy !== 'drop' && policy !== 'clamp') {
      throw new ConfigError(`${where}: outOfOrder must be 'reject', 'drop' or 'clamp', got ${JSON.stringify(policy)}`);
    }
    this.outOfOrder = policy;
    const rollups = (options.rollups ?? []).map((r, i) => {
      if (!r || typeof r !== 'object') throw new ConfigError(`${where}: rollups[${i}] must be { bucketMs, retentionMs? }`);
      return {
        bucketMs: positiveInt(r.bucketMs, `${where}: rollups[${i}].bucketMs`),
        retentionMs: r.retentionMs === undefined ? 0 : nonNegativeInt(r.retentionMs, `${where}: rollups[${i}].retentionMs`),
      };
    });
    rollups.sort((a, b) => a.bucketMs - b.bucketMs);
    for (let i = 1; i < rollups.length; i++) {
      if (rollups[i]!.bucketMs === rollups[i - 1]!.bucketMs) throw new ConfigError(`${where}: two rollups with bucketMs ${rollups[i]!.bucketMs}`);
    }
    this.rollups = Object.freeze(rollups);
    this.keys = seriesKeys(client, this.name);
    this.levels = rollups.map((r) => ({ ...r, key: this.keys.level(r.bucketMs) }));
    this.configArgs = [
      this.outOfOrder,
      String(this.retentionMs),
      String(this.fields.length),
      ...this.fields,
      ...this.levels.flatMap((l) => [String(l.bucketMs), String(l.retentionMs)]),
    ];
  }

  private get redis(): RedisClient {
    this.client.assertOpen();
    return this.client.redis;
  }

  private get scriptKeys(): string[] {
    return [this.keys.raw, this.keys.meta, ...this.levels.map((l) => l.key)];
  }

  private async command<R>(name: string, run: () => Promise<R>): Promise<R> {
    try {
      return await run();
    } catch (error) {
      throw StreamkitError.is(error) ? error : new RedisCommandError({ command: name, stream: this.keys.raw, cause: error });
    }
  }

  /**
   * Records the series (its configuration in its meta hash, its labels in the label index).
   * Writes do it on first use; call it to have a series listed before it has samples. When the
   * stored rollup levels differ from this instance's, the rollups are rebuilt from raw data.
   */
  async create(): Promise<void> {
    this.ready ??= this.init().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }

  private async init(): Promise<void> {
    const rollupsJson = JSON.stringify(this.rollups);
    const [oldLabelsJson, oldRollupsJson] = await this.command('EVALSHA init-series', async () => {
      try {
        return await runScript<[string | null, string | null]>(this.redis, initSeries, [this.keys.meta], [
          JSON.stringify(this.fields),
          JSON.stringify(this.labels),
          rollupsJson,
          String(this.retentionMs),
          this.outOfOrder,
        ]);
      } catch (error) {
        const match = /TS_FIELDS (.*)$/.exec(error instanceof Error ? error.message : '');
        if (match) {
          throw new ConfigError(
            `time series "${this.name}" exists with fields ${match[1]}, not ${JSON.stringify(this.fields)}; use the stored fields or delete the series`,
          );
        }
        throw error;
      }
    });
    const index = indexKeys(this.client);
    const oldLabels: Record<string, string> = oldLabelsJson ? (JSON.parse(oldLabelsJson) as Record<string, string>) : {};
    const tx = this.redis.multi();
    tx.sadd(index.all, this.name);
    for (const [label, value] of Object.entries(oldLabels)) {
      if (this.labels[label] !== value) tx.srem(index.eq(label, value), this.name);
      if (this.labels[label] === undefined) tx.srem(index.has(label), this.name);
    }
    for (const [label, value] of Object.entries(this.labels)) {
      tx.sadd(index.has(label), this.name);
      tx.sadd(index.eq(label, value), this.name);
    }
    await this.command('MULTI (label index)', () => tx.exec());
    if (oldRollupsJson !== null && oldRollupsJson !== undefined && oldRollupsJson !== rollupsJson) await this.rebuildRollups();
  }

  private encodeValue(value: SampleValue, index: number, out: string[]): void {
    const issue = (path: PropertyKey[], message: string): never => {
      throw new ValidationError({ stream: this.keys.raw, index, issues: [{ path, message } satisfies FieldIssue] });
    };
    if (typeof value === 'number') {
      if (this.fields.length !== 1) issue([], `expected a record of ${this.fields.join(', ')}, got a number`);
      if (!Number.isFinite(value)) issue([this.fields[0]!], `expected a finite number, got ${String(value)}`);
      out.push(String(value));
      return;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      issue([], `expected a number or a record of fields, got ${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value}`);
    }
    for (const key of Object.keys(value)) if (!this.fieldIndex.has(key)) issue([key], `unknown field (fields are ${this.fields.join(', ')})`);
    for (const field of this.fields) {
      const v = value[field];
      if (typeof v !== 'number' || !Number.isFinite(v)) issue([field], `expected a finite number, got ${v === undefined ? 'nothing' : JSON.stringify(v)}`);
      out.push(String(v));
    }
  }

  private timeOf(timestamp: number | Date | undefined, index: number, now: number): string {
    if (timestamp === undefined) return String(now);
    const ms = timestamp instanceof Date ? timestamp.getTime() : timestamp;
    if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms < 0) {
      throw new ValidationError({
        stream: this.keys.raw,
        index,
        issues: [{ path: ['timestamp'], message: `expected a non-negative integer of ms or a Date, got ${String(timestamp)}` }],
      });
    }
    return String(ms);
  }

  /**
   * Appends one sample and returns its id (`<ms>-<seq>`: two samples in one millisecond both
   * stay), or `null` when the `'drop'` policy ignored it as out of order.
   *
   * @throws ValidationError for a value that is not a finite number (or lacks a field); nothing is sent.
   * @throws OutOfOrderError with the `'reject'` policy, for a sample older than the last one.
   */
  async add(value: SampleValue, options: AddSampleOptions = {}): Promise<StreamId | null> {
    const ids = await this.addMany([{ value, timestamp: options.timestamp }]);
    return ids[0] ?? null;
  }

  /**
   * Appends samples in order, with their rollups, in one server-side script per 10,000 samples
   * (each call atomic: raw samples and rollups change together or not at all). Every sample is
   * validated before anything is sent. Returns one id per sample (`null` for a dropped one).
   */
  async addMany(points: readonly SamplePoint[]): Promise<(StreamId | null)[]> {
    if (!Array.isArray(points)) {
      throw new ValidationError({ stream: this.keys.raw, issues: [{ path: [], message: 'expected an array of { timestamp?, value }' }] });
    }
    const now = Date.now();
    const chunks: string[][] = [];
    let flat: string[] = [];
    for (let i = 0; i < points.length; i++) {
      const point = points[i];
      if (!point || typeof point !== 'object') {
        throw new ValidationError({ stream: this.keys.raw, index: i, issues: [{ path: [], message: 'expected { timestamp?, value }' }] });
      }
      flat.push(this.timeOf(point.timestamp, i, now));
      this.encodeValue(point.value, i, flat);
      if ((i + 1) % CHUNK === 0) {
        chunks.push(flat);
        flat = [];
      }
    }
    if (flat.length > 0) chunks.push(flat);
    if (chunks.length === 0) return [];
    await this.create();
    const ids: (StreamId | null)[] = [];
    const script = withKeys(addSamples, 2 + this.levels.length);
    for (let c = 0; c < chunks.length; c++) {
      const reply = await this.command('EVALSHA add-samples', async () => {
        try {
          return await runScript<(StreamId | null)[]>(this.redis, script, this.scriptKeys, [pack(chunks[c]!), ...this.configArgs]);
        } catch (error) {
          const match = /TS_OUT_OF_ORDER (\d+) (\d+) (\d+)/.exec(error instanceof Error ? error.message : '');
          if (match) {
            throw new OutOfOrderError({
              series: this.name,
              index: c * CHUNK + Number(match[1]),
              timestamp: Number(match[2]),
              lastTimestamp: Number(match[3]),
            });
          }
          throw error;
        }
      });
      for (const id of reply) ids.push(id ?? null);
    }
    return ids;
  }

  /**
   * Recomputes every rollup level from the raw samples in one atomic script (it blocks Redis for
   * the time it takes: about a second per million samples per level). Buckets older than the
   * oldest raw sample, which raw data can no longer tell, are kept as they are.
   */
  async rebuildRollups(): Promise<RebuildResult> {
    if (this.levels.length === 0) return { samples: 0, buckets: 0 };
    const script = withKeys(rebuildScript, 2 + this.levels.length);
    const [samples, buckets] = await this.command('EVALSHA rebuild-rollups', () =>
      runScript<[number, number]>(this.redis, script, this.scriptKeys, [
        String(this.fields.length),
        ...this.levels.flatMap((l) => [String(l.bucketMs), String(l.retentionMs)]),
      ]),
    );
    return { samples, buckets };
  }

  private sampleOf(id: string, fields: string[]): Sample {
    const values: Record<string, number> = {};
    for (const f of this.fields) values[f] = Number.NaN;
    for (let i = 0; i < fields.length; i += 2) {
      const name = fields[i]!;
      if (this.fieldIndex.has(name)) values[name] = Number(fields[i + 1]);
    }
    return { timestamp: Number(id.slice(0, id.indexOf('-'))), value: values[this.fields[0]!]!, values };
  }

  private valuesOf(fields: string[]): number[] {
    const values = new Array<number>(this.fields.length).fill(Number.NaN);
    for (let i = 0; i < fields.length; i += 2) {
      const k = this.fieldIndex.get(fields[i]!);
      if (k !== undefined) values[k] = Number(fields[i + 1]);
    }
    return values;
  }

  /** The newest sample, or `null` for an empty series. */
  async get(): Promise<Sample | null> {
    const latest = await this.latest(1);
    return latest[0] ?? null;
  }

  /** The newest `n` samples, oldest first. */
  async latest(n = 1): Promise<Sample[]> {
    positiveInt(n, `time series "${this.name}": latest(n)`);
    const raw = await this.command('XREVRANGE', () => this.redis.xrevrange(this.keys.raw, '+', '-', 'COUNT', n) as Promise<RawEntry[]>);
    return raw.reverse().map(([id, fields]) => this.sampleOf(id, fields));
  }

  /**
   * Samples (or aggregated buckets) from `from` to `to`, both inclusive, oldest first.
   *
   * With `aggregation` and `bucketMs`, mergeable aggregations are answered from the coarsest
   * rollup level whose bucket divides `bucketMs` (and the alignment), with raw samples for the
   * edges the level does not cover; percentiles (exact) and `filterByValue` read raw samples.
   */
  async range(from: TimeBound = '-', to: TimeBound = '+', options: RangeOptions = {}): Promise<Sample[]> {
    return this.query(from, to, options, false);
  }

  /** Like {@link TimeSeries.range} (same bound order: `from`, then `to`), newest first. */
  async revRange(from: TimeBound = '-', to: TimeBound = '+', options: RangeOptions = {}): Promise<Sample[]> {
    return this.query(from, to, options, true);
  }

  private boundOf(bound: TimeBound, side: 'from' | 'to'): number {
    if (bound === '-') return 0;
    if (bound === '+') return MAX_TIME;
    const ms = bound instanceof Date ? bound.getTime() : bound;
    if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms < 0) {
      throw new ConfigError(`time series "${this.name}": ${side} must be a non-negative integer of ms, a Date, '-' or '+', got ${String(bound)}`);
    }
    return Math.min(ms, MAX_TIME);
  }

  private checkRange(options: RangeOptions) {
    const where = `time series "${this.name}"`;
    if (options.aggregation !== undefined && !AGGREGATIONS.includes(options.aggregation)) {
      throw new ConfigError(`${where}: unknown aggregation ${JSON.stringify(options.aggregation)} (one of ${AGGREGATIONS.join(', ')})`);
    }
    if (options.aggregation !== undefined) positiveInt(options.bucketMs, `${where}: bucketMs (needed with aggregation)`);
    else if (options.bucketMs !== undefined) throw new ConfigError(`${where}: bucketMs needs an aggregation`);
    if (options.count !== undefined) positiveInt(options.count, `${where}: count`);
    if (options.bucketTimestamp !== undefined && !['start', 'mid', 'end'].includes(options.bucketTimestamp)) {
      throw new ConfigError(`${where}: bucketTimestamp must be 'start', 'mid' or 'end'`);
    }
    if (options.align !== undefined && options.align !== 'start' && options.align !== 'end' && !Number.isSafeInteger(options.align)) {
      throw new ConfigError(`${where}: align must be a time in ms, 'start' or 'end'`);
    }
    const filter = options.filterByValue;
    let filterIndex = 0;
    if (filter !== undefined) {
      if (typeof filter !== 'object' || filter === null) throw new ConfigError(`${where}: filterByValue must be { min?, max?, field? }`);
      if (filter.field !== undefined) {
        const k = this.fieldIndex.get(filter.field);
        if (k === undefined) throw new ConfigError(`${where}: filterByValue.field ${JSON.stringify(filter.field)} is not a field`);
        filterIndex = k;
      }
      for (const side of ['min', 'max'] as const) {
        if (filter[side] !== undefined && typeof filter[side] !== 'number') throw new ConfigError(`${where}: filterByValue.${side} must be a number`);
      }
    }
    return { filterIndex };
  }

  private async meta(): Promise<Record<string, string>> {
    return this.command('HGETALL', () => this.redis.hgetall(this.keys.meta));
  }

  /** Raw entries with time in [a, b), paged, oldest first. */
  private async rawBetween(a: number, b: number): Promise<RawEntry[]> {
    if (a >= b) return [];
    const out: RawEntry[] = [];
    let start = `${a}-0`;
    const end = `${b - 1}-${MAX_SEQ}`;
    for (;;) {
      const page = await this.command('XRANGE', () => this.redis.xrange(this.keys.raw, start, end, 'COUNT', 10_000) as Promise<RawEntry[]>);
      for (const entry of page) out.push(entry);
      if (page.length < 10_000) return out;
      start = `(${page[page.length - 1]![0]}`;
    }
  }

  private async query(from: TimeBound, to: TimeBound, options: RangeOptions, reverse: boolean): Promise<Sample[]> {
    const { filterIndex } = this.checkRange(options);
    const fromMs = this.boundOf(from, 'from');
    const toMs = this.boundOf(to, 'to');
    if (fromMs > toMs) return [];
    const filter = options.filterByValue;
    const keep = filter
      ? (values: number[]) => {
          const v = values[filterIndex]!;
          return (filter.min === undefined || v >= filter.min) && (filter.max === undefined || v <= filter.max);
        }
      : undefined;

    if (options.aggregation === undefined) return this.rawQuery(fromMs, toMs, options, reverse, keep);

    const aggregation = options.aggregation;
    const B = options.bucketMs!;
    const align = options.align === 'start' ? fromMs : options.align === 'end' ? toMs : (options.align ?? 0);
    const eligible = isPercentile(aggregation) || keep ? [] : this.eligible(B, align);
    // One round trip for the meta (newest time, open buckets) and the oldest bucket of each level.
    const [meta, heads] = await Promise.all([this.meta(), this.levelHeads(eligible)]);
    if (meta.last === undefined) return [];
    const last = Number(meta.last);
    const hi = Math.min(toMs, last);
    if (fromMs > hi) return [];
    const rawFrom = this.retentionMs > 0 ? Math.max(fromMs, last - this.retentionMs) : fromMs;
    const F = this.fields.length;

    const buckets = new Map<number, PartialAggregate>();
    const lists = new Map<number, number[][]>();
    const foldRaw = (entries: RawEntry[]) => {
      for (const [id, fields] of entries) {
        const ts = Number(id.slice(0, id.indexOf('-')));
        const values = this.valuesOf(fields);
        if (keep && !keep(values)) continue;
        const bs = bucketStart(ts, B, align);
        if (isPercentile(aggregation)) {
          let list = lists.get(bs);
          if (!list) lists.set(bs, (list = Array.from({ length: F }, () => [])));
          for (let k = 0; k < F; k++) list[k]!.push(values[k]!);
        } else {
          const p = buckets.get(bs);
          if (p) addSample(p, values);
          else buckets.set(bs, partialOf(values));
        }
      }
    };

    if (isPercentile(aggregation) || keep) {
      foldRaw(await this.rawBetween(rawFrom, hi + 1));
    } else {
      const segments = this.plan(fromMs, toMs + 1, eligible, heads, meta);
      const fetched = await Promise.all(
        segments.map((s) =>
          s.level
            ? this.levelBetween(s.level, s.a, s.b, meta)
            : this.rawBetween(Math.max(s.a, rawFrom), Math.min(s.b, hi + 1)),
        ),
      );
      segments.forEach((s, i) => {
        if (!s.level) return foldRaw(fetched[i] as RawEntry[]);
        for (const [start, partial] of fetched[i] as [number, PartialAggregate][]) {
          const bs = bucketStart(start, B, align);
          const p = buckets.get(bs);
          if (p) mergePartial(p, partial);
          else buckets.set(bs, partial);
        }
      });
    }

    const starts = [...(isPercentile(aggregation) ? lists.keys() : buckets.keys())].sort((a, b) => a - b);
    let slots = starts;
    if (options.empty && (starts.length > 0 || from !== '-')) {
      // From the `from` bucket (the first non-empty one for '-') to the bucket of min(to, last).
      const first = from === '-' ? starts[0]! : bucketStart(fromMs, B, align);
      const lastBucket = bucketStart(hi, B, align);
      if ((lastBucket - first) / B > MAX_BUCKETS) {
        throw new ConfigError(`time series "${this.name}": more than ${MAX_BUCKETS} buckets with empty: true; narrow the range or widen bucketMs`);
      }
      slots = [];
      for (let t = first; t <= lastBucket; t += B) slots.push(t);
    }
    const shift = options.bucketTimestamp === 'mid' ? Math.floor(B / 2) : options.bucketTimestamp === 'end' ? B : 0;
    const out: Sample[] = [];
    let previous: number[] | undefined;
    for (const t of slots) {
      let row: number[];
      const list = lists.get(t);
      const partial = buckets.get(t);
      if (list) row = list.map((values) => percentile(values.sort((a, b) => a - b), percentileOf(aggregation)));
      else if (partial) row = this.fields.map((_, k) => finalize(partial, k, aggregation));
      else row = this.fields.map((_, k) => (aggregation === 'last' && previous ? previous[k]! : emptyValue(aggregation)));
      previous = row;
      const values: Record<string, number> = {};
      this.fields.forEach((f, k) => (values[f] = row[k]!));
      out.push({ timestamp: t + shift, value: row[0]!, values });
    }
    if (reverse) out.reverse();
    return options.count !== undefined ? out.slice(0, options.count) : out;
  }

  /**
   * How {@link TimeSeries.range} would answer an aggregated query: the time segments
   * (`[from, to)`, in ms) read from each rollup level and from raw samples, in time order.
   *
   * @example
   * ```ts
   * await cpu.explain(Date.now() - 86_400_000, '+', { aggregation: 'avg', bucketMs: 600_000 });
   * // [{ source: 'raw', from, to }, { source: 'rollup', bucketMs: 60000, from, to }, { source: 'raw', ... }]
   * ```
   */
  async explain(from: TimeBound = '-', to: TimeBound = '+', options: RangeOptions = {}): Promise<QuerySegment[]> {
    this.checkRange(options);
    const fromMs = this.boundOf(from, 'from');
    const toMs = this.boundOf(to, 'to');
    if (fromMs > toMs) return [];
    const meta = await this.meta();
    if (meta.last === undefined) return [];
    // Nothing lies past the newest sample: raw segments stop there (a level's open bucket may not).
    const end = Number(meta.last) + 1;
    if (fromMs >= end) return [];
    if (options.aggregation === undefined || isPercentile(options.aggregation) || options.filterByValue) {
      return [{ source: 'raw', from: fromMs, to: Math.min(toMs + 1, end) }];
    }
    const align = options.align === 'start' ? fromMs : options.align === 'end' ? toMs : (options.align ?? 0);
    const eligible = this.eligible(options.bucketMs!, align);
    const segments = this.plan(fromMs, toMs + 1, eligible, await this.levelHeads(eligible), meta);
    return segments
      .filter((s) => s.level || s.a < end)
      .map((s) => (s.level ? { source: 'rollup', bucketMs: s.level.bucketMs, from: s.a, to: s.b } : { source: 'raw', from: s.a, to: Math.min(s.b, end) }));
  }

  private async rawQuery(
    fromMs: number,
    toMs: number,
    options: RangeOptions,
    reverse: boolean,
    keep: ((values: number[]) => boolean) | undefined,
  ): Promise<Sample[]> {
    let lower = fromMs;
    if (this.retentionMs > 0) {
      const last = await this.command('HGET', () => this.redis.hget(this.keys.meta, 'last'));
      if (last !== null) lower = Math.max(lower, Number(last) - this.retentionMs);
    }
    if (lower > toMs) return [];
    const out: Sample[] = [];
    const limit = options.count ?? Number.POSITIVE_INFINITY;
    const page = keep ? 5_000 : Math.min(limit, 10_000);
    let start = `${lower}-0`;
    let end = `${toMs}-${MAX_SEQ}`;
    for (;;) {
      const entries = await this.command(reverse ? 'XREVRANGE' : 'XRANGE', () =>
        (reverse
          ? this.redis.xrevrange(this.keys.raw, end, start, 'COUNT', page)
          : this.redis.xrange(this.keys.raw, start, end, 'COUNT', page)) as Promise<RawEntry[]>,
      );
      for (const [id, fields] of entries) {
        if (keep && !keep(this.valuesOf(fields))) continue;
        out.push(this.sampleOf(id, fields));
        if (out.length >= limit) return out;
      }
      if (entries.length < page) return out;
      const cursor = entries[entries.length - 1]![0];
      if (reverse) end = `(${cursor}`;
      else start = `(${cursor}`;
    }
  }

  /** The levels whose buckets tile buckets of `B` aligned to `align`, coarsest first. */
  private eligible(B: number, align: number): Level[] {
    return this.levels.filter((l) => B % l.bucketMs === 0 && mod(align, l.bucketMs) === 0).reverse();
  }

  /** The oldest closed bucket of each level (an XRANGE COUNT 1 each, sent together). */
  private levelHeads(levels: readonly Level[]): Promise<RawEntry[][]> {
    return Promise.all(levels.map((l) => this.command('XRANGE', () => this.redis.xrange(l.key, '-', '+', 'COUNT', 1) as Promise<RawEntry[]>)));
  }

  /** Splits [a, b) into level segments (coarsest first) and raw segments, in time order. */
  private plan(a: number, b: number, eligible: readonly Level[], firsts: readonly RawEntry[][], meta: Record<string, string>) {
    const covered: { level: Level; from: number; to: number }[] = [];
    eligible.forEach((level, i) => {
      const open = parseOpen(meta[`o:${level.bucketMs}`], this.fields.length);
      if (!open) return;
      const head = firsts[i]![0];
      let from = head ? Number(head[0].slice(0, head[0].indexOf('-'))) : open.start;
      if (level.retentionMs > 0) from = Math.max(from, ceilTo(open.start - level.retentionMs, level.bucketMs));
      covered.push({ level, from, to: open.start + level.bucketMs });
    });
    const out: { level?: Level; a: number; b: number }[] = [];
    const split = (lo: number, hi: number, depth: number) => {
      if (lo >= hi) return;
      for (let i = depth; i < covered.length; i++) {
        const c = covered[i]!;
        const s = Math.max(ceilTo(lo, c.level.bucketMs), c.from);
        const e = Math.min(floorTo(hi, c.level.bucketMs), c.to);
        if (s < e) {
          split(lo, s, i + 1);
          out.push({ level: c.level, a: s, b: e });
          split(e, hi, i + 1);
          return;
        }
      }
      out.push({ a: lo, b: hi });
    };
    split(a, b, 0);
    return out;
  }

  /** The partials of a level's buckets starting in [a, b), the open one included, oldest first. */
  private async levelBetween(level: Level, a: number, b: number, meta: Record<string, string>): Promise<[number, PartialAggregate][]> {
    const F = this.fields.length;
    const out: [number, PartialAggregate][] = [];
    let start = `${a}-0`;
    const end = `${b - 1}-${MAX_SEQ}`;
    for (;;) {
      const [text, count, lastId] = await this.command('EVALSHA level-range', () =>
        runScript<[string, number, string]>(this.redis, levelRange, [level.key], [start, end, String(LEVEL_PAGE)]),
      );
      if (count > 0) {
        for (const line of text.split('\n')) {
          const t = line.split(' ');
          out.push([Number(t[0]), partialFrom(t, 1, F)]);
        }
      }
      if (count < LEVEL_PAGE) break;
      start = `(${lastId}`;
    }
    const open = parseOpen(meta[`o:${level.bucketMs}`], F);
    if (open && open.start >= a && open.start < b && (out.length === 0 || out[out.length - 1]![0] < open.start)) {
      out.push([open.start, open.partial]);
    }
    return out;
  }

  /** Counts, times and memory of the series and each rollup level. */
  async info(): Promise<TimeSeriesInfo> {
    const redis = this.redis;
    const memory = (key: string) =>
      this.command('MEMORY USAGE', async () => Number((await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) ?? 0));
    const [samples, head, tail, meta, rawMemory, metaMemory] = await Promise.all([
      this.command('XLEN', () => redis.xlen(this.keys.raw)),
      this.command('XRANGE', () => redis.xrange(this.keys.raw, '-', '+', 'COUNT', 1) as Promise<RawEntry[]>),
      this.command('XREVRANGE', () => redis.xrevrange(this.keys.raw, '+', '-', 'COUNT', 1) as Promise<RawEntry[]>),
      this.meta(),
      memory(this.keys.raw),
      memory(this.keys.meta),
    ]);
    const rollups = await Promise.all(
      this.levels.map(async (level) => {
        const [length, first, bytes] = await Promise.all([
          this.command('XLEN', () => redis.xlen(level.key)),
          this.command('XRANGE', () => redis.xrange(level.key, '-', '+', 'COUNT', 1) as Promise<RawEntry[]>),
          memory(level.key),
        ]);
        const open = parseOpen(meta[`o:${level.bucketMs}`], this.fields.length);
        const firstBucket = first[0] ? Number(first[0][0].slice(0, first[0][0].indexOf('-'))) : (open?.start ?? null);
        return { bucketMs: level.bucketMs, retentionMs: level.retentionMs, buckets: length + (open ? 1 : 0), firstBucket, memoryBytes: bytes };
      }),
    );
    const time = (entries: RawEntry[]) => (entries[0] ? Number(entries[0][0].slice(0, entries[0][0].indexOf('-'))) : null);
    return {
      name: this.name,
      fields: [...this.fields],
      labels: { ...this.labels },
      retentionMs: this.retentionMs,
      outOfOrder: this.outOfOrder,
      samples,
      firstTimestamp: time(head),
      lastTimestamp: time(tail),
      memoryBytes: rawMemory + metaMemory + rollups.reduce((sum, r) => sum + r.memoryBytes, 0),
      rollups,
    };
  }

  /** Deletes the series' keys and removes it from the label index. */
  async delete(): Promise<void> {
    const redis = this.redis;
    const meta = await this.meta();
    const labels: Record<string, string> = meta.labels ? (JSON.parse(meta.labels) as Record<string, string>) : { ...this.labels };
    const rollups: RollupOptions[] = meta.rollups ? (JSON.parse(meta.rollups) as RollupOptions[]) : [...this.rollups];
    const keys = new Set([this.keys.raw, this.keys.meta, ...this.levels.map((l) => l.key), ...rollups.map((r) => this.keys.level(r.bucketMs))]);
    await this.command('DEL', () => redis.del(...keys));
    const index = indexKeys(this.client);
    const tx = redis.multi();
    tx.srem(index.all, this.name);
    for (const [label, value] of Object.entries(labels)) {
      tx.srem(index.has(label), this.name);
      tx.srem(index.eq(label, value), this.name);
    }
    await this.command('MULTI (label index)', () => tx.exec());
    this.ready = undefined;
  }
}

/** A partial from tokens `n s1 q1 m1 M1 f1 l1 s2 …` starting at `offset`. */
function partialFrom(t: readonly string[], offset: number, F: number): PartialAggregate {
  const partial: PartialAggregate = { n: Number(t[offset]), s: [], q: [], lo: [], hi: [], f: [], l: [] };
  for (let k = 0; k < F; k++) {
    const o = offset + 1 + k * 6;
    partial.s.push(Number(t[o]));
    partial.q.push(Number(t[o + 1]));
    partial.lo.push(Number(t[o + 2]));
    partial.hi.push(Number(t[o + 3]));
    partial.f.push(Number(t[o + 4]));
    partial.l.push(Number(t[o + 5]));
  }
  return partial;
}

/** The open bucket of a level, from its meta text `<start> <n> s1 q1 …`. */
function parseOpen(text: string | undefined, F: number): { start: number; partial: PartialAggregate } | undefined {
  if (!text) return undefined;
  const t = text.split(' ');
  return { start: Number(t[0]), partial: partialFrom(t, 1, F) };
}

/**
 * A time series on Redis Streams. Creating the object sends nothing; the first write (or
 * {@link TimeSeries.create}) records it and its labels.
 *
 * @example
 * ```ts
 * import { createStreamClient } from '@streamkit/core';
 * import { createTimeSeries } from '@streamkit/time-series';
 *
 * const client = createStreamClient({ redis: 'redis://127.0.0.1:6379' });
 * const load = createTimeSeries({
 *   client,
 *   name: 'load',
 *   fields: ['user', 'system'],
 *   retentionMs: 3_600_000,
 *   rollups: [{ bucketMs: 60_000, retentionMs: 86_400_000 }, { bucketMs: 3_600_000 }],
 * });
 * await load.add({ user: 12.5, system: 3.1 });
 * ```
 */
export function createTimeSeries(options: TimeSeriesOptions): TimeSeries {
  return new TimeSeries(options);
}
