import { z } from 'zod';

/** The order's events: their data schemas, as the event store validates them. */
export const orderEvents = {
  OrderPlaced: z.object({ order_id: z.string().min(1), amount: z.number().positive().max(1_000_000) }),
  OrderPaid: z.object({ order_id: z.string(), amount: z.number().positive() }),
  OrderShipped: z.object({ order_id: z.string(), carrier: z.string().optional() }),
  OrderCancelled: z.object({ order_id: z.string(), reason: z.string(), refunded: z.number().nonnegative() }),
};

export type OrderEvent =
  | { type: 'OrderPlaced'; data: { order_id: string; amount: number } }
  | { type: 'OrderPaid'; data: { order_id: string; amount: number } }
  | { type: 'OrderShipped'; data: { order_id: string; carrier?: string } }
  | { type: 'OrderCancelled'; data: { order_id: string; reason: string; refunded: number } };

export type OrderStatus = 'placed' | 'paid' | 'shipped' | 'cancelled';
export const ORDER_STATUSES: readonly OrderStatus[] = ['placed', 'paid', 'shipped', 'cancelled'];

/** The order aggregate's state. `status: 'none'` until it is placed. */
export interface Order {
  order_id: string;
  amount: number;
  status: OrderStatus | 'none';
}

export type OrderCommand =
  | { type: 'PlaceOrder'; order_id: string; amount: number }
  | { type: 'PayOrder'; order_id: string }
  | { type: 'ShipOrder'; order_id: string; carrier?: string }
  | { type: 'CancelOrder'; order_id: string; reason?: string };

/** A command the order refuses in its current state. */
export class OrderError extends Error {
  constructor(
    readonly code: 'NOT_FOUND' | 'ALREADY_PLACED' | 'INVALID_TRANSITION',
    message: string,
  ) {
    super(message);
    this.name = 'OrderError';
  }
}

export const initialOrder = (): Order => ({ order_id: '', amount: 0, status: 'none' });

/** The state after an event. */
export function evolve(state: Order, event: OrderEvent): Order {
  switch (event.type) {
    case 'OrderPlaced':
      return { order_id: event.data.order_id, amount: event.data.amount, status: 'placed' };
    case 'OrderPaid':
      return { ...state, status: 'paid' };
    case 'OrderShipped':
      return { ...state, status: 'shipped' };
    case 'OrderCancelled':
      return { ...state, status: 'cancelled' };
  }
}

/** The events a command produces: placed → paid → shipped, or cancelled before shipping (a paid order is refunded). */
export function decide(command: OrderCommand, state: Order): OrderEvent[] {
  const id = command.order_id;
  if (command.type === 'PlaceOrder') {
    if (state.status !== 'none') throw new OrderError('ALREADY_PLACED', `order ${id} was placed already`);
    return [{ type: 'OrderPlaced', data: { order_id: id, amount: command.amount } }];
  }
  if (state.status === 'none') throw new OrderError('NOT_FOUND', `order ${id} does not exist`);
  const refuse = (what: string): never => {
    throw new OrderError('INVALID_TRANSITION', `order ${id} is ${state.status}: it cannot be ${what}`);
  };
  switch (command.type) {
    case 'PayOrder':
      if (state.status !== 'placed') refuse('paid');
      return [{ type: 'OrderPaid', data: { order_id: id, amount: state.amount } }];
    case 'ShipOrder':
      if (state.status !== 'paid') refuse('shipped');
      return [{ type: 'OrderShipped', data: command.carrier === undefined ? { order_id: id } : { order_id: id, carrier: command.carrier } }];
    case 'CancelOrder':
      if (state.status !== 'placed' && state.status !== 'paid') refuse('cancelled');
      return [
        {
          type: 'OrderCancelled',
          data: { order_id: id, reason: command.reason ?? 'cancelled by the customer', refunded: state.status === 'paid' ? state.amount : 0 },
        },
      ];
  }
}

/** The event-store stream of an order. */
export const orderStream = (orderId: string) => `order-${orderId}`;
