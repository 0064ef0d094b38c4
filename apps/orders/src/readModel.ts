import { runScript, type LuaScript, type StreamClient } from '@streamkit/core';
import type { RecordedEvent } from '@streamkit/event-store';
import { ORDER_STATUSES, type OrderEvent, type OrderStatus } from './order.js';

/**
 * The read model: one hash per order, a set of order ids per status, and totals (revenue in
 * cents, orders per status). Every key shares the `{orders-rm}` hash tag, so one script updates
 * them atomically on a cluster too.
 *
 * The projection delivers at least once; the script applies an event only when its version is
 * newer than the one the order's hash has seen, so a replayed event changes nothing.
 */
const applyScript: LuaScript = {
  name: 'ordersApply',
  numberOfKeys: 6,
  lua: `
-- KEYS[1] order hash, KEYS[2..5] status sets (placed, paid, shipped, cancelled), KEYS[6] totals hash
-- ARGV: version, order_id, new status, amount in cents ('' keeps it), revenue delta in cents
local seen = tonumber(redis.call('HGET', KEYS[1], 'version') or '-1')
local version = tonumber(ARGV[1])
if version <= seen then return 0 end
local statuses = {placed = 2, paid = 3, shipped = 4, cancelled = 5}
local old = redis.call('HGET', KEYS[1], 'status')
if old then
  redis.call('SREM', KEYS[statuses[old]], ARGV[2])
  redis.call('HINCRBY', KEYS[6], 'count:' .. old, -1)
end
redis.call('SADD', KEYS[statuses[ARGV[3]]], ARGV[2])
redis.call('HINCRBY', KEYS[6], 'count:' .. ARGV[3], 1)
redis.call('HSET', KEYS[1], 'order_id', ARGV[2], 'status', ARGV[3], 'version', ARGV[1])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'amount_cents', ARGV[4]) end
if ARGV[5] ~= '0' then redis.call('HINCRBY', KEYS[6], 'revenue_cents', ARGV[5]) end
return 1
`,
};

const cents = (amount: number) => Math.round(amount * 100);

/** One order as the read model has it. */
export interface OrderView {
  order_id: string;
  status: OrderStatus;
  amount: number;
  version: number;
}

/** The totals of the read model. */
export interface OrderTotals {
  revenue: number;
  byStatus: Record<OrderStatus, number>;
}

/** The read model's keys and queries, on the app's stream client. */
export class OrdersReadModel {
  constructor(private readonly client: StreamClient) {}

  private key(...parts: string[]): string {
    return this.client.key(['{orders-rm}', ...parts].join(':'));
  }

  private keysFor(orderId: string): string[] {
    return [this.key('order', orderId), ...ORDER_STATUSES.map((status) => this.key('status', status)), this.key('totals')];
  }

  /** Applies one event (idempotent: an event already applied is ignored). Returns true when it changed the model. */
  async apply(event: RecordedEvent<OrderEvent>): Promise<boolean> {
    const { data } = event;
    let status: OrderStatus;
    let amount = '';
    let revenue = 0;
    switch (event.type) {
      case 'OrderPlaced':
        status = 'placed';
        amount = String(cents(event.data.amount));
        break;
      case 'OrderPaid':
        status = 'paid';
        revenue = cents(event.data.amount);
        break;
      case 'OrderShipped':
        status = 'shipped';
        break;
      case 'OrderCancelled':
        status = 'cancelled';
        revenue = -cents(event.data.refunded);
        break;
    }
    const reply = await runScript<number>(this.client.redis, applyScript, this.keysFor(data.order_id), [
      String(event.version),
      data.order_id,
      status,
      amount,
      String(revenue),
    ]);
    return reply === 1;
  }

  /** One order, or null when the read model has not seen it. */
  async get(orderId: string): Promise<OrderView | null> {
    const raw = await this.client.redis.hgetall(this.key('order', orderId));
    if (!raw || raw.status === undefined) return null;
    return { order_id: orderId, status: raw.status as OrderStatus, amount: Number(raw.amount_cents ?? 0) / 100, version: Number(raw.version) };
  }

  /** The ids of the orders in a status, sorted. */
  async byStatus(status: OrderStatus): Promise<string[]> {
    return (await this.client.redis.smembers(this.key('status', status))).sort();
  }

  /** Revenue (paid minus refunded) and the number of orders per status. */
  async totals(): Promise<OrderTotals> {
    const raw = await this.client.redis.hgetall(this.key('totals'));
    const byStatus = Object.fromEntries(ORDER_STATUSES.map((status) => [status, Number(raw[`count:${status}`] ?? 0)])) as Record<OrderStatus, number>;
    return { revenue: Number(raw.revenue_cents ?? 0) / 100, byStatus };
  }

  /** Removes the whole read model (before a rebuild). */
  async clear(): Promise<void> {
    const redis = this.client.redis;
    const ids = new Set<string>();
    for (const status of ORDER_STATUSES) for (const id of await redis.smembers(this.key('status', status))) ids.add(id);
    for (const id of ids) await redis.del(this.key('order', id));
    await redis.del(...ORDER_STATUSES.map((status) => this.key('status', status)), this.key('totals'));
  }
}
