import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ConcurrencyError } from '@streamkit/event-store';
import { StreamkitError, ValidationError } from '@streamkit/core';
import { z } from 'zod';
import { ORDER_STATUSES, OrderError, type OrderStatus } from './order.js';
import type { OrderService } from './service.js';

const OrderId = z.string().min(1).max(100).regex(/^[A-Za-z0-9_-]+$/);
const PlaceBody = z.object({ order_id: OrderId.optional(), amount: z.number().positive() });
const ShipBody = z.object({ carrier: z.string().max(100).optional() }).default({});
const CancelBody = z.object({ reason: z.string().max(500).optional() }).default({});

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) throw new HttpError(413, 'body too large');
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'body is not JSON');
  }
}

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new HttpError(400, 'invalid body', result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
  return result.data;
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

/**
 * The HTTP API:
 * - `POST /orders` `{ order_id?, amount }` → 201 the placed order
 * - `POST /orders/:id/pay`, `/ship` `{ carrier? }`, `/cancel` `{ reason? }` → 200 the order
 * - `GET /orders/:id` → the order from its events, with its history
 * - `GET /orders?status=paid` → ids in a status (read model, eventually consistent)
 * - `GET /stats` → revenue and orders per status (read model)
 *
 * Domain refusals are 409 (`INVALID_TRANSITION`, `ALREADY_PLACED`), unknown orders 404, bad input 400.
 */
export function createOrdersHttpServer(service: OrderService): Server {
  return createServer((request, response) => {
    route(service, request, response).catch((error: unknown) => {
      if (error instanceof HttpError) return send(response, error.status, { error: error.message, details: error.details });
      if (error instanceof OrderError) return send(response, error.code === 'NOT_FOUND' ? 404 : 409, { error: error.message, code: error.code });
      if (ConcurrencyError.is(error)) return send(response, 409, { error: error.message, code: 'CONCURRENCY' });
      if (ValidationError.is(error)) return send(response, 400, { error: error.message, code: 'VALIDATION' });
      const message = StreamkitError.is(error) ? error.message : 'internal error';
      send(response, 500, { error: message });
    });
  });
}

async function route(service: OrderService, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://localhost');
  let parts: string[];
  try {
    parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    throw new HttpError(400, 'the path is not valid percent-encoding');
  }
  const method = request.method ?? 'GET';
  // An order id in the path follows the rules of the ids orders are placed with.
  if (parts[0] === 'orders' && parts.length >= 2 && !OrderId.safeParse(parts[1]).success) {
    throw new HttpError(400, 'an order id is 1 to 100 letters, digits, "_" or "-"');
  }

  if (parts[0] === 'orders' && parts.length === 1) {
    if (method === 'POST') {
      const body = parse(PlaceBody, await readJson(request));
      return send(response, 201, await service.place(body));
    }
    if (method === 'GET') {
      const status = url.searchParams.get('status');
      if (!status || !ORDER_STATUSES.includes(status as OrderStatus)) throw new HttpError(400, `status must be one of ${ORDER_STATUSES.join(', ')}`);
      return send(response, 200, { status, orders: await service.readModel.byStatus(status as OrderStatus) });
    }
  }
  if (parts[0] === 'orders' && parts.length === 2 && method === 'GET') {
    const found = await service.get(parts[1]!);
    if (!found) throw new HttpError(404, `order ${parts[1]} does not exist`);
    return send(response, 200, found);
  }
  if (parts[0] === 'orders' && parts.length === 3 && method === 'POST') {
    const id = parts[1]!;
    switch (parts[2]) {
      case 'pay':
        await readJson(request);
        return send(response, 200, await service.pay(id));
      case 'ship':
        return send(response, 200, await service.ship(id, parse(ShipBody, await readJson(request)).carrier));
      case 'cancel':
        return send(response, 200, await service.cancel(id, parse(CancelBody, await readJson(request)).reason));
    }
  }
  if (parts[0] === 'stats' && parts.length === 1 && method === 'GET') return send(response, 200, await service.readModel.totals());
  throw new HttpError(404, `no route for ${method} ${url.pathname}`);
}
