import { DeciderSpecification } from '@streamkit/event-store';
import { describe, it } from 'vitest';
import { decide, evolve, initialOrder, OrderError } from './order.js';

const spec = DeciderSpecification.for({ decide, evolve, initialState: initialOrder });
const placed = { type: 'OrderPlaced' as const, data: { order_id: 'o-1', amount: 30 } };
const paid = { type: 'OrderPaid' as const, data: { order_id: 'o-1', amount: 30 } };
const shipped = { type: 'OrderShipped' as const, data: { order_id: 'o-1' } };

describe('the Order decider', () => {
  it('places, pays and ships', () => {
    spec.given([]).when({ type: 'PlaceOrder', order_id: 'o-1', amount: 30 }).then([placed]);
    spec.given([placed]).when({ type: 'PayOrder', order_id: 'o-1' }).then([paid]);
    spec.given([placed, paid]).when({ type: 'ShipOrder', order_id: 'o-1', carrier: 'DHL' }).then([{ type: 'OrderShipped', data: { order_id: 'o-1', carrier: 'DHL' } }]);
  });

  it('cancels before shipping, refunding a paid order', () => {
    spec.given([placed]).when({ type: 'CancelOrder', order_id: 'o-1' }).then([{ type: 'OrderCancelled', data: { order_id: 'o-1', reason: 'cancelled by the customer', refunded: 0 } }]);
    spec.given([placed, paid]).when({ type: 'CancelOrder', order_id: 'o-1', reason: 'late' }).then([{ type: 'OrderCancelled', data: { order_id: 'o-1', reason: 'late', refunded: 30 } }]);
  });

  it('refuses what the lifecycle does not allow', () => {
    const isCode = (code: string) => (error: unknown) => error instanceof OrderError && error.code === code;
    spec.given([placed]).when({ type: 'PlaceOrder', order_id: 'o-1', amount: 1 }).thenThrows(isCode('ALREADY_PLACED'));
    spec.given([]).when({ type: 'PayOrder', order_id: 'o-1' }).thenThrows(isCode('NOT_FOUND'));
    spec.given([placed]).when({ type: 'ShipOrder', order_id: 'o-1' }).thenThrows(isCode('INVALID_TRANSITION'));
    spec.given([placed, paid]).when({ type: 'PayOrder', order_id: 'o-1' }).thenThrows(isCode('INVALID_TRANSITION'));
    spec.given([placed, paid, shipped]).when({ type: 'CancelOrder', order_id: 'o-1' }).thenThrows(isCode('INVALID_TRANSITION'));
  });
});
