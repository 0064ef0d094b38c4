import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createStreamClient } from '@streamkit/core';
import { redisTargets, useRedis } from '@streamkit/testing';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from './app.js';
import type { RangeReply } from './dashboard.js';
import { runDemo } from './demo.js';
import { sparkline } from './sparkline.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const RESULTS = fileURLToPath(new URL('../test-results/', import.meta.url));
if (!hasChromium) {
  console.warn(`cpu-monitor browser tests SKIPPED: ${CHROMIUM} not found (install Debian's chromium: apt-get install -y chromium)`);
}

describe.each(redisTargets())('cpu-monitor on %s', (target) => {
  const ctx = useRedis(target);

  it('serves live samples and answers the range picker from rollups over HTTP', async () => {
    const client = createStreamClient({ redis: ctx.redis, prefix: ctx.prefix });
    const app = await startApp({ client, intervalMs: 100, instance: 'http-test', seedHours: 24 });
    try {
      const first = await new Promise<unknown>((resolve) => app.samples.once('sample', resolve));
      expect(first).toBeDefined();
      for (const [window, bucketMs, atLeast] of [
        ['5m', 10_000, 4],
        ['1h', 60_000, 55],
        ['24h', 600_000, 140],
      ] as const) {
        const reply = (await (await fetch(`${app.dashboard.url}/api/range?window=${window}`)).json()) as RangeReply;
        expect(reply.bucketMs).toBe(bucketMs);
        expect(reply.points.length, window).toBeGreaterThanOrEqual(atLeast);
        expect(reply.plan.some((s) => s.source === 'rollup'), window).toBe(true);
        for (const p of reply.points) expect(p.user + p.system + p.nice + p.irq + p.idle).toBeGreaterThan(99);
      }
      const live = (await (await fetch(`${app.dashboard.url}/api/live`)).json()) as { points: unknown[] };
      expect(live.points.length).toBeGreaterThanOrEqual(1);
      expect((await fetch(`${app.dashboard.url}/api/range?window=2d`)).status).toBe(400);
      // Server-sent events: read two from the stream.
      const abort = new AbortController();
      const response = await fetch(`${app.dashboard.url}/events`, { signal: abort.signal });
      expect(response.headers.get('content-type')).toBe('text/event-stream');
      const reader = response.body!.getReader();
      let text = '';
      while ((text.match(/^data: /gm) ?? []).length < 2) text += new TextDecoder().decode((await reader.read()).value);
      abort.abort();
      const event = JSON.parse(/^data: (.*)$/m.exec(text)![1]!) as { t: number; user: number };
      expect(event.t).toBeGreaterThan(Date.now() - 60_000);
    } finally {
      await app.stop();
    }
  });

  it('serves many event streams at once and stops cleanly when its port is taken', async () => {
    const client = createStreamClient({ redis: ctx.redis, prefix: ctx.prefix });
    const app = await startApp({ client, intervalMs: 100, instance: 'many-test' });
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    const abort = new AbortController();
    try {
      const readers = await Promise.all(
        Array.from({ length: 12 }, async () => (await fetch(`${app.dashboard.url}/events`, { signal: abort.signal })).body!.getReader()),
      );
      for (const reader of readers) {
        let text = '';
        while (!/^data: /m.test(text)) text += new TextDecoder().decode((await reader.read()).value);
      }
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).not.toContain('MaxListenersExceededWarning');

      // A second app on the same port fails to start, and leaves no recorder running.
      const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
      const before = timers();
      const port = Number(new URL(app.dashboard.url).port);
      await expect(startApp({ client, intervalMs: 100, instance: 'taken-test', port })).rejects.toThrow(/EADDRINUSE/);
      expect(timers()).toBe(before);
    } finally {
      abort.abort();
      process.off('warning', onWarning);
      await app.stop();
    }
  });

  describe.skipIf(!hasChromium)('in headless Chromium', () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
    });
    afterAll(async () => {
      await browser?.close();
    });

    it('the live chart shows points and the range picker switches to rollup views', async () => {
      const client = createStreamClient({ redis: ctx.redis, prefix: ctx.prefix });
      const app = await startApp({ client, intervalMs: 200, instance: 'browser-test', seedHours: 24 });
      const page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
      try {
        await page.goto(app.dashboard.url);
        const count = (series: string) => page.locator(`#cpu polyline[data-series="${series}"]`).getAttribute('data-count').then(Number);
        const pairs = async (chart: string, series: string) =>
          ((await page.locator(`#${chart} polyline[data-series="${series}"]`).getAttribute('points')) ?? '').split(' ').filter(Boolean).length;
        // Live: the chart grows with the server-sent events.
        await page.waitForFunction(() => Number(document.body.dataset.points) >= 3 && document.body.dataset.window === 'live');
        const before = await count('user');
        await page.waitForFunction((n) => Number(document.body.dataset.points) > n, before);
        expect(await pairs('cpu', 'user')).toBeGreaterThan(before);
        expect(await pairs('loop', 'loopP99')).toBeGreaterThanOrEqual(3);
        await expect.poll(() => page.locator('#status').textContent()).toMatch(/^live: \d+ samples/);

        for (const [label, window, bucket, atLeast] of [
          ['1 h', '1h', '60 s', 55],
          ['24 h', '24h', '600 s', 140],
          ['5 min', '5m', '10 s', 4],
        ] as const) {
          await page.getByRole('button', { name: label, exact: true }).click();
          await page.waitForFunction((w) => document.body.dataset.window === w && (document.getElementById('status')?.textContent ?? '').startsWith(w + ':'), window);
          expect(await page.getByRole('button', { name: label, exact: true }).getAttribute('aria-pressed')).toBe('true');
          const status = (await page.locator('#status').textContent()) ?? '';
          expect(status).toContain(`buckets of ${bucket} (avg), from rollups`);
          expect(await pairs('cpu', 'user'), window).toBeGreaterThanOrEqual(atLeast);
          expect(await pairs('cpu', 'system'), window).toBeGreaterThanOrEqual(atLeast);
          if (window === '24h') {
            mkdirSync(RESULTS, { recursive: true });
            await page.screenshot({ path: `${RESULTS}dashboard-24h-${target.name}.png`, fullPage: true });
          }
        }
        await page.getByRole('button', { name: 'Live', exact: true }).click();
        await page.waitForFunction(() => document.body.dataset.window === 'live' && Number(document.body.dataset.points) >= 3);
        mkdirSync(RESULTS, { recursive: true });
        await page.screenshot({ path: `${RESULTS}dashboard-live-${target.name}.png`, fullPage: true });
        expect(existsSync(`${RESULTS}dashboard-live-${target.name}.png`)).toBe(true);
      } finally {
        await page.close();
        await app.stop();
      }
    });
  });
});

describe('demo', () => {
  it('prints a summary table with a sparkline per metric, and removes its keys', async () => {
    const target = redisTargets()[0]!;
    const lines: string[] = [];
    const summary = await runDemo({ redisUrl: target.url!, log: (line) => lines.push(line), seconds: 2, intervalMs: 200 });
    expect(lines[1]).toMatch(/^metric\s+samples\s+last\s+min\s+avg\s+max\s+sparkline/);
    expect(summary.rows.map((r) => r.metric)).toEqual(['host cpu user %', 'host cpu system %', 'host cpu idle %', 'process cpu %', 'event loop p99 ms']);
    for (const row of summary.rows) {
      expect(row.samples).toBeGreaterThanOrEqual(5);
      expect(row.sparkline).toMatch(/^[▁▂▃▄▅▆▇█]+$/);
      expect(row.min).toBeLessThanOrEqual(row.max);
    }
    expect(lines.some((l) => l.includes('host cpu user %') && /[▁▂▃▄▅▆▇█]/.test(l))).toBe(true);
    expect(summary.rangeBuckets).toBeGreaterThanOrEqual(1);
    expect(sparkline([1, 2, 3, 4, 5, 6, 7, 8])).toBe('▁▂▃▄▅▆▇█');
    const redis = target.connect();
    try {
      expect(await redis.keys('demo:cpu-monitor:*')).toEqual([]);
    } finally {
      redis.disconnect();
    }
  });
});
