/**
 * `npm run demo`: the streamkit walk-through against REDIS_URL, or against a redis-server it
 * starts itself in a temporary folder (and stops at the end).
 */
import { z } from 'zod';
import { createStreamClient, StreamId } from '@streamkit/core';
import { findRedisBinaries, startRedis, type RedisServer } from '@streamkit/testing';
import { runDemo as ordersDemo } from '../apps/orders/src/demo.js';
import { runDemo as complianceDemo } from '../apps/compliance-audit/src/demo.js';
import { runDemo as cpuDemo } from '../apps/cpu-monitor/src/demo.js';

const log = (line = '') => process.stdout.write(`${line}\n`);

async function redisForDemo(): Promise<{ url: string; server?: RedisServer }> {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL };
  try {
    findRedisBinaries();
  } catch (error) {
    process.stderr.write(
      `${error instanceof Error ? error.message : String(error)}\n` +
        'Set REDIS_URL to a Redis ≥ 7 server, or install one (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis).\n',
    );
    process.exit(1);
  }
  const server = await startRedis();
  return { url: server.url, server };
}

const Order = z.object({
  order_id: z.string(),
  amount: z.number().positive(),
  status: z.enum(['placed', 'paid', 'shipped', 'cancelled']),
});

async function walkThrough(url: string): Promise<void> {
  const client = createStreamClient({ redis: url, prefix: `demo:${Date.now()}:` });
  const orders = client.stream('orders', { schema: Order });
  try {
    log('== Producer: 5 orders');
    for (let i = 1; i <= 5; i++) {
      const id = await orders.add({ order_id: `order-${i}`, amount: 10 * i + 0.5, status: 'placed' });
      log(`  added ${id}  order-${i}`);
    }

    log('\n== Reader: the stream from the start');
    for (const { id, data } of await orders.range()) log(`  ${id}  ${data.order_id}  ${data.amount.toFixed(2)}  ${data.status}`);
    const info = await orders.info();
    log(`  length ${info.length}, first ${info.firstEntry?.id}, last ${info.lastEntry?.id}, entries added ${info.entriesAdded}`);

    log('\n== Bad input is refused before it reaches Redis');
    try {
      await orders.add({ order_id: 'order-x', amount: 'abc' as unknown as number, status: 'placed' });
    } catch (error) {
      log(`  ${error instanceof Error ? error.message : String(error)}`);
    }
    log(`  length still ${await orders.length()}`);

    log('\n== Blocking consumer after the last id; a 6th order arrives a second later');
    const lastId = info.lastEntry!.id;
    const waiting = orders.read({ after: lastId, blockMs: 5000 });
    const started = Date.now();
    setTimeout(() => void orders.add({ order_id: 'order-6', amount: 60.5, status: 'placed' }), 1000);
    const [sixth] = await waiting;
    log(`  received ${sixth?.id} (${sixth?.data.order_id}) after ${Date.now() - started} ms, at ${StreamId.toDate(sixth!.id).toISOString()}`);
  } finally {
    await orders.destroy();
    await client.close();
  }
}

const { url, server } = await redisForDemo();
log(`streamkit demo on ${server ? `a local redis-server (${url})` : url}\n`);
const banner = (title: string) => log(`\n${'='.repeat(72)}\n${title}\n${'='.repeat(72)}`);
try {
  banner('1. Redis Streams with @streamkit/core');
  await walkThrough(url);
  banner('2. apps/orders: an event-sourced orders service (@streamkit/event-store)');
  await ordersDemo({ redisUrl: url, log });
  banner('3. apps/cpu-monitor: CPU metrics with rollups and a live dashboard (@streamkit/time-series)');
  await cpuDemo({ redisUrl: url, log, seconds: 4 });
  banner('4. apps/compliance-audit: a tamper-evident audit trail (@streamkit/audit-log)');
  await complianceDemo({ redisUrl: url, log });
} finally {
  await server?.destroy();
}
