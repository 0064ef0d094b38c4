// Test helpers: a seeded random source and a reference implementation of range queries computed
// directly from the samples (two-pass variance, sorting for percentiles), to check the library against.
import type { Aggregation, RangeOptions, Sample } from '../index.js';

export interface Point {
  ts: number;
  v: number[];
}

/** mulberry32: a small deterministic PRNG, so a failing case can be replayed from its seed. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const mod = (a: number, b: number) => ((a % b) + b) % b;

function aggregate(values: number[], aggregation: Aggregation): number {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const m2 = values.reduce((a, v) => a + (v - mean) ** 2, 0);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.min(n, Math.max(1, Math.ceil((p / 100) * n))) - 1]!;
  switch (aggregation) {
    case 'avg':
      return mean;
    case 'sum':
      return values.reduce((a, b) => a + b, 0);
    case 'min':
      return sorted[0]!;
    case 'max':
      return sorted[n - 1]!;
    case 'range':
      return sorted[n - 1]! - sorted[0]!;
    case 'count':
      return n;
    case 'first':
      return values[0]!;
    case 'last':
      return values[n - 1]!;
    case 'var.p':
      return m2 / n;
    case 'var.s':
      return n > 1 ? m2 / (n - 1) : 0;
    case 'std.p':
      return Math.sqrt(m2 / n);
    case 'std.s':
      return n > 1 ? Math.sqrt(m2 / (n - 1)) : 0;
    case 'p50':
      return rank(50);
    case 'p90':
      return rank(90);
    case 'p95':
      return rank(95);
    case 'p99':
      return rank(99);
  }
}

/**
 * What a range query must return, computed from all samples. `visibleFrom`: samples older than
 * this are gone (retention).
 */
export function referenceRange(
  points: readonly Point[],
  fields: readonly string[],
  from: number | '-',
  to: number | '+',
  options: RangeOptions,
  reverse = false,
  visibleFrom = 0,
): Sample[] {
  if (points.length === 0) return [];
  const fromMs = from === '-' ? 0 : from;
  const toMs = to === '+' ? Number.MAX_SAFE_INTEGER - 1 : to;
  const last = points[points.length - 1]!.ts;
  const hi = Math.min(toMs, last);
  const filter = options.filterByValue;
  const fk = filter?.field ? fields.indexOf(filter.field) : 0;
  const selected = points.filter(
    (p) =>
      p.ts >= Math.max(fromMs, visibleFrom) &&
      p.ts <= hi &&
      (!filter || ((filter.min === undefined || p.v[fk]! >= filter.min) && (filter.max === undefined || p.v[fk]! <= filter.max))),
  );
  const sample = (timestamp: number, row: number[]): Sample => {
    const values: Record<string, number> = {};
    fields.forEach((f, k) => (values[f] = row[k]!));
    return { timestamp, value: row[0]!, values };
  };
  let out: Sample[];
  if (!options.aggregation) {
    out = selected.map((p) => sample(p.ts, p.v));
  } else {
    const B = options.bucketMs!;
    const align = options.align === 'start' ? fromMs : options.align === 'end' ? toMs : (options.align ?? 0);
    const start = (t: number) => t - mod(t - align, B);
    const buckets = new Map<number, Point[]>();
    for (const p of selected) buckets.set(start(p.ts), [...(buckets.get(start(p.ts)) ?? []), p]);
    let slots = [...buckets.keys()].sort((a, b) => a - b);
    if (options.empty && (slots.length > 0 || from !== '-') && fromMs <= hi) {
      const first = from === '-' ? slots[0]! : start(fromMs);
      slots = [];
      for (let t = first; t <= start(hi); t += B) slots.push(t);
    }
    const shift = options.bucketTimestamp === 'mid' ? Math.floor(B / 2) : options.bucketTimestamp === 'end' ? B : 0;
    let previous: number[] | undefined;
    out = slots.map((t) => {
      const members = buckets.get(t);
      const agg = options.aggregation!;
      const row = members
        ? fields.map((_, k) => aggregate(members.map((p) => p.v[k]!), agg))
        : fields.map((_, k) => (agg === 'sum' || agg === 'count' ? 0 : agg === 'last' && previous ? previous[k]! : Number.NaN));
      previous = row;
      return sample(t + shift, row);
    });
  }
  if (reverse) out.reverse();
  return options.count !== undefined ? out.slice(0, options.count) : out;
}

/** True when two numbers agree to floating-point noise (NaN equals NaN). */
export function close(a: number, b: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  return Math.abs(a - b) <= 1e-6 + 1e-7 * Math.max(Math.abs(a), Math.abs(b));
}

/** A readable difference between two sample lists, or undefined when they agree. */
export function diffSamples(actual: readonly Sample[], expected: readonly Sample[]): string | undefined {
  if (actual.length !== expected.length) {
    return `length ${actual.length} != ${expected.length}; first actual ${JSON.stringify(actual.slice(0, 3))}, expected ${JSON.stringify(expected.slice(0, 3))}`;
  }
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (a.timestamp !== e.timestamp) return `#${i}: timestamp ${a.timestamp} != ${e.timestamp}`;
    for (const field of Object.keys(e.values)) {
      if (!close(a.values[field]!, e.values[field]!)) return `#${i} (t=${a.timestamp}) field ${field}: ${a.values[field]} != ${e.values[field]}`;
    }
    if (!close(a.value, e.value)) return `#${i}: value ${a.value} != ${e.value}`;
  }
  return undefined;
}
