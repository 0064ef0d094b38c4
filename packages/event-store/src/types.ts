import type { z } from 'zod';

/** Free-form metadata stored with an event (correlation ids, the user who caused it…). JSON-serializable. */
export type Metadata = Record<string, unknown>;

/**
 * One event type: its data schema, and for evolving shapes the current schema version and an
 * `upcast` that turns data stored by an older version into the current shape.
 *
 * @example
 * ```ts
 * OrderPlaced: {
 *   schema: z.object({ order_id: z.string(), amount: z.number() }),
 *   version: 2,
 *   // version 1 stored the amount in cents as `amount_cents`
 *   upcast: (data: any) => ({ order_id: data.order_id, amount: data.amount_cents / 100 }),
 * }
 * ```
 */
export interface EventTypeDefinition<S extends z.ZodType = z.ZodType> {
  /** The data schema. Data must be JSON-serializable (it is stored as JSON and parsed again on read). */
  schema: S;
  /** The shape version written with new events of this type (default 1). */
  version?: number;
  /** Turns data stored by version `fromVersion` (< `version`) into the input of `schema`. */
  upcast?: (data: unknown, fromVersion: number) => unknown;
}

/** The event types of a store: each type name maps to a zod schema of its data, or to an {@link EventTypeDefinition}. */
export type EventDefinitions = Record<string, z.ZodType | EventTypeDefinition>;

/** The data schema of one definition. */
export type SchemaOf<D> = D extends EventTypeDefinition<infer S> ? S : D extends z.ZodType ? D : never;

/** The union of the store's events as they are read: `{ type, data, metadata? }`. */
export type EventOf<M extends EventDefinitions> = {
  [K in keyof M & string]: { type: K; data: z.output<SchemaOf<M[K]>>; metadata?: Metadata };
}[keyof M & string];

/** The union of the store's events as they are appended; `id` (default: a random UUID) makes retries idempotent. */
export type EventInput<M extends EventDefinitions> = {
  [K in keyof M & string]: { type: K; data: z.input<SchemaOf<M[K]>>; metadata?: Metadata; id?: string };
}[keyof M & string];

/** What the store adds to an event it read back. */
export interface RecordedFields {
  /** The event id (given on append, or generated). */
  id: string;
  /** The aggregate stream the event belongs to. */
  streamName: string;
  /** Its version in the stream: 0 for the stream's first event. */
  version: number;
  /** Its entry id in its partition of the global log, `<ms>-<seq>`: orders the events of a partition, in time. */
  position: string;
  /** The global-log partition of its stream. */
  partition: number;
  /** When it was appended (the time part of `position`). */
  recordedAt: Date;
  metadata?: Metadata;
}

/** An event as it is read back: the event and its {@link RecordedFields}. Distributes over the union of events. */
export type RecordedEvent<E extends { type: string; data: unknown } = { type: string; data: unknown }> = E extends unknown
  ? E & RecordedFields
  : never;
