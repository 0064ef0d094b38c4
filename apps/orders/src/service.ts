import { randomUUID } from 'node:crypto';
import { createStreamClient, type RedisClient, type StreamClient } from '@streamkit/core';
import { CommandHandler, createEventStore, type EventStore, type Projection, type RecordedEvent } from '@streamkit/event-store';
import { decide, evolve, initialOrder, orderEvents, orderStream, type Order, type OrderCommand, type OrderEvent } from './order.js';
import { OrdersReadModel } from './readModel.js';

/** Options of {@link createOrderService}. */
export interface OrderServiceOptions {
  /** An ioredis client (standalone or cluster) or a redis:// URL. */
  redis: RedisClient | string;
  /** Key prefix of everything the app stores (default `orders:`). */
  prefix?: string;
  /** Partitions of the event store's global log (default 4). */
  partitions?: number;
}

/** An order as a command left it. */
export interface OrderResult {
  order: Order;
  version: number;
  events: OrderEvent[];
}

const handle = CommandHandler({ decide, evolve, initialState: initialOrder, snapshots: false });

/**
 * The orders app: commands go through the event store (one stream per order, optimistic
 * concurrency with retries), queries of lists and totals go to the read model the projection keeps.
 */
export class OrderService {
  readonly client: StreamClient;
  readonly store: EventStore<typeof orderEvents>;
  readonly readModel: OrdersReadModel;
  readonly projection: Projection<RecordedEvent<OrderEvent>>;

  constructor(options: OrderServiceOptions) {
    this.client = createStreamClient({ redis: options.redis, prefix: options.prefix ?? 'orders:' });
    this.store = createEventStore({ client: this.client, events: orderEvents, partitions: options.partitions ?? 4, name: 'orders' });
    this.readModel = new OrdersReadModel(this.client);
    this.projection = this.store.projection({
      name: 'orders-read-model',
      filter: { streamPrefix: 'order-' },
      blockMs: 500,
      handle: async (event) => {
        await this.readModel.apply(event as RecordedEvent<OrderEvent>);
      },
      reset: () => this.readModel.clear(),
    }) as unknown as Projection<RecordedEvent<OrderEvent>>;
  }

  private async run(command: OrderCommand): Promise<OrderResult> {
    const result = await handle(this.store, orderStream(command.order_id), command);
    return { order: result.newState, version: result.nextExpectedVersion, events: result.newEvents };
  }

  /** Places an order (a new id when none is given). */
  place(input: { order_id?: string; amount: number }): Promise<OrderResult> {
    return this.run({ type: 'PlaceOrder', order_id: input.order_id ?? randomUUID(), amount: input.amount });
  }

  pay(orderId: string): Promise<OrderResult> {
    return this.run({ type: 'PayOrder', order_id: orderId });
  }

  ship(orderId: string, carrier?: string): Promise<OrderResult> {
    return this.run({ type: 'ShipOrder', order_id: orderId, carrier });
  }

  cancel(orderId: string, reason?: string): Promise<OrderResult> {
    return this.run({ type: 'CancelOrder', order_id: orderId, reason });
  }

  /** The order as its events say (always current), with its history; null when there is none. */
  async get(orderId: string): Promise<{ order: Order; version: number; history: { type: string; version: number; at: string }[] } | null> {
    const events = await this.store.readStream(orderStream(orderId));
    if (events.length === 0) return null;
    const order = events.reduce((state, event) => evolve(state, event as OrderEvent), initialOrder());
    return {
      order,
      version: events[events.length - 1]!.version,
      history: events.map((event) => ({ type: event.type, version: event.version, at: event.recordedAt.toISOString() })),
    };
  }

  /** Starts the read-model projection. */
  start(): Promise<void> {
    return this.projection.start();
  }

  /** Resolves once the read model reflects every event appended so far. */
  async waitForReadModel(): Promise<void> {
    while ((await this.projection.lag()) > 0) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  /** Stops the projection and closes the client. */
  async close(): Promise<void> {
    await this.projection.stop();
    await this.client.close();
  }
}

/** Creates an {@link OrderService}. */
export function createOrderService(options: OrderServiceOptions): OrderService {
  return new OrderService(options);
}
