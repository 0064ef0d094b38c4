/**
 * The contract between the bench runner (`main.ts`) and its suites (`suites/*.ts`).
 *
 * A suite file is `export default async function run(ctx: BenchContext): Promise<BenchResult[]>`.
 */

/** What the runner hands a suite. */
export interface BenchContext {
  /** A redis:// URL of a server the suite may fill. */
  url: string;
  /** `--quick`: a short smoke run (fewer entries, fewer rounds). */
  quick: boolean;
  /** A fresh key prefix for this suite; the suite deletes the keys it creates under it. */
  prefix: string;
}

/** One row of the results table: streamkit against its raw baseline, measured in the same run. */
export interface BenchResult {
  /** What streamkit did, e.g. `addMany (batches of 1000)`. */
  name: string;
  /** streamkit's throughput. Latency-style results are expressed as ops/s too. */
  opsPerSec: number;
  /** What it is compared with, e.g. `ioredis pipeline XADD`. */
  baseline: string;
  baselineOpsPerSec: number;
  /** `opsPerSec / baselineOpsPerSec`. */
  ratio: number;
  /** A short remark: the goal, the spread, what the row measures. */
  note?: string;
}

/** The shape of a suite module. */
export type BenchSuite = (ctx: BenchContext) => Promise<BenchResult[]>;
