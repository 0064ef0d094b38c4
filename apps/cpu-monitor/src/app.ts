import { EventEmitter } from 'node:events';
import type { StreamClient } from '@streamkit/core';
import { cpuSeries, recordCpu, type CpuRecorder, type CpuSample } from '@streamkit/time-series';
import { startDashboard, type Dashboard } from './dashboard.js';

/** Options of {@link startApp}. */
export interface AppOptions {
  client: StreamClient;
  /** Sampling interval. Default 1000 ms. */
  intervalMs?: number;
  /** Dashboard port; 0 picks a free one. Default 0. */
  port?: number;
  host?: string;
  /** The `instance` label (default: the host name). */
  instance?: string;
  /**
   * Before recording, fill this many hours of synthetic one-per-minute history (a demo aid, so
   * the 1 h and 24 h views have something to show on a fresh Redis). Default 0.
   */
  seedHours?: number;
}

/** A running cpu-monitor: the recorder and the dashboard. */
export interface App {
  readonly recorder: CpuRecorder;
  readonly dashboard: Dashboard;
  readonly samples: EventEmitter<{ sample: [CpuSample] }>;
  stop(): Promise<void>;
}

/**
 * Synthetic history: one sample a minute for `hours` hours before `now`, a daily-looking wave,
 * written to the recorder's series (it must run before the recorder writes its first sample).
 */
export async function seedHistory(series: CpuRecorder['series'], hours: number, now = Date.now()): Promise<number> {
  const points = Math.floor((hours * 3_600_000) / 60_000);
  const start = now - points * 60_000;
  const at = (i: number) => start + i * 60_000;
  const wave = (i: number, phase: number) => 0.5 + 0.5 * Math.sin((i / 90) * Math.PI + phase);
  const host = [];
  const proc = [];
  const secs = [];
  const loop = [];
  for (let i = 0; i < points; i++) {
    const user = Math.round((8 + 30 * wave(i, 0)) * 100) / 100;
    const system = Math.round((3 + 8 * wave(i, 1)) * 100) / 100;
    host.push({ timestamp: at(i), value: { user, nice: 0, system, idle: Math.round((100 - user - system) * 100) / 100, irq: 0 } });
    proc.push({ timestamp: at(i), value: { user: user / 4, system: system / 4, total: (user + system) / 4 } });
    secs.push({ timestamp: at(i), value: { user: i * 0.5, system: i * 0.1, total: i * 0.6 } });
    const mean = 0.011 + 0.004 * wave(i, 2);
    loop.push({ timestamp: at(i), value: { min: 0.01, max: mean * 3, mean, stddev: 0.001, p50: mean, p90: mean * 1.5, p99: mean * 2.5 } });
  }
  await Promise.all([series.host.addMany(host), series.process.addMany(proc), series.processSeconds.addMany(secs), series.eventLoop.addMany(loop)]);
  return points;
}

/** Starts recording CPU and serving the dashboard. */
export async function startApp(options: AppOptions): Promise<App> {
  const { client } = options;
  if (options.seedHours) await seedHistory(cpuSeries({ client, instance: options.instance }), options.seedHours);
  const samples = new EventEmitter<{ sample: [CpuSample] }>();
  const recorder = recordCpu({
    client,
    intervalMs: options.intervalMs ?? 1_000,
    instance: options.instance,
    labels: { app: 'cpu-monitor' },
    onSample: (sample) => samples.emit('sample', sample),
    onError: (error) => console.error('cpu-monitor: a sample was not written:', error instanceof Error ? error.message : error),
  });
  let dashboard: Dashboard;
  try {
    dashboard = await startDashboard({ series: recorder.series, samples, port: options.port, host: options.host });
  } catch (error) {
    await recorder.stop(); // else its interval would keep sampling (and the process alive)
    throw error;
  }
  return {
    recorder,
    dashboard,
    samples,
    async stop() {
      await recorder.stop();
      await dashboard.close();
    },
  };
}
