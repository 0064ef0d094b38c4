import { randomBytes } from 'node:crypto';
import { createStreamClient } from '@streamkit/core';
import type { Sample, TimeSeries } from '@streamkit/time-series';
import { startApp } from './app.js';
import type { RangeReply } from './dashboard.js';
import { sparkline } from './sparkline.js';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  redisUrl: string;
  /** Where the summary goes. Default console.log. */
  log?: (line: string) => void;
  /** How long to record. Default 5. */
  seconds?: number;
  /** Sampling interval of the demo. Default 500 ms, for a livelier sparkline. */
  intervalMs?: number;
}

/** One line of the demo's summary table. */
export interface DemoRow {
  metric: string;
  samples: number;
  last: number;
  min: number;
  avg: number;
  max: number;
  sparkline: string;
}

/** What {@link runDemo} measured. */
export interface DemoSummary {
  rows: DemoRow[];
  dashboardUrl: string;
  /** Buckets the dashboard's 5-minute view answered from rollups. */
  rangeBuckets: number;
}

function row(metric: string, samples: Sample[], field: string, scale = 1): DemoRow {
  const values = samples.map((s) => s.values[field]! * scale);
  const round = (v: number) => Math.round(v * 100) / 100;
  return {
    metric,
    samples: values.length,
    last: round(values[values.length - 1] ?? Number.NaN),
    min: round(Math.min(...values)),
    avg: round(values.reduce((a, b) => a + b, 0) / values.length),
    max: round(Math.max(...values)),
    sparkline: sparkline(values),
  };
}

/**
 * Runs cpu-monitor for a few seconds against `redisUrl` (under a fresh key prefix, removed
 * afterwards), asks its dashboard for the 5-minute view, and prints a summary table with a
 * sparkline per metric.
 */
export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const log = options.log ?? ((line: string) => console.log(line));
  const seconds = options.seconds ?? 5;
  const prefix = `demo:cpu-monitor:${randomBytes(3).toString('hex')}:`;
  const client = createStreamClient({ redis: options.redisUrl, prefix });
  const app = await startApp({ client, intervalMs: options.intervalMs ?? 500, instance: 'demo' });
  const series = app.recorder.series;
  try {
    log(`cpu-monitor: recording CPU every ${options.intervalMs ?? 500} ms for ${seconds} s; dashboard at ${app.dashboard.url}`);
    // A little work, so the process line moves.
    const until = Date.now() + seconds * 1_000;
    while (Date.now() < until) {
      const busyUntil = Date.now() + 60;
      let x = 0;
      while (Date.now() < busyUntil) x += Math.sqrt(x + 1);
      await new Promise((resolve) => setTimeout(resolve, 140));
    }
    await app.recorder.stop();
    const range = (await (await fetch(`${app.dashboard.url}/api/range?window=5m`)).json()) as RangeReply;
    const [host, proc, loop] = await Promise.all([series.host.range(), series.process.range(), series.eventLoop.range()]);
    const rows = [
      row('host cpu user %', host, 'user'),
      row('host cpu system %', host, 'system'),
      row('host cpu idle %', host, 'idle'),
      row('process cpu %', proc, 'total'),
      row('event loop p99 ms', loop, 'p99', 1_000),
    ];
    const headers = ['metric', 'samples', 'last', 'min', 'avg', 'max', 'sparkline'];
    const cells = rows.map((r) => [r.metric, String(r.samples), String(r.last), String(r.min), String(r.avg), String(r.max), r.sparkline]);
    const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
    const line = (c: string[]) => c.map((v, i) => (i === 0 || i === 6 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ');
    log(line(headers));
    log(widths.map((w) => '-'.repeat(w)).join('  '));
    for (const c of cells) log(line(c));
    const levels = [...new Set(range.plan.filter((s) => s.source === 'rollup').map((s) => `${(s as { bucketMs: number }).bucketMs / 1000} s`))];
    log(`dashboard 5 min view: ${range.points.length} buckets of ${range.bucketMs / 1000} s (avg), rollup levels used: ${levels.join(', ') || 'none (all in the open bucket)'}`);
    return { rows, dashboardUrl: app.dashboard.url, rangeBuckets: range.points.length };
  } finally {
    await app.stop();
    await Promise.all(Object.values(series).map((s: TimeSeries) => s.delete()));
    await client.close();
  }
}
