import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CpuRecorder, CpuSample, QuerySegment, Sample, TimeSeries } from '@streamkit/time-series';
import { PAGE } from './page.js';

/** The range picker's windows, each answered from a rollup level. */
export const WINDOWS = {
  '5m': { spanMs: 5 * 60_000, bucketMs: 10_000 },
  '1h': { spanMs: 3_600_000, bucketMs: 60_000 },
  '24h': { spanMs: 86_400_000, bucketMs: 600_000 },
} as const;

export type WindowName = keyof typeof WINDOWS;

/** Options of {@link startDashboard}. */
export interface DashboardOptions {
  /** The series to show (a recorder's, or `cpuSeries()` for a read-only dashboard). */
  series: CpuRecorder['series'];
  /** Live samples for the server-sent events, usually fed by the recorder's `onSample`. */
  samples: EventEmitter<{ sample: [CpuSample] }>;
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Address to listen on. Default 127.0.0.1. */
  host?: string;
}

/** A running dashboard. */
export interface Dashboard {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

/** One point of the chart: time, CPU per mode (%), process CPU (%), event-loop delay (ms). */
export interface ChartPoint {
  t: number;
  user: number;
  system: number;
  nice: number;
  irq: number;
  idle: number;
  process: number;
  loopMean: number;
  loopP99: number;
}

/** What `/api/range` answers. */
export interface RangeReply {
  window: WindowName;
  bucketMs: number;
  aggregation: 'avg';
  points: ChartPoint[];
  /** Where the host series' answer came from (rollup levels and raw edges). */
  plan: QuerySegment[];
}

function pointsOf(host: Sample[], proc: Sample[], loop: Sample[]): ChartPoint[] {
  const procAt = new Map(proc.map((s) => [s.timestamp, s]));
  const loopAt = new Map(loop.map((s) => [s.timestamp, s]));
  const ms = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? 0 : Math.round(v * 1e6) / 1e3);
  const num = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? 0 : Math.round(v * 100) / 100);
  return host.map((h) => ({
    t: h.timestamp,
    user: num(h.values.user),
    system: num(h.values.system),
    nice: num(h.values.nice),
    irq: num(h.values.irq),
    idle: num(h.values.idle),
    process: num(procAt.get(h.timestamp)?.values.total),
    loopMean: ms(loopAt.get(h.timestamp)?.values.mean),
    loopP99: ms(loopAt.get(h.timestamp)?.values.p99),
  }));
}

/** The chart point of a live sample. */
export function livePoint(sample: CpuSample): ChartPoint {
  return {
    t: sample.timestamp,
    user: sample.host.user,
    system: sample.host.system,
    nice: sample.host.nice,
    irq: sample.host.irq,
    idle: sample.host.idle,
    process: sample.process.total,
    loopMean: Math.round(sample.eventLoop.mean * 1e6) / 1e3,
    loopP99: Math.round(sample.eventLoop.p99 * 1e6) / 1e3,
  };
}

/** Averages over a window, from rollups (10 s, 1 min or 10 min buckets). */
export async function rangeOf(series: CpuRecorder['series'], window: WindowName, now = Date.now()): Promise<RangeReply> {
  const { spanMs, bucketMs } = WINDOWS[window];
  const from = now - spanMs;
  const options = { aggregation: 'avg', bucketMs } as const;
  const query = (s: TimeSeries) => s.range(from, now, options);
  const [host, proc, loop, plan] = await Promise.all([
    query(series.host),
    query(series.process),
    query(series.eventLoop),
    series.host.explain(from, now, options),
  ]);
  return { window, bucketMs, aggregation: 'avg', points: pointsOf(host, proc, loop), plan };
}

/** The raw samples of the last `ms` (the live view's start). */
export async function liveOf(series: CpuRecorder['series'], ms = 5 * 60_000, now = Date.now()): Promise<ChartPoint[]> {
  const [host, proc, loop] = await Promise.all([
    series.host.range(now - ms, '+'),
    series.process.range(now - ms, '+'),
    series.eventLoop.range(now - ms, '+'),
  ]);
  return pointsOf(host, proc, loop);
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

/**
 * Serves the dashboard: `/` (the page), `/events` (server-sent events, one per sample),
 * `/api/live` (the last 5 minutes of raw samples) and `/api/range?window=5m|1h|24h` (averages
 * from rollups).
 */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const { series, samples } = options;
  const streams = new Set<ServerResponse>();
  // One listener for every open event stream (a listener each tripped the emitter's leak warning past 10 tabs).
  const broadcast = (sample: CpuSample) => {
    const event = `data: ${JSON.stringify(livePoint(sample))}\n\n`;
    for (const res of streams) res.write(event);
  };
  samples.on('sample', broadcast);
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET') return send(res, 405, 'text/plain', 'method not allowed');
    switch (url.pathname) {
      case '/':
        return send(res, 200, 'text/html; charset=utf-8', PAGE);
      case '/api/live':
        return send(res, 200, 'application/json', JSON.stringify({ points: await liveOf(series) }));
      case '/api/range': {
        const window = url.searchParams.get('window') ?? '5m';
        if (!(window in WINDOWS)) return send(res, 400, 'application/json', JSON.stringify({ error: `window must be one of ${Object.keys(WINDOWS).join(', ')}` }));
        return send(res, 200, 'application/json', JSON.stringify(await rangeOf(series, window as WindowName)));
      }
      case '/events': {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
        res.write('retry: 2000\n\n');
        streams.add(res);
        req.on('close', () => streams.delete(res));
        return;
      }
      default:
        return send(res, 404, 'text/plain', 'not found');
    }
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, 'application/json', JSON.stringify({ error: error instanceof Error ? error.message : String(error) }));
      else res.end();
    });
  });
  const heartbeat = setInterval(() => {
    for (const res of streams) res.write(': keep-alive\n\n');
  }, 15_000);
  heartbeat.unref();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
    });
  } catch (error) {
    clearInterval(heartbeat);
    samples.off('sample', broadcast);
    throw error;
  }
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.address}:${address.port}`,
    server,
    async close() {
      clearInterval(heartbeat);
      samples.off('sample', broadcast);
      for (const res of streams) res.end();
      streams.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
