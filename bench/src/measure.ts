/**
 * Timing helpers shared by the suites: warm up, repeat N rounds, report the median ops/s.
 *
 * Several contenders are measured by {@link alternate}, which runs them interleaved (round r
 * starts with contender r mod n), so a slow phase of the machine (another process, a GC, the
 * server rewriting memory) spreads over all of them instead of landing on one.
 */
import type { BenchResult } from './types.js';

/** The spread of one contender's rounds. */
export interface Sample {
  /** Median ops/s over the measured rounds. */
  median: number;
  min: number;
  max: number;
  /** ops/s of every measured round, in order. */
  rounds: number[];
}

/** One contender of {@link alternate}. */
export interface Contender {
  name: string;
  /** Untimed preparation before each round (delete a key, create a group). */
  before?: () => Promise<void>;
  /** The timed work; resolves to the number of operations it did (entries written, read, acked). */
  run: () => Promise<number>;
  /** Untimed check or cleanup after each round (verify the result, delete keys). */
  after?: (ops: number) => Promise<void>;
}

/** Rounds of {@link alternate} and {@link measure}. */
export interface RoundOptions {
  /** Measured rounds per contender (default 5). */
  rounds?: number;
  /** Unmeasured rounds per contender first, to warm the JIT, the connections and the server (default 1). */
  warmup?: number;
}

/** The median of some numbers. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function sample(rounds: number[]): Sample {
  return { median: median(rounds), min: Math.min(...rounds), max: Math.max(...rounds), rounds };
}

/** Runs one round of a contender and returns its ops/s. */
async function timeRound(contender: Contender): Promise<number> {
  await contender.before?.();
  const start = process.hrtime.bigint();
  const ops = await contender.run();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await contender.after?.(ops);
  if (!Number.isFinite(ops) || ops <= 0) throw new Error(`${contender.name}: a round must report a positive number of operations, got ${ops}`);
  return ops / seconds;
}

/**
 * Measures contenders interleaved: `warmup` unmeasured rounds each, then `rounds` measured
 * rounds each, round r starting with contender r mod n. Returns a {@link Sample} per name.
 */
export async function alternate(contenders: readonly Contender[], options: RoundOptions = {}): Promise<Map<string, Sample>> {
  const rounds = options.rounds ?? 5;
  const warmup = options.warmup ?? 1;
  const names = new Set(contenders.map((c) => c.name));
  if (names.size !== contenders.length) throw new Error('alternate: contender names must be unique');
  const results = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  for (let round = 0; round < warmup + rounds; round++) {
    for (let k = 0; k < contenders.length; k++) {
      const contender = contenders[(round + k) % contenders.length]!;
      const opsPerSec = await timeRound(contender);
      if (round >= warmup) results.get(contender.name)!.push(opsPerSec);
    }
  }
  return new Map([...results].map(([name, values]) => [name, sample(values)]));
}

/** Measures one function alone: warm-up rounds, then the median ops/s of `rounds` rounds. */
export async function measure(run: () => Promise<number>, options: RoundOptions = {}): Promise<Sample> {
  const samples = await alternate([{ name: 'run', run }], options);
  return samples.get('run')!;
}

/** The value at quantile `q` (0…1) of some numbers, interpolated. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  const high = Math.ceil(at);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (at - low);
}

/** The relative spread of a sample for notes: half its interquartile range, `±x%` of its median. */
export function spread(s: Sample): string {
  const half = (quantile(s.rounds, 0.75) - quantile(s.rounds, 0.25)) / 2;
  return `±${s.median > 0 ? Math.round((half / s.median) * 100) : 0}%`;
}

/** A result row from two samples: ratio = subject / baseline. */
export function row(name: string, subject: Sample, baseline: string, base: Sample, note?: string): BenchResult {
  const round = (value: number) => (Math.abs(value) >= 100 ? Math.round(value) : Number(value.toPrecision(3)));
  const result: BenchResult = {
    name,
    opsPerSec: round(subject.median),
    baseline,
    baselineOpsPerSec: round(base.median),
    ratio: Math.round((subject.median / base.median) * 1000) / 1000,
  };
  if (note !== undefined) result.note = note;
  return result;
}
