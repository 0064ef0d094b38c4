/**
 * Aggregation math shared by queries and tests: mergeable partial aggregates (count, sum, sum of
 * squares, min, max, first, last per field), epoch-aligned buckets, and exact percentiles.
 */

/** Aggregations computed from mergeable partials (and so answerable from rollups). */
export const MERGEABLE_AGGREGATIONS = [
  'avg',
  'sum',
  'min',
  'max',
  'range',
  'count',
  'first',
  'last',
  'std.p',
  'std.s',
  'var.p',
  'var.s',
] as const;

/** Percentile aggregations: exact, computed from raw samples. */
export const PERCENTILE_AGGREGATIONS = ['p50', 'p90', 'p95', 'p99'] as const;

/** Every aggregation a range query accepts. */
export type Aggregation = (typeof MERGEABLE_AGGREGATIONS)[number] | (typeof PERCENTILE_AGGREGATIONS)[number];

/** Every aggregation name, for validation. */
export const AGGREGATIONS: readonly Aggregation[] = [...MERGEABLE_AGGREGATIONS, ...PERCENTILE_AGGREGATIONS];

/** True for the aggregations that need raw samples. */
export function isPercentile(aggregation: Aggregation): aggregation is (typeof PERCENTILE_AGGREGATIONS)[number] {
  return (PERCENTILE_AGGREGATIONS as readonly string[]).includes(aggregation);
}

/**
 * A mergeable partial aggregate of a set of samples, one slot per field. Merging two partials in
 * time order gives the partial of the union.
 */
export interface PartialAggregate {
  /** Number of samples. */
  n: number;
  /** Per field: sum. */
  s: number[];
  /** Per field: sum of squares. */
  q: number[];
  /** Per field: minimum. */
  lo: number[];
  /** Per field: maximum. */
  hi: number[];
  /** Per field: the first value (oldest sample). */
  f: number[];
  /** Per field: the last value (newest sample). */
  l: number[];
}

/** A partial of one sample. */
export function partialOf(values: readonly number[]): PartialAggregate {
  return {
    n: 1,
    s: [...values],
    q: values.map((v) => v * v),
    lo: [...values],
    hi: [...values],
    f: [...values],
    l: [...values],
  };
}

/** Folds one sample (newer than everything in `into`) into a partial. */
export function addSample(into: PartialAggregate, values: readonly number[]): void {
  into.n += 1;
  for (let k = 0; k < values.length; k++) {
    const v = values[k]!;
    into.s[k]! += v;
    into.q[k]! += v * v;
    if (v < into.lo[k]!) into.lo[k] = v;
    if (v > into.hi[k]!) into.hi[k] = v;
    into.l[k] = v;
  }
}

/** Merges `next` (whose samples are all newer) into `into`. */
export function mergePartial(into: PartialAggregate, next: PartialAggregate): void {
  if (next.n === 0) return;
  if (into.n === 0) {
    Object.assign(into, clonePartial(next));
    return;
  }
  into.n += next.n;
  for (let k = 0; k < into.s.length; k++) {
    into.s[k]! += next.s[k]!;
    into.q[k]! += next.q[k]!;
    if (next.lo[k]! < into.lo[k]!) into.lo[k] = next.lo[k]!;
    if (next.hi[k]! > into.hi[k]!) into.hi[k] = next.hi[k]!;
    into.l[k] = next.l[k]!;
  }
}

function clonePartial(p: PartialAggregate): PartialAggregate {
  return { n: p.n, s: [...p.s], q: [...p.q], lo: [...p.lo], hi: [...p.hi], f: [...p.f], l: [...p.l] };
}

function variance(p: PartialAggregate, k: number, sample: boolean): number {
  if (p.n === 0) return Number.NaN;
  if (sample && p.n < 2) return 0;
  const s = p.s[k]!;
  const squares = p.q[k]! - (s * s) / p.n;
  return Math.max(0, squares / (sample ? p.n - 1 : p.n));
}

/** The value of a mergeable aggregation for field `k` of a partial. */
export function finalize(p: PartialAggregate, k: number, aggregation: Aggregation): number {
  switch (aggregation) {
    case 'avg':
      return p.s[k]! / p.n;
    case 'sum':
      return p.s[k]!;
    case 'min':
      return p.lo[k]!;
    case 'max':
      return p.hi[k]!;
    case 'range':
      return p.hi[k]! - p.lo[k]!;
    case 'count':
      return p.n;
    case 'first':
      return p.f[k]!;
    case 'last':
      return p.l[k]!;
    case 'var.p':
      return variance(p, k, false);
    case 'var.s':
      return variance(p, k, true);
    case 'std.p':
      return Math.sqrt(variance(p, k, false));
    case 'std.s':
      return Math.sqrt(variance(p, k, true));
    default:
      throw new TypeError(`aggregation ${aggregation} is not mergeable`);
  }
}

/**
 * An exact percentile by the nearest-rank method: the smallest value such that at least `p`% of
 * the values are at or below it (the value at rank ⌈p/100 · n⌉ of the sorted values).
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

/** The percentile number of a percentile aggregation (`p95` → 95). */
export function percentileOf(aggregation: Aggregation): number {
  return Number(aggregation.slice(1));
}

/** The start of the bucket holding `t`, for buckets of `bucketMs` aligned to `align` (epoch: 0). */
export function bucketStart(t: number, bucketMs: number, align: number): number {
  const offset = (((t - align) % bucketMs) + bucketMs) % bucketMs;
  return t - offset;
}

/** The first multiple of `step` at or after `t`. */
export function ceilTo(t: number, step: number): number {
  const r = ((t % step) + step) % step;
  return r === 0 ? t : t - r + step;
}

/** The last multiple of `step` at or before `t`. */
export function floorTo(t: number, step: number): number {
  return t - (((t % step) + step) % step);
}

/** The value an empty bucket reports: 0 for `sum` and `count`, NaN otherwise (`last`: see the caller). */
export function emptyValue(aggregation: Aggregation): number {
  return aggregation === 'sum' || aggregation === 'count' ? 0 : Number.NaN;
}
