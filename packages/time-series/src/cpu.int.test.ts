import { createStreamClient, type StreamClient } from '@streamkit/core';
import { redisTargets, useRedis } from '@streamkit/testing';
import { describe, expect, it } from 'vitest';
import { CPU_METRICS, createTimeSeriesIndex, recordCpu, type CpuSample } from './index.js';

describe.each(redisTargets())('recordCpu on %s', (target) => {
  const ctx = useRedis(target);
  const clientOf = (): StreamClient => createStreamClient({ redis: ctx.redis, prefix: ctx.prefix });

  it('writes host CPU per mode, process CPU and event-loop delay every interval, labelled for the index', async () => {
    const client = clientOf();
    const seen: CpuSample[] = [];
    let enough: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (enough = resolve));
    const recorder = recordCpu({
      client,
      intervalMs: 50,
      instance: 'test-host',
      labels: { app: 'tests' },
      onSample: (sample) => {
        seen.push(sample);
        if (seen.length >= 4) enough();
      },
    });
    // Some work for the process CPU counters and the event loop.
    let x = 0;
    for (let i = 0; i < 2e6; i++) x += Math.sqrt(i);
    expect(x).toBeGreaterThan(0);
    await done;
    await recorder.stop();
    const written = recorder.samples;
    expect(written).toBeGreaterThanOrEqual(4);
    expect(recorder.lastError).toBeUndefined();

    const host = await recorder.series.host.range();
    expect(host).toHaveLength(written);
    for (const s of host) {
      const modes = ['user', 'nice', 'system', 'idle', 'irq'].map((m) => s.values[m]!);
      for (const v of modes) expect(v).toBeGreaterThanOrEqual(0);
      expect(Math.abs(modes.reduce((a, b) => a + b, 0) - 100)).toBeLessThan(0.1);
    }
    const seconds = await recorder.series.processSeconds.range();
    expect(seconds).toHaveLength(written);
    expect(seconds[seconds.length - 1]!.values.total).toBeGreaterThan(0);
    expect(seconds[seconds.length - 1]!.values.total).toBeGreaterThanOrEqual(seconds[0]!.values.total!);
    const loop = await recorder.series.eventLoop.get();
    expect(loop!.values.max).toBeGreaterThanOrEqual(loop!.values.min!);
    expect((await recorder.series.process.get())!.values.total).toBeGreaterThanOrEqual(0);
    expect(seen.map((s) => s.timestamp)).toEqual(host.map((s) => s.timestamp));

    const index = createTimeSeriesIndex({ client });
    expect(await index.queryIndex('app=tests')).toEqual(Object.values(CPU_METRICS).map((m) => `${m}:test-host`).sort());
    const hosts = await index.mget(`__name__=${CPU_METRICS.host} instance=test-host`);
    expect(hosts).toHaveLength(1);
    expect(hosts[0]!.sample).toEqual(host[host.length - 1]);
    // Rollups are written as samples arrive: the 10 s level counts every sample.
    const perTen = await recorder.series.host.range('-', '+', { aggregation: 'count', bucketMs: 10_000 });
    expect(perTen.reduce((sum, s) => sum + s.value, 0)).toBe(written);
  });
});
