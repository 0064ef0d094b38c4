import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { createOrdersHttpServer } from './http.js';
import { createOrderService } from './service.js';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** The Redis server to use; the demo writes under its own prefix and removes it at the end. */
  redisUrl: string;
  /** Where the demo prints (default: stdout). */
  log?: (line: string) => void;
}

/**
 * The orders walk-through: starts the HTTP API on a free port, places, pays and ships a few
 * orders through it, cancels one, shows optimistic concurrency at work, then prints the read model
 * the projection built.
 */
export async function runDemo(options: DemoOptions): Promise<void> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const prefix = `orders-demo:${Date.now()}:`;
  const redis = new Redis(options.redisUrl);
  const service = createOrderService({ redis, prefix });
  const server = createOrdersHttpServer(service);
  try {
    await service.start();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const call = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(base + path, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as any };
    };
    log(`== Orders API on ${base}`);

    const orders = [
      { order_id: 'A-100', amount: 25 },
      { order_id: 'A-101', amount: 12.5 },
      { order_id: 'A-102', amount: 99.99 },
      { order_id: 'A-103', amount: 40 },
    ];
    for (const order of orders) {
      const placed = await call('POST', '/orders', order);
      log(`  POST /orders ${JSON.stringify(order)} -> ${placed.status} ${placed.body.order.status} (version ${placed.body.version})`);
    }
    for (const id of ['A-100', 'A-101', 'A-102']) {
      const paid = await call('POST', `/orders/${id}/pay`);
      log(`  POST /orders/${id}/pay -> ${paid.status} ${paid.body.order.status}`);
    }
    for (const id of ['A-100', 'A-101']) {
      const shipped = await call('POST', `/orders/${id}/ship`, { carrier: 'DHL' });
      log(`  POST /orders/${id}/ship -> ${shipped.status} ${shipped.body.order.status}`);
    }
    const cancelled = await call('POST', '/orders/A-103/cancel', { reason: 'changed my mind' });
    log(`  POST /orders/A-103/cancel -> ${cancelled.status} ${cancelled.body.order.status}`);

    log('\n== The rules hold');
    const again = await call('POST', '/orders/A-100/pay');
    log(`  pay a shipped order -> ${again.status} ${again.body.error}`);
    const invalid = await call('POST', '/orders', { order_id: 'A-104', amount: -5 });
    log(`  place with amount -5 -> ${invalid.status} ${invalid.body.details?.[0]?.path}: ${invalid.body.details?.[0]?.message}`);

    log('\n== Two clerks ship A-102 at the same moment');
    const race = await Promise.all([call('POST', '/orders/A-102/ship', { carrier: 'UPS' }), call('POST', '/orders/A-102/ship', { carrier: 'DPD' })]);
    for (const result of race) log(`  -> ${result.status} ${result.status === 200 ? `shipped with ${result.body.events[0].data.carrier}` : result.body.error}`);

    const history = await call('GET', '/orders/A-102');
    log(`\n== GET /orders/A-102 (from its events)`);
    for (const step of history.body.history) log(`  v${step.version} ${step.type}`);

    await service.waitForReadModel();
    log('\n== Read model (projection on consumer groups)');
    for (const status of ['placed', 'paid', 'shipped', 'cancelled']) {
      const list = await call('GET', `/orders?status=${status}`);
      log(`  ${status.padEnd(9)} ${list.body.orders.join(', ') || '-'}`);
    }
    const stats = await call('GET', '/stats');
    log(`  revenue   ${stats.body.revenue.toFixed(2)}`);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await service.close();
    // Remove what the demo wrote.
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
    await redis.quit();
  }
}
