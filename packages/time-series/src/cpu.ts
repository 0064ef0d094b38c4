import { cpus, hostname } from 'node:os';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { ConfigError, type StreamClient } from '@streamkit/core';
import { createTimeSeries, type RollupOptions, type TimeSeries } from './timeSeries.js';

/** Options of {@link recordCpu}. */
export interface RecordCpuOptions {
  /** The streamkit client to write with. */
  client: StreamClient;
  /** How often to sample, in ms. Default 1000. */
  intervalMs?: number;
  /** Extra labels of every series (each series also gets `__name__` and `instance`). */
  labels?: Record<string, string>;
  /** The `instance` label and series name suffix. Default: this machine's host name. */
  instance?: string;
  /** Raw retention of every series. Default one hour. */
  retentionMs?: number;
  /** Rollup levels of every series. Default 10 s for a day, 1 min for a week, 1 h for 90 days. */
  rollups?: readonly RollupOptions[];
  /** Called after each sample is written. */
  onSample?: (sample: CpuSample) => void;
  /** Called when a sample could not be written (the recorder keeps going). */
  onError?: (error: unknown) => void;
}

/** Host CPU time by mode, as a percentage of all cores over the interval. */
export interface HostCpu {
  user: number;
  nice: number;
  system: number;
  idle: number;
  irq: number;
}

/** One tick of {@link recordCpu}: what was written to each series. */
export interface CpuSample {
  timestamp: number;
  /** `host_cpu_usage_percent`. */
  host: HostCpu;
  /** `process_cpu_usage_percent`: this process's CPU, in % of one core (like `top`). */
  process: { user: number; system: number; total: number };
  /** `process_cpu_seconds_total`: this process's CPU time so far, as prom-client reports it. */
  processSeconds: { user: number; system: number; total: number };
  /** `nodejs_eventloop_lag_seconds`: event-loop delay over the interval, in seconds. */
  eventLoop: { min: number; max: number; mean: number; stddev: number; p50: number; p90: number; p99: number };
}

/** A running CPU recorder; see {@link recordCpu}. */
export interface CpuRecorder {
  /** The series written, by what they hold. */
  readonly series: {
    host: TimeSeries;
    process: TimeSeries;
    processSeconds: TimeSeries;
    eventLoop: TimeSeries;
  };
  /** Samples written so far. */
  readonly samples: number;
  /** The last write error, if any. */
  readonly lastError: unknown;
  /** Takes and writes one sample now (the interval goes on). */
  sample(): Promise<CpuSample>;
  /** Stops sampling and waits for a write in flight. */
  stop(): Promise<void>;
}

/** The metric names, after prom-client's conventions (snake_case, unit suffix, `_total` for counters). */
export const CPU_METRICS = {
  host: 'host_cpu_usage_percent',
  process: 'process_cpu_usage_percent',
  processSeconds: 'process_cpu_seconds_total',
  eventLoop: 'nodejs_eventloop_lag_seconds',
} as const;

const HOST_FIELDS = ['user', 'nice', 'system', 'idle', 'irq'] as const;
const DEFAULT_ROLLUPS: RollupOptions[] = [
  { bucketMs: 10_000, retentionMs: 86_400_000 },
  { bucketMs: 60_000, retentionMs: 7 * 86_400_000 },
  { bucketMs: 3_600_000, retentionMs: 90 * 86_400_000 },
];

function hostTimes(): HostCpu {
  const total: HostCpu = { user: 0, nice: 0, system: 0, idle: 0, irq: 0 };
  for (const cpu of cpus()) {
    total.user += cpu.times.user;
    total.nice += cpu.times.nice;
    total.system += cpu.times.sys;
    total.idle += cpu.times.idle;
    total.irq += cpu.times.irq;
  }
  return total;
}

const round = (value: number, digits = 3) => Math.round(value * 10 ** digits) / 10 ** digits;

function eventLoopOf(histogram: IntervalHistogram): CpuSample['eventLoop'] {
  const s = (ns: number) => (Number.isFinite(ns) ? round(ns / 1e9, 6) : 0);
  if (histogram.count === 0 || histogram.min > histogram.max) return { min: 0, max: 0, mean: 0, stddev: 0, p50: 0, p90: 0, p99: 0 };
  return {
    min: s(histogram.min),
    max: s(histogram.max),
    mean: s(histogram.mean),
    stddev: s(histogram.stddev),
    p50: s(histogram.percentile(50)),
    p90: s(histogram.percentile(90)),
    p99: s(histogram.percentile(99)),
  };
}

/** Options of {@link cpuSeries}: where {@link recordCpu} writes. */
export type CpuSeriesOptions = Pick<RecordCpuOptions, 'client' | 'labels' | 'instance' | 'retentionMs' | 'rollups'>;

/**
 * The four series {@link recordCpu} writes, without recording anything: to read them from
 * another process, or to load history before a recorder starts.
 */
export function cpuSeries(options: CpuSeriesOptions): CpuRecorder['series'] {
  const { client } = options;
  const instance = options.instance ?? hostname();
  const make = (metric: string, fields: readonly string[]) =>
    createTimeSeries({
      client,
      name: `${metric}:${instance}`,
      fields,
      labels: { ...options.labels, __name__: metric, instance },
      retentionMs: options.retentionMs ?? 3_600_000,
      rollups: options.rollups ?? DEFAULT_ROLLUPS,
      outOfOrder: 'clamp',
    });
  return {
    host: make(CPU_METRICS.host, HOST_FIELDS),
    process: make(CPU_METRICS.process, ['user', 'system', 'total']),
    processSeconds: make(CPU_METRICS.processSeconds, ['user', 'system', 'total']),
    eventLoop: make(CPU_METRICS.eventLoop, ['min', 'max', 'mean', 'stddev', 'p50', 'p90', 'p99']),
  };
}

/**
 * Records this machine's CPU every `intervalMs` into four series, each labelled
 * `__name__=<metric>` and `instance=<host name>` and named `<metric>:<instance>`:
 * `host_cpu_usage_percent` (user, nice, system, idle, irq: `os.cpus()` deltas over all cores),
 * `process_cpu_usage_percent` and `process_cpu_seconds_total` (user, system, total, from
 * `process.cpuUsage()`), and `nodejs_eventloop_lag_seconds` (min, max, mean, stddev, p50, p90,
 * p99 from `monitorEventLoopDelay`). Late samples (a clock step back) are clamped.
 *
 * @example
 * ```ts
 * const recorder = recordCpu({ client, intervalMs: 1000, labels: { app: 'api' } });
 * // ...
 * await recorder.stop();
 * ```
 */
export function recordCpu(options: RecordCpuOptions): CpuRecorder {
  const intervalMs = options.intervalMs ?? 1_000;
  if (!Number.isSafeInteger(intervalMs) || intervalMs < 10) throw new ConfigError(`recordCpu: intervalMs must be an integer ≥ 10, got ${String(intervalMs)}`);
  const series = cpuSeries(options);

  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  let previousHost = hostTimes();
  let previousProcess = process.cpuUsage();
  let previousTime = performance.now();
  let samples = 0;
  let lastError: unknown;
  let stopped = false;
  let inFlight: Promise<unknown> = Promise.resolve();

  const take = (): CpuSample => {
    const now = performance.now();
    const host = hostTimes();
    const usage = process.cpuUsage();
    const delta = { ...host };
    let total = 0;
    for (const mode of HOST_FIELDS) {
      delta[mode] = Math.max(0, host[mode] - previousHost[mode]);
      total += delta[mode];
    }
    const hostPercent = { ...delta };
    for (const mode of HOST_FIELDS) hostPercent[mode] = total > 0 ? round((delta[mode] / total) * 100) : 0;
    const elapsedUs = Math.max(1, (now - previousTime) * 1_000);
    const userUs = usage.user - previousProcess.user;
    const systemUs = usage.system - previousProcess.system;
    const sample: CpuSample = {
      timestamp: Date.now(),
      host: hostPercent,
      process: {
        user: round((userUs / elapsedUs) * 100),
        system: round((systemUs / elapsedUs) * 100),
        total: round(((userUs + systemUs) / elapsedUs) * 100),
      },
      processSeconds: { user: usage.user / 1e6, system: usage.system / 1e6, total: (usage.user + usage.system) / 1e6 },
      eventLoop: eventLoopOf(histogram),
    };
    histogram.reset();
    previousHost = host;
    previousProcess = usage;
    previousTime = now;
    return sample;
  };

  const write = async (): Promise<CpuSample> => {
    const sample = take();
    const timestamp = sample.timestamp;
    await Promise.all([
      series.host.add({ ...sample.host }, { timestamp }),
      series.process.add({ ...sample.process }, { timestamp }),
      series.processSeconds.add({ ...sample.processSeconds }, { timestamp }),
      series.eventLoop.add({ ...sample.eventLoop }, { timestamp }),
    ]);
    samples++;
    options.onSample?.(sample);
    return sample;
  };

  const tick = () => {
    inFlight = write().catch((error: unknown) => {
      lastError = error;
      options.onError?.(error);
    });
  };
  const timer = setInterval(() => {
    if (!stopped) tick();
  }, intervalMs);

  return {
    series,
    get samples() {
      return samples;
    },
    get lastError() {
      return lastError;
    },
    async sample() {
      const next = write();
      inFlight = next.catch(() => undefined);
      return next;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      histogram.disable();
      await inFlight;
    },
  };
}
