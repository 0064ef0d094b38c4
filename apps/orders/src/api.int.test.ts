import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { redisTargets, useRedis } from '@streamkit/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createOrdersHttpServer } from './http.js';
import { createOrderService, type OrderService } from './service.js';

describe.each(redisTargets())('orders app on %s', (target) => {
  const ctx = useRedis(target);
  let service: OrderService;
  let server: Server;
  let base: string;

  beforeEach(async () => {
    service = createOrderService({ redis: ctx.redis, prefix: ctx.prefix });
    await service.start();
    server = createOrdersHttpServer(service);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await service.close();
  });

  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(base + path, { method, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as any };
  };

  it('runs orders through their lifecycle over HTTP and keeps the read model', async () => {
    expect((await call('POST', '/orders', { order_id: 'o1', amount: 10 })).status).toBe(201);
    expect((await call('POST', '/orders', { order_id: 'o2', amount: 20.25 })).status).toBe(201);
    expect((await call('POST', '/orders', { order_id: 'o3', amount: 5 })).status).toBe(201);
    const generated = await call('POST', '/orders', { amount: 1 });
    expect(generated.status).toBe(201);
    expect(generated.body.order.order_id).toMatch(/^[0-9a-f-]{36}$/);

    expect((await call('POST', '/orders/o1/pay')).body.order.status).toBe('paid');
    expect((await call('POST', '/orders/o1/ship', { carrier: 'DHL' })).body.order.status).toBe('shipped');
    expect((await call('POST', '/orders/o2/pay')).status).toBe(200);
    expect((await call('POST', '/orders/o2/cancel', { reason: 'damaged' })).body.events[0].data).toEqual({ order_id: 'o2', reason: 'damaged', refunded: 20.25 });

    // refusals
    expect(await call('POST', '/orders/o1/pay')).toMatchObject({ status: 409, body: { code: 'INVALID_TRANSITION' } });
    expect(await call('POST', '/orders', { order_id: 'o1', amount: 3 })).toMatchObject({ status: 409, body: { code: 'ALREADY_PLACED' } });
    expect((await call('POST', '/orders/nope/pay')).status).toBe(404);
    expect((await call('GET', '/orders/nope')).status).toBe(404);
    const bad = await call('POST', '/orders', { order_id: 'o9', amount: 'ten' });
    expect(bad.status).toBe(400);
    expect(bad.body.details[0].path).toBe('amount');
    expect((await call('GET', '/orders?status=lost')).status).toBe(400);
    // ids in the path: bad encoding and ids no order can have are bad input, not server errors
    expect(await call('GET', '/orders/%E0%A4%A')).toMatchObject({ status: 400, body: { error: 'the path is not valid percent-encoding' } });
    expect((await call('GET', `/orders/${'x'.repeat(600)}`)).status).toBe(400);
    expect((await call('POST', '/orders/a%20b/pay')).status).toBe(400);

    const o1 = await call('GET', '/orders/o1');
    expect(o1.body.order).toEqual({ order_id: 'o1', amount: 10, status: 'shipped' });
    expect(o1.body.history.map((h: { type: string }) => h.type)).toEqual(['OrderPlaced', 'OrderPaid', 'OrderShipped']);

    await service.waitForReadModel();
    expect((await call('GET', '/orders?status=shipped')).body.orders).toEqual(['o1']);
    expect((await call('GET', '/orders?status=cancelled')).body.orders).toEqual(['o2']);
    expect((await call('GET', '/orders?status=placed')).body.orders.sort()).toEqual(['o3', generated.body.order.order_id].sort());
    expect((await call('GET', '/orders?status=paid')).body.orders).toEqual([]);
    expect((await call('GET', '/stats')).body).toEqual({ revenue: 10, byStatus: { placed: 2, paid: 0, shipped: 1, cancelled: 1 } });
  });

  it('lets one of ten concurrent payments of an order through', async () => {
    await call('POST', '/orders', { order_id: 'race', amount: 7 });
    const results = await Promise.all(Array.from({ length: 10 }, () => call('POST', '/orders/race/pay')));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409 && r.body.code === 'INVALID_TRANSITION')).toHaveLength(9);
    expect((await service.store.readStream('order-race')).map((e) => e.type)).toEqual(['OrderPlaced', 'OrderPaid']);
    await service.waitForReadModel();
    expect((await service.readModel.totals()).revenue).toBe(7);
  });

  it('applies a replayed event once, and rebuilds the same read model from the log', async () => {
    for (let i = 0; i < 5; i++) {
      await service.place({ order_id: `r${i}`, amount: 10 + i });
      if (i % 2 === 0) await service.pay(`r${i}`);
    }
    await service.waitForReadModel();
    const before = await service.readModel.totals();
    expect(before).toEqual({ revenue: 10 + 12 + 14, byStatus: { placed: 2, paid: 3, shipped: 0, cancelled: 0 } });

    // at-least-once delivery: the same event again changes nothing
    const [paid] = await service.store.readStream('order-r0', { from: 1 });
    expect(await service.readModel.apply(paid as any)).toBe(false);
    expect(await service.readModel.totals()).toEqual(before);

    await service.projection.rebuild();
    await service.waitForReadModel();
    expect(await service.readModel.totals()).toEqual(before);
    expect(await service.readModel.byStatus('paid')).toEqual(['r0', 'r2', 'r4']);
    expect(await service.readModel.get('r1')).toEqual({ order_id: 'r1', status: 'placed', amount: 11, version: 0 });
  });
});
