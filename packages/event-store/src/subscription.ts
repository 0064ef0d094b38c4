import { ConfigError, isConnectionError, sleep } from '@streamkit/core';
import type { EventStore } from './eventStore.js';
import { LogMerger, decodeCheckpoint, encodeCheckpoint, startCheckpoint, type LogFilter } from './log.js';

/** What a subscription handler gets besides the event. */
export interface SubscriptionContext {
  /** The checkpoint right after this event: a subscription started from it resumes after the event. */
  checkpoint: string;
  /** False while catching up on the events that were there when the subscription started. */
  live: boolean;
}

/** Options of {@link EventStore.subscribe}. */
export interface SubscribeOptions<E> {
  /**
   * Where to start when there is no saved checkpoint: `'start'` (default, the whole log),
   * `'end'` (only events appended after the subscription starts) or a checkpoint string.
   */
  from?: 'start' | 'end' | string;
  /**
   * Names the subscription: its checkpoint is saved in Redis after every batch, and a subscription
   * of the same name started later (another process, after a crash) resumes from it, ignoring `from`.
   */
  name?: string;
  filter?: LogFilter;
  /** Called for each event, one at a time, in order. Throwing stops the subscription (`done` rejects); the event is delivered again on restart. */
  handler: (event: E, context: SubscriptionContext) => unknown;
  /** Stops the subscription. */
  signal?: AbortSignal;
  /** Events read per batch; the checkpoint is saved after each batch (default 100). */
  batchSize?: number;
  /** Standalone Redis: how long one blocking wait for new events lasts (default 2000 ms). */
  blockMs?: number;
  /** Redis Cluster, where the partitions live on different nodes: how often to look for new events when caught up (default 100 ms). */
  pollMs?: number;
}

/**
 * A running subscription to the global log. Delivery is at least once: after a crash the events
 * of the batch that was being handled are delivered again. Events of one stream always arrive in
 * version order; events of different partitions arrive in time order while catching up, and in
 * the order they are found once live.
 */
export class Subscription<E> {
  /** Resolves when the subscription stops (signal or {@link stop}); rejects with the handler's or Redis's error. */
  readonly done: Promise<void>;
  /**
   * Resolves the first time the subscription has caught up with the log (it is then live), or
   * when it is stopped before that; rejects like {@link done} when it fails before that.
   */
  readonly caughtUp: Promise<void>;
  private readonly controller = new AbortController();
  private current = '';
  private markCaughtUp!: () => void;
  private failCaughtUp!: (error: unknown) => void;

  constructor(
    private readonly store: EventStore<any>,
    private readonly options: SubscribeOptions<E>,
  ) {
    if (!options || typeof options.handler !== 'function') throw new ConfigError('subscribe: a handler function is required');
    const batchSize = options.batchSize ?? 100;
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new ConfigError(`subscribe: batchSize must be a positive integer, got ${String(batchSize)}`);
    if (options.name !== undefined && (typeof options.name !== 'string' || options.name.length === 0)) {
      throw new ConfigError('subscribe: name must be a non-empty string');
    }
    if (options.from !== undefined && options.from !== 'start' && options.from !== 'end') decodeCheckpoint(options.from, store.partitions);
    const { signal } = options;
    const onAbort = () => this.controller.abort();
    if (signal?.aborted) this.controller.abort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    this.caughtUp = new Promise<void>((resolve, reject) => {
      this.markCaughtUp = resolve;
      this.failCaughtUp = reject;
    });
    this.caughtUp.catch(() => undefined);
    this.done = this.run(batchSize);
    this.done.then(
      () => this.markCaughtUp(),
      (error: unknown) => this.failCaughtUp(error),
    );
    // A long-lived signal must not keep every subscription it ever stopped.
    void this.done.catch(() => undefined).then(() => signal?.removeEventListener('abort', onAbort));
  }

  /** The checkpoint after the last event handled. */
  checkpoint(): string {
    return this.current;
  }

  /** Stops the subscription after the event being handled, and waits for it. */
  async stop(): Promise<void> {
    this.controller.abort();
    await this.done.catch(() => undefined);
  }

  private async startCursors(): Promise<string[]> {
    const { name, from } = this.options;
    if (name !== undefined) {
      const key = this.store.client.key(this.store.keys.subscription(name));
      const saved = await this.store.command('GET', key, () => this.store.redis.get(key));
      if (saved) return decodeCheckpoint(saved, this.store.partitions);
    }
    if (from === undefined || from === 'start') return startCheckpoint(this.store.partitions);
    if (from !== 'end') return decodeCheckpoint(from, this.store.partitions);
    // 'end' moves: save where it was now, or a restart before the first event would start past
    // whatever was appended meanwhile.
    const end = await this.store.endCheckpoint();
    await this.save(end);
    return decodeCheckpoint(end, this.store.partitions);
  }

  private async save(checkpoint: string): Promise<void> {
    if (this.options.name === undefined) return;
    const key = this.store.client.key(this.store.keys.subscription(this.options.name));
    await this.store.command('SET', key, () => this.store.redis.set(key, checkpoint));
  }

  private async run(batchSize: number): Promise<void> {
    const signal = this.controller.signal;
    let failures = 0;
    let merger: LogMerger<any> | undefined;
    let live = false;
    while (!signal.aborted) {
      try {
        if (!merger) {
          // After a Redis failure: on from the last event handled, not from the start.
          const cursors = this.current ? decodeCheckpoint(this.current, this.store.partitions) : await this.startCursors();
          merger = new LogMerger(this.store, cursors, { pageSize: batchSize, filter: this.options.filter });
          this.current = encodeCheckpoint(merger.cursors);
        }
        const cursors = [...merger.cursors];
        const events = await merger.next(batchSize);
        failures = 0;
        if (events.length > 0) {
          for (const event of events) {
            if (signal.aborted) break;
            cursors[event.partition] = event.position;
            const checkpoint = encodeCheckpoint(cursors);
            try {
              await this.options.handler(event as E, { checkpoint, live });
            } catch (error) {
              // Keep what was handled; the failing event comes again on restart.
              await this.save(this.current).catch(() => undefined);
              throw new HandlerError(error);
            }
            this.current = checkpoint;
          }
          if (!signal.aborted) this.current = encodeCheckpoint(merger.cursors);
          await this.save(this.current);
          continue;
        }
        // Caught up: the checkpoint moved past filtered-out entries too.
        const checkpoint = encodeCheckpoint(merger.cursors);
        if (checkpoint !== this.current) {
          this.current = checkpoint;
          await this.save(checkpoint);
        }
        if (!live) {
          live = true;
          this.markCaughtUp();
        }
        await this.waitForEvents(merger.cursors, signal);
        merger.rewind();
      } catch (error) {
        if (error instanceof HandlerError) throw error.cause;
        if (signal.aborted) break;
        if (!isTransient(error)) throw error;
        // Redis went away: read again from the last checkpoint once it is back.
        failures++;
        merger = undefined;
        await sleep(Math.min(50 * 2 ** Math.min(failures, 6), 2000), signal);
      }
    }
  }

  /** Waits until a partition may have entries after its cursor (or a timeout, or the signal). */
  private async waitForEvents(cursors: readonly string[], signal: AbortSignal): Promise<void> {
    const client = this.store.client;
    if (client.isCluster) {
      await sleep(this.options.pollMs ?? 100, signal);
      return;
    }
    const streams: Record<string, string> = {};
    cursors.forEach((cursor, p) => (streams[this.store.keys.log(p)] = cursor));
    await client.readMany(streams, { blockMs: this.options.blockMs ?? 2000, count: 1, signal });
  }
}

/** A failure that Redis coming back cures: a dropped connection, a restart, a failover. */
function isTransient(error: unknown): boolean {
  const causes = [error, (error as { cause?: unknown } | undefined)?.cause];
  return causes.some((e) => isConnectionError(e) || (e instanceof Error && /max retries per request|Connection is closed/i.test(e.message)));
}

/** Marks an error thrown by the user's handler, so it is not mistaken for a connection failure. */
class HandlerError extends Error {
  constructor(override readonly cause: unknown) {
    super('subscription handler failed');
  }
}
