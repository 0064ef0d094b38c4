import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Entry, FlatFields } from '../codec.js';
import { AbortedError, BlockingCutError, blockingCall, isConnectionError, sleep, type RedisClient } from '../connection.js';
import { singleStreamReply } from '../info.js';
import { ClientClosedError, ConfigError, DecodeError } from '../errors.js';
import type { ConsumerGroup, RawGroupEntry } from './consumerGroup.js';

/** What a handler gets besides the entry. */
export interface HandlerContext {
  /** How many times this entry has been delivered, this delivery included (1 the first time), as Redis counts them. */
  deliveryCount: number;
  consumer: string;
  group: string;
  stream: string;
}

/**
 * Handles one entry. Resolving acks it; throwing (or rejecting) fails this delivery: the entry
 * stays pending, is delivered again after the retry backoff, and goes to the dead-letter stream
 * after `maxDeliveries`. Delivery is at least once, so a handler must be idempotent.
 */
export type Handler<T> = (entry: Entry<T>, context: HandlerContext) => unknown;

/** Handles a batch of entries (up to `count`); throwing fails every entry of the batch. */
export type BatchHandler<T> = (entries: Entry<T>[], context: Omit<HandlerContext, 'deliveryCount'> & { deliveryCounts: number[] }) => unknown;

/** Backoff between deliveries of a failed entry: `delayMs * factor^(deliveries - 1)`, capped, with jitter. */
export interface RetryOptions {
  /** Delay before the second delivery (default 1000 ms). */
  delayMs?: number;
  /** Multiplier per further delivery (default 2). */
  factor?: number;
  /** Upper bound of the delay (default 60 000 ms). */
  maxDelayMs?: number;
  /** Random spread, 0…1 of the delay (default 0.1). */
  jitter?: number;
}

/** Options of {@link ConsumerGroup.consume}. */
export interface WorkerOptions {
  /**
   * Consumer name; default a unique one from host, pid and a random part. Give a stable name
   * (one per worker instance) when you want a restarted worker to pick up what it left pending.
   */
  consumer?: string;
  /** Handlers running at once; never more (default 1). With `consumeBatch`, batches running at once. */
  concurrency?: number;
  /**
   * Entries per XREADGROUP (default 100). The worker reads again once at most half of that waits
   * to start, so it holds at most `1.5 × count` delivered entries beyond the running ones.
   */
  count?: number;
  /** How long one XREADGROUP blocks (default 2000 ms). `stop()` does not wait for it. */
  blockMs?: number;
  /** Stops the worker like `stop()`. */
  signal?: AbortSignal;
  /**
   * When set, entries idle longer than this in any consumer (one that crashed) are claimed with
   * XAUTOCLAIM and handled here. Make it longer than a handler ever runs plus the retry delays:
   * an entry idle that long in a live consumer is claimed too, and then handled twice.
   */
  claimIdleMs?: number;
  /** How often to look for such entries (default half of `claimIdleMs`, at least 100 ms). */
  claimIntervalMs?: number;
  /** Deliveries before an entry goes to the dead-letter stream (default 5). */
  maxDeliveries?: number;
  /** The dead-letter stream (a key, with the client's prefix applied); default `<stream>:dead-letter`. */
  deadLetter?: string;
  /** Backoff for failed handlers: the entry stays pending and is delivered again after it. */
  retry?: RetryOptions;
  /** Where a new group starts when the worker has to create it (default `$`). */
  from?: string;
}

/** Counters of a running worker. */
export interface WorkerStats {
  consumer: string;
  running: boolean;
  /** Entries whose handler succeeded. */
  processed: number;
  /** Entries acked (processed, dead-lettered or deleted), as confirmed by Redis. */
  acked: number;
  /** Handler failures (each delivery that threw). */
  failed: number;
  /** Deliveries scheduled again after a failure. */
  retried: number;
  /** Entries copied to the dead-letter stream and acked. */
  deadLettered: number;
  /** Entries taken over from other consumers by XAUTOCLAIM. */
  claimed: number;
  /** Pending ids whose data had been deleted from the stream (acked, never handled). */
  deleted: number;
  /** Handlers running now, and the most that ever ran at once. */
  inFlight: number;
  maxInFlight: number;
  /** Entries delivered to this worker and not started yet. */
  buffered: number;
}

/** Events of a {@link Worker}. `error` is emitted only when something listens. */
export interface WorkerEvents<T = unknown> {
  /** The handler succeeded; the ack follows (see `acked`). */
  processed: [entry: Entry<T>, context: HandlerContext];
  failed: [entry: Entry<T>, error: unknown, context: HandlerContext];
  retried: [id: string, delayMs: number, deliveryCount: number];
  deadLettered: [id: string, reason: 'max-deliveries' | 'invalid', error: unknown];
  /** Redis confirmed these acks. */
  acked: [ids: string[]];
  claimed: [ids: string[]];
  deleted: [ids: string[]];
  /** Anything that went wrong outside a handler (a lost connection, a failed ack); the worker goes on. */
  error: [error: unknown];
}

/** A running at-least-once consumer. */
export interface Worker<T = unknown> extends EventEmitter<WorkerEvents<T>> {
  readonly consumer: string;
  /** Resolves once the worker has made sure its group exists (rejects when it cannot). */
  readonly ready: Promise<void>;
  /** Resolves when the worker has stopped. */
  readonly stopped: Promise<void>;
  /**
   * Stops reading at once (a blocked XREADGROUP is cut), lets the entries already delivered to
   * this worker (running and buffered) finish, acks them, then resolves. Entries waiting for a
   * retry stay pending.
   */
  stop(): Promise<void>;
  stats(): WorkerStats;
  /** The group's lag from XINFO GROUPS (entries not yet delivered to the group), or null when Redis cannot tell. */
  lag(): Promise<number | null>;
}

type Work<T> = { kind: 'single'; handler: Handler<T> } | { kind: 'batch'; handler: BatchHandler<T> };

interface Item {
  id: string;
  fields: FlatFields;
  deliveries: number;
}

const positive = (value: number | undefined, fallback: number, name: string, min = 1): number => {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < min) throw new ConfigError(`worker: ${name} must be an integer ≥ ${min}, got ${String(value)}`);
  return v;
};

const nonNegativeNumber = (value: number | undefined, fallback: number, name: string): number => {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new ConfigError(`worker: retry.${name} must be a non-negative number, got ${String(value)}`);
  return v;
};

/** A consumer name unique to this process: host, pid and a random part. */
export function defaultConsumerName(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/** @internal */
export function createWorker<T>(group: ConsumerGroup<T, any>, work: Work<T>, options: WorkerOptions): Worker<T> {
  return new GroupWorker(group, work, options) as unknown as Worker<T>;
}

class GroupWorker<T> extends EventEmitter {
  readonly consumer: string;
  readonly ready: Promise<void>;
  readonly stopped: Promise<void>;

  private readonly concurrency: number;
  private readonly count: number;
  /** The buffer size at or below which the worker reads again. */
  private readonly lowWater: number;
  private readonly blockMs: number;
  private readonly maxDeliveries: number;
  private readonly deadLetterKey: string;
  private readonly claimIdleMs: number | undefined;
  private readonly claimIntervalMs: number;
  private readonly retry: Required<RetryOptions>;

  /** Aborted by {@link halt}: the worker reads no more and retries nothing. */
  private readonly abort = new AbortController();
  /** The blocking connection of this worker, made on first use and after every cut. */
  private conn: RedisClient | undefined;
  /** Delivered entries not started yet: `queue[head…]`. */
  private readonly queue: Item[] = [];
  private head = 0;
  /** Every id this worker holds: queued, running, waiting for a retry, or waiting for its ack. */
  private readonly held = new Set<string>();
  private readonly retryTimers = new Map<string, NodeJS.Timeout>();
  private readonly toAck: string[] = [];
  private ackFlush: Promise<void> | undefined;
  private inFlight = 0;
  /** Resolved whenever the last running handler finished and nothing is queued. */
  private idleWaiters: (() => void)[] = [];
  private needsDrain = true;
  /** Where the next XAUTOCLAIM round goes on. */
  private claimCursor = '0-0';
  /** A read was cut by stop(): its reply, if any, is lost, so the pending list is drained once more. */
  private readCutByStop = false;
  private wake: (() => void) | undefined;
  private readonly detach: () => void;
  private readonly counters = { processed: 0, acked: 0, failed: 0, retried: 0, deadLettered: 0, claimed: 0, deleted: 0, maxInFlight: 0 };

  constructor(
    private readonly group: ConsumerGroup<T, any>,
    private readonly work: Work<T>,
    options: WorkerOptions,
  ) {
    super();
    if (typeof work.handler !== 'function') throw new ConfigError(`stream "${group.stream.key}" group "${group.name}": the handler must be a function`);
    this.consumer = options.consumer ?? defaultConsumerName();
    if (typeof this.consumer !== 'string' || this.consumer.length === 0) throw new ConfigError('worker: consumer must be a non-empty string');
    this.concurrency = positive(options.concurrency, 1, 'concurrency');
    this.count = positive(options.count, 100, 'count');
    this.lowWater = Math.floor(this.count / 2);
    this.blockMs = positive(options.blockMs, 2000, 'blockMs');
    this.maxDeliveries = positive(options.maxDeliveries, 5, 'maxDeliveries');
    this.claimIdleMs = options.claimIdleMs === undefined ? undefined : positive(options.claimIdleMs, 0, 'claimIdleMs', 0);
    this.claimIntervalMs = positive(options.claimIntervalMs, Math.max(100, Math.floor((this.claimIdleMs ?? 2000) / 2)), 'claimIntervalMs');
    const retry = options.retry ?? {};
    this.retry = {
      delayMs: nonNegativeNumber(retry.delayMs, 1000, 'delayMs'),
      factor: nonNegativeNumber(retry.factor, 2, 'factor'),
      maxDelayMs: nonNegativeNumber(retry.maxDelayMs, 60_000, 'maxDelayMs'),
      jitter: Math.min(1, nonNegativeNumber(retry.jitter, 0.1, 'jitter')),
    };
    const context = group.stream.context;
    this.deadLetterKey = options.deadLetter === undefined ? `${group.stream.key}:dead-letter` : context.key(options.deadLetter);
    context.assertOpen();

    const { signal } = options;
    const onAbort = () => this.halt();
    if (signal?.aborted) this.halt();
    else signal?.addEventListener('abort', onAbort, { once: true });
    // After the shared connection comes back, a reply may have been lost with it: drain first.
    const onReconnect = () => (this.needsDrain = true);
    context.redis.on('ready', onReconnect);
    this.detach = () => {
      context.redis.off('ready', onReconnect);
      signal?.removeEventListener('abort', onAbort);
    };
    // Connect the blocking connection while the group is checked and the pending list drained.
    this.conn = this.openConnection();
    this.ready = this.group.create({ from: options.from ?? '$' }).then(() => undefined);
    this.stopped = this.ready.then(
      () => this.run(),
      (error) => {
        this.halt();
        this.dropConnection();
        this.detach();
        this.report(error);
      },
    );
    this.ready.catch(() => undefined);
  }

  stats(): WorkerStats {
    return {
      consumer: this.consumer,
      running: this.running,
      ...this.counters,
      inFlight: this.inFlight,
      buffered: this.queued,
    };
  }

  async lag(): Promise<number | null> {
    return (await this.group.info())?.lag ?? null;
  }

  async stop(): Promise<void> {
    this.halt();
    await this.stopped;
  }

  private get running(): boolean {
    return !this.abort.signal.aborted;
  }

  /**
   * Stops reading (a blocked read is cut) and retrying, for stop(), the signal, a closed client
   * or a group that cannot be made; the run loop then settles what the worker holds.
   */
  private halt(): void {
    if (!this.running) return;
    this.abort.abort();
    // Entries waiting for a retry stay pending (and held, so the last drain leaves them alone).
    for (const timer of this.retryTimers.values()) clearTimeout(timer);
    this.retryTimers.clear();
    this.wake?.();
  }

  private report(error: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  /** Emits without letting a throwing listener break the bookkeeping of an entry. */
  private notify(event: string, ...args: unknown[]): void {
    try {
      this.emit(event, ...args);
    } catch (error) {
      this.report(error);
    }
  }

  private get where() {
    return { consumer: this.consumer, group: this.group.name, stream: this.group.stream.key };
  }

  private clientClosed(): boolean {
    try {
      this.group.stream.context.assertOpen();
      return false;
    } catch {
      return true;
    }
  }

  /** The read loop; handlers run beside it, up to `concurrency` at once. */
  private async run(): Promise<void> {
    let claimAt = this.claimIdleMs === undefined ? Infinity : 0;
    let failures = 0;
    try {
      while (this.running) {
        // Backpressure: read again once the buffer is down to half of `count` (not one entry at a
        // time: a read per finished handler would cost a round trip per entry).
        if (this.queued > this.lowWater) {
          await new Promise<void>((resolve) => (this.wake = resolve));
          this.wake = undefined;
          continue;
        }
        try {
          if (this.needsDrain) {
            // On start and after any failure (a reply lost with a connection): our own pending list first.
            this.needsDrain = false;
            try {
              await this.drainOwnPending();
            } catch (error) {
              this.needsDrain = true;
              throw error;
            }
          }
          if (Date.now() >= claimAt) {
            await this.claimIdle();
            claimAt = Date.now() + this.claimIntervalMs;
          }
          if (!this.running || this.queued > this.lowWater) continue;
          const room = this.count;
          const blockMs = Math.min(this.blockMs, Number.isFinite(claimAt) ? Math.max(1, claimAt - Date.now()) : this.blockMs);
          this.accept(await this.readNew(room, blockMs), 1);
          failures = 0;
        } catch (error) {
          if (!this.running) break;
          if (this.clientClosed()) {
            this.halt();
            this.report(new ClientClosedError());
            break;
          }
          failures++;
          this.needsDrain = true;
          this.report(error);
          await sleep(Math.min(50 * 2 ** Math.min(failures, 6), 2000), this.abort.signal);
        }
      }
      if (this.readCutByStop && !this.clientClosed()) {
        // The read stop() cut may have delivered entries whose reply never arrived: handle them too.
        await this.drainOwnPending().catch((error) => this.report(error));
      }
    } finally {
      await this.settle();
      await this.flushAcks(true);
      this.dropConnection();
      this.detach();
    }
  }

  /** Waits until nothing is queued or running. */
  private async settle(): Promise<void> {
    while (this.inFlight > 0 || this.queued > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private get queued(): number {
    return this.queue.length - this.head;
  }

  /** Takes the next queued entry (there is one). */
  private takeOne(): Item {
    const item = this.queue[this.head]!;
    this.head++;
    this.compact();
    return item;
  }

  /** Takes up to `n` queued entries. */
  private take(n: number): Item[] {
    const items = this.queue.slice(this.head, this.head + n);
    this.head += items.length;
    this.compact();
    return items;
  }

  private compact(): void {
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head >= 1024) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }

  private openConnection(): RedisClient {
    const conn = this.group.stream.context.pool.dedicated();
    // Its failures reach us through the command; without a listener ioredis logs every reconnect attempt.
    conn.on('error', () => undefined);
    return conn;
  }

  private dropConnection(): void {
    if (this.conn) this.group.stream.context.pool.discard(this.conn);
    this.conn = undefined;
  }

  private async readNew(count: number, blockMs: number): Promise<RawGroupEntry[]> {
    const args: (string | number)[] = ['GROUP', this.group.name, this.consumer, 'COUNT', count, 'BLOCK', blockMs, 'STREAMS', this.group.stream.key, '>'];
    const context = this.group.stream.context;
    context.assertOpen();
    const conn = (this.conn ??= this.openConnection());
    try {
      const reply = await blockingCall(conn, this.group.stream.key, (c) => c.call('XREADGROUP', args) as Promise<[string, RawGroupEntry[]][] | null>, {
        blockMs,
        signal: this.abort.signal,
      });
      return singleStreamReply<RawGroupEntry>(reply);
    } catch (error) {
      // Never reuse a connection whose reply may still come: the next read opens a fresh one.
      if (error instanceof AbortedError) this.readCutByStop = true;
      if (error instanceof AbortedError || error instanceof BlockingCutError || !isReplyError(error)) this.dropConnection();
      throw error;
    }
  }

  /** Re-reads this consumer's own pending entries (delivered to it, never acked) and queues them. */
  private async drainOwnPending(): Promise<void> {
    let after = '0-0';
    for (;;) {
      const raw = await this.group.readRaw({ consumer: this.consumer, history: true, after, count: this.count });
      if (raw.length === 0) return;
      after = raw[raw.length - 1]![0];
      const fresh = raw.filter(([id]) => !this.held.has(id));
      this.accept(fresh, await this.deliveryCounts(fresh, raw.length + this.held.size));
      if (raw.length < this.count) return;
      if (this.queued >= this.count) {
        // Plenty to do; the rest is drained on a later pass.
        this.needsDrain = true;
        return;
      }
    }
  }

  /** Claims entries that other consumers left idle too long. */
  private async claimIdle(): Promise<void> {
    const room = this.count - this.queued;
    if (this.claimIdleMs === undefined || room <= 0) return;
    // At most 10 XAUTOCLAIM calls (each scans up to 10 × count entries) per round; the next round
    // goes on from the cursor, so a long pending list costs Redis little per round.
    const { entries, deletedIds, cursor } = await this.group.autoClaimRaw(this.consumer, this.claimIdleMs, {
      start: this.claimCursor,
      count: room,
      maxCalls: 10,
    });
    this.claimCursor = cursor;
    this.dropDeleted(deletedIds);
    const fresh = entries.filter(([id]) => !this.held.has(id));
    if (fresh.length === 0) return;
    this.counters.claimed += fresh.length;
    this.notify('claimed', fresh.map(([id]) => id));
    this.accept(fresh, await this.deliveryCounts(fresh, fresh.length + this.held.size));
  }

  /**
   * Delivery counts (as Redis keeps them) of entries this consumer holds, from XPENDING. It runs
   * after the read that delivered them, so an entry missing here was acked (or claimed away)
   * in between, typically by an XACK of ours in flight: {@link accept} leaves it out.
   */
  private async deliveryCounts(raw: RawGroupEntry[], atMost: number): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    if (raw.length === 0) return counts;
    const pending = await this.group.pendingEntries({ consumer: this.consumer, start: raw[0]![0], end: raw[raw.length - 1]![0], count: atMost });
    for (const entry of pending) counts.set(entry.id, entry.deliveryCount);
    return counts;
  }

  private dropDeleted(ids: string[]): void {
    if (ids.length === 0) return;
    this.counters.deleted += ids.length;
    this.notify('deleted', ids);
  }

  /** Queues delivered entries and starts handlers for as many as there is room. */
  private accept(raw: RawGroupEntry[], deliveries: number | Map<string, number>): void {
    const deleted: string[] = [];
    for (const [id, fields] of raw) {
      if (this.held.has(id)) continue;
      if (fields === null) {
        deleted.push(id);
        continue;
      }
      let count = deliveries;
      if (typeof count !== 'number') {
        const pending = count.get(id);
        if (pending === undefined) continue; // no longer pending for us: acked or claimed meanwhile
        count = pending;
      }
      this.held.add(id);
      this.queue.push({ id, fields, deliveries: count });
    }
    if (deleted.length) {
      // Pending ids whose data is gone can never be handled: ack them so they stop coming back.
      for (const id of deleted) this.held.add(id);
      this.enqueueAck(deleted);
      this.dropDeleted(deleted);
    }
    this.pump();
  }

  /**
   * Starts handlers while there is room; runs on after stop() too, until the queue is empty. A
   * handler that returns no promise finishes within this loop (no recursion, no microtask).
   */
  private pump(): void {
    while (this.inFlight < this.concurrency && this.queued > 0) {
      this.inFlight++;
      if (this.inFlight > this.counters.maxInFlight) this.counters.maxInFlight = this.inFlight;
      const items = this.work.kind === 'single' ? this.takeOne() : this.take(this.count);
      let task: Promise<void> | undefined;
      try {
        task = Array.isArray(items) ? this.runBatch(items) : this.runOne(items);
      } catch (error) {
        this.lost(items, error);
      }
      if (task) task.then(this.taskDone, (error) => (this.lost(items, error), this.taskDone()));
      else this.inFlight--;
    }
    if (this.queued <= this.lowWater) this.wake?.();
    if (this.inFlight === 0 && this.idleWaiters.length > 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private readonly taskDone = (): void => {
    this.inFlight--;
    this.pump();
  };

  /** Only a bug gets here: the entries stay pending and are drained again. */
  private lost(items: Item | Item[], error: unknown): void {
    for (const item of Array.isArray(items) ? items : [items]) this.held.delete(item.id);
    this.needsDrain = true;
    this.report(error);
  }

  private contextOf(item: Item): HandlerContext {
    return { deliveryCount: item.deliveries, consumer: this.consumer, group: this.group.name, stream: this.group.stream.key };
  }

  /**
   * The entry to hand to the handler, or the dead-letter copy of one that must not run again
   * (delivered too often already: a consumer crashed on it each time) or fails the schema.
   */
  private entryOf(item: Item): Entry<T> | Promise<void> {
    if (item.deliveries > this.maxDeliveries) {
      return this.deadLetter(item, 'max-deliveries', new Error(`delivered ${item.deliveries} times (max ${this.maxDeliveries})`));
    }
    const stream = this.group.stream;
    try {
      return { id: item.id, data: stream.codec.decode(item.id, item.fields, stream.key) };
    } catch (error) {
      if (!DecodeError.is(error)) throw error;
      return this.deadLetter(item, 'invalid', error);
    }
  }

  /**
   * Runs the handler for one entry, the hot path of `consume`: returns a promise only when there
   * is something to wait for (an async handler, a dead-letter write).
   */
  private runOne(item: Item): Promise<void> | undefined {
    const entry = this.entryOf(item);
    if (entry instanceof Promise) return entry;
    const context = this.contextOf(item);
    let result: unknown;
    try {
      result = (this.work.handler as Handler<T>)(entry, context);
    } catch (error) {
      return this.failed(item, entry, context, error);
    }
    if (result !== null && (typeof result === 'object' || typeof result === 'function') && typeof (result as PromiseLike<unknown>).then === 'function') {
      return Promise.resolve(result as PromiseLike<unknown>).then(
        () => this.succeeded(item, entry, context),
        (error) => this.failed(item, entry, context, error),
      );
    }
    this.succeeded(item, entry, context);
    return undefined;
  }

  /** Runs the batch handler over items; a throw fails each of them (see {@link failed}). */
  private async runBatch(items: Item[]): Promise<void> {
    const entries: Entry<T>[] = [];
    const valid: Item[] = [];
    for (const item of items) {
      const entry = this.entryOf(item);
      if (entry instanceof Promise) {
        await entry;
      } else {
        entries.push(entry);
        valid.push(item);
      }
    }
    if (valid.length === 0) return;
    try {
      await (this.work.handler as BatchHandler<T>)(entries, { ...this.where, deliveryCounts: valid.map((item) => item.deliveries) });
    } catch (error) {
      for (let i = 0; i < valid.length; i++) await this.failed(valid[i]!, entries[i]!, this.contextOf(valid[i]!), error);
      return;
    }
    for (let i = 0; i < valid.length; i++) this.succeeded(valid[i]!, entries[i]!, this.contextOf(valid[i]!));
  }

  private succeeded(item: Item, entry: Entry<T>, context: HandlerContext): void {
    this.counters.processed++;
    if (this.listenerCount('processed') > 0) this.notify('processed', entry, context);
    this.toAck.push(item.id);
    this.scheduleAckFlush();
  }

  /** A failed delivery: retried after the backoff, or dead-lettered after `maxDeliveries`. */
  private failed(item: Item, entry: Entry<T>, context: HandlerContext, error: unknown): Promise<void> | undefined {
    this.counters.failed++;
    this.notify('failed', entry, error, context);
    if (item.deliveries >= this.maxDeliveries) return this.deadLetter(item, 'max-deliveries', error);
    this.scheduleRetry(item);
    return undefined;
  }

  private scheduleRetry(item: Item): void {
    if (!this.running) {
      // Stopping: left pending (and held, so the last drain skips it). This consumer drains it on
      // its next start, or another one claims it.
      return;
    }
    const { delayMs, factor, maxDelayMs, jitter } = this.retry;
    const base = Math.min(maxDelayMs, delayMs * factor ** Math.max(0, item.deliveries - 1));
    const delay = Math.max(0, Math.round(base * (1 + (Math.random() * 2 - 1) * jitter)));
    this.counters.retried++;
    this.notify('retried', item.id, delay, item.deliveries + 1);
    const timer = setTimeout(() => {
      this.retryTimers.delete(item.id);
      void this.redeliver(item);
    }, delay);
    this.retryTimers.set(item.id, timer);
  }

  /**
   * Delivers a failed entry again with XCLAIM to ourselves, so Redis counts the delivery (and a
   * worker that takes over after a crash sees the right count). If another consumer claimed it
   * meanwhile, or it was acked or deleted, it is no longer ours.
   */
  private async redeliver(item: Item): Promise<void> {
    if (!this.running) return;
    try {
      const [pending] = await this.group.pendingEntries({ start: item.id, end: item.id, count: 1 });
      if (!pending || pending.consumer !== this.consumer) {
        this.held.delete(item.id);
        return;
      }
      // Half the idle time seen: if someone claims it in between, its idle time drops and this fails.
      const raw = await this.group.claimRaw(this.consumer, Math.floor(pending.idleMs / 2), [item.id]);
      // Stopping meanwhile: it stays pending (and held, so the last drain leaves it alone).
      if (!this.running) return;
      this.held.delete(item.id);
      const [entry] = raw;
      if (!entry) {
        // Claimed by another consumer, deleted, or the XCLAIM was re-sent after a lost reply and
        // found it freshly claimed (by us): the drain of our own pending list sorts that out.
        this.needsDrain = true;
        return;
      }
      this.accept([entry], pending.deliveryCount + 1);
    } catch (error) {
      // It stays pending; the next drain of our own pending list picks it up.
      this.held.delete(item.id);
      this.needsDrain = true;
      this.report(error);
    }
  }

  /** Copies an entry to the dead-letter stream with why it is there, then acks it. */
  private async deadLetter(item: Item, reason: 'max-deliveries' | 'invalid', error: unknown): Promise<void> {
    const message = error instanceof Error ? error.message : String(error);
    const fields = [
      ...item.fields,
      'dead_letter_id',
      item.id,
      'dead_letter_stream',
      this.group.stream.key,
      'dead_letter_group',
      this.group.name,
      'dead_letter_consumer',
      this.consumer,
      'dead_letter_deliveries',
      String(item.deliveries),
      'dead_letter_reason',
      reason,
      'dead_letter_error',
      message.slice(0, 4000),
      'dead_letter_at',
      new Date().toISOString(),
    ];
    const redis = this.group.stream.context.redis;
    for (let attempt = 0; ; attempt++) {
      try {
        await redis.call('XADD', [this.deadLetterKey, '*', ...fields]);
        break;
      } catch (failure) {
        if (attempt >= 5 || this.clientClosed()) {
          // Not copied: leave it pending rather than ack it unseen.
          this.held.delete(item.id);
          this.needsDrain = true;
          this.report(failure);
          return;
        }
        await sleep(100 * 2 ** attempt);
      }
    }
    this.counters.deadLettered++;
    this.notify('deadLettered', item.id, reason, error);
    this.enqueueAck([item.id]);
  }

  private enqueueAck(ids: string[]): void {
    for (const id of ids) this.toAck.push(id);
    this.scheduleAckFlush();
  }

  private scheduleAckFlush(): void {
    // After the current turn: every handler that finishes in it shares one XACK.
    this.ackFlush ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flushAcks(false));
  }

  /** Sends the collected acks in one XACK, retrying through connection trouble (only that: a refusal stays one). */
  private async flushAcks(final: boolean): Promise<void> {
    if (final && this.ackFlush) await this.ackFlush.catch(() => undefined);
    for (let attempt = 0; this.toAck.length > 0; attempt++) {
      const ids = this.toAck.splice(0, this.toAck.length);
      try {
        await this.group.ackRaw(ids);
        for (const id of ids) this.held.delete(id);
        this.counters.acked += ids.length;
        this.notify('acked', ids);
        attempt = -1;
      } catch (error) {
        this.toAck.unshift(...ids);
        if (!isConnectionError(error) || this.clientClosed() || attempt >= (final ? 20 : 50)) {
          // They stay pending: handled again after a drain or a claim, which at-least-once allows.
          this.report(error);
          for (const id of this.toAck.splice(0)) this.held.delete(id);
          this.needsDrain = true;
          break;
        }
        await sleep(Math.min(50 * 2 ** Math.min(attempt, 5), 1000));
      }
    }
    if (!final) this.ackFlush = undefined;
  }
}

/** A Redis error reply (the connection itself is fine). */
function isReplyError(error: unknown): boolean {
  return error instanceof Error && error.name === 'ReplyError';
}
