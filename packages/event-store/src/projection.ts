import { ConfigError, defaultConsumerName, sleep, type Entry, type HandlerContext, type Worker } from '@streamkit/core';
import type { EventStore } from './eventStore.js';
import type { LogFilter } from './log.js';

/** What a projection handler gets besides the event. */
export interface ProjectionContext {
  projection: string;
  partition: number;
  /** How many times this event has been delivered to the projection (1 the first time). */
  deliveryCount: number;
}

/** Options of {@link EventStore.projection}. */
export interface ProjectionOptions<E> {
  /** The projection's name: its consumer groups and checkpoints are named after it. */
  name: string;
  /** Applies one event to the read model. Throwing retries it in place, then dead-letters it. */
  handle: (event: E, context: ProjectionContext) => unknown;
  filter?: LogFilter;
  /** Called by {@link Projection.rebuild} before the replay: clear the read model here. */
  reset?: () => unknown;
  /** Attempts of one event before it is dead-lettered (default 3). */
  maxAttempts?: number;
  /** Consumer name in the groups (default: unique per process). */
  consumer?: string;
  /** Events of a consumer that died are claimed after being idle this long (default 30 000 ms). */
  claimIdleMs?: number;
  /** How long one XREADGROUP blocks (default 2000 ms). */
  blockMs?: number;
  /** Called with errors the workers report (Redis trouble); they keep running. */
  onError?: (error: unknown) => void;
}

const NAME = /^[A-Za-z0-9_.:-]+$/;

/**
 * A read-model projection over the global log, on one consumer group per partition (group
 * `proj:<name>`), so several processes can share the work and a crashed one's events are claimed.
 *
 * Delivery is at least once. An event is acked as soon as its handler returns, together with the
 * partition's checkpoint (the last event handled) in one transaction: only an event whose handler
 * did not finish, or finished just before a crash, is handled again. Events of one stream are handled
 * in version order as long as one consumer runs the projection.
 *
 * An event whose handler still throws after `maxAttempts` is copied to the partition's
 * dead-letter stream `{es:<store>:p<n>}:proj:<name>:dead` and skipped.
 */
export class Projection<E> {
  /** The projection's name. */
  readonly name: string;
  private workers: Worker<Record<string, string>>[] = [];
  private readonly consumer: string;

  constructor(
    private readonly store: EventStore<any>,
    private readonly options: ProjectionOptions<E>,
  ) {
    if (!options || typeof options.name !== 'string' || !NAME.test(options.name)) {
      throw new ConfigError(`projection: name must be letters, digits, "_", ".", ":" or "-", got ${JSON.stringify(options?.name)}`);
    }
    if (typeof options.handle !== 'function') throw new ConfigError(`projection "${options.name}": handle must be a function`);
    this.name = options.name;
    this.consumer = options.consumer ?? defaultConsumerName();
  }

  /** True between {@link start} and {@link stop}. */
  get running(): boolean {
    return this.workers.length > 0;
  }

  private group(partition: number) {
    return this.store.client.stream(this.store.keys.log(partition)).group(`proj:${this.name}`);
  }

  private checkpointKey(partition: number): string {
    return this.store.client.key(this.store.keys.projection(this.name, partition));
  }

  /** Starts one worker per partition (creating the groups from the start of the log). Resolves once they read. */
  async start(): Promise<void> {
    if (this.running) return;
    const attempts = this.options.maxAttempts ?? 3;
    if (!Number.isSafeInteger(attempts) || attempts < 1) throw new ConfigError(`projection "${this.name}": maxAttempts must be a positive integer`);
    for (let p = 0; p < this.store.partitions; p++) {
      const worker = this.group(p).consume((entry, context) => this.handleEntry(p, entry, context, attempts), {
        consumer: this.consumer,
        concurrency: 1,
        from: '0',
        blockMs: this.options.blockMs ?? 2000,
        claimIdleMs: this.options.claimIdleMs ?? 30_000,
        // Failures are retried in place, so the worker only sees redeliveries after a crash.
        maxDeliveries: 1_000_000,
      });
      worker.on('error', (error) => this.options.onError?.(error));
      this.workers.push(worker);
    }
    await Promise.all(this.workers.map((worker) => worker.ready));
  }

  private async handleEntry(partition: number, entry: Entry<Record<string, string>>, context: HandlerContext, attempts: number): Promise<void> {
    const store = this.store;
    const fields = entry.data;
    const { filter } = this.options;
    const skip = (filter?.types && !filter.types.includes(fields.t ?? '')) || (filter?.streamPrefix !== undefined && !(fields.s ?? '').startsWith(filter.streamPrefix));
    if (!skip) {
      let lastError: unknown;
      let done = false;
      for (let attempt = 1; attempt <= attempts && !done; attempt++) {
        try {
          const event = store.decodeLogEntry(partition, context.stream, entry.id, fields) as E;
          await this.options.handle(event, { projection: this.name, partition, deliveryCount: context.deliveryCount });
          done = true;
        } catch (error) {
          lastError = error;
          if (attempt < attempts) await sleep(50 * 2 ** (attempt - 1));
        }
      }
      if (!done) await this.deadLetter(partition, entry, lastError);
    }
    // Ack now, with the checkpoint, in one transaction (the worker's own ack comes later, batched):
    // an event is redelivered only when it was not acked here, so a redelivery is never skipped.
    // (Skipping redeliveries up to the checkpoint lost events: a consumer that claims a dead one's
    // pending events has by then handled later ones and moved the checkpoint past them.)
    const key = this.checkpointKey(partition);
    const log = context.stream;
    const results = await store.command('MULTI XACK HSET', key, () => store.redis.multi().xack(log, context.group, entry.id).hset(key, 'last', entry.id).exec());
    const failed = results?.find(([error]) => error);
    if (!results || failed) throw failed?.[0] ?? new Error(`projection "${this.name}": the ack of ${entry.id} was discarded`);
  }

  private async deadLetter(partition: number, entry: Entry<Record<string, string>>, error: unknown): Promise<void> {
    const key = `${this.checkpointKey(partition)}:dead`;
    const message = error instanceof Error ? error.message : String(error);
    const fields = Object.entries(entry.data).flat();
    await this.store.command('XADD', key, () =>
      this.store.redis.call('XADD', [key, '*', ...fields, 'dead_letter_id', entry.id, 'dead_letter_error', message.slice(0, 4000)]),
    );
  }

  /** Stops the workers: handlers in flight finish and are acked. */
  async stop(): Promise<void> {
    const workers = this.workers;
    this.workers = [];
    await Promise.all(workers.map((worker) => worker.stop()));
  }

  /**
   * Replays the projection from the start of the log: stops it, drops its groups and checkpoints,
   * calls `reset` (clear the read model there), and starts it again.
   */
  async rebuild(): Promise<void> {
    await this.stop();
    for (let p = 0; p < this.store.partitions; p++) {
      await this.group(p).destroy().catch(() => false);
      const key = this.checkpointKey(p);
      await this.store.command('DEL', key, () => this.store.redis.del(key));
    }
    await this.options.reset?.();
    await this.start();
  }

  /**
   * How many events of the log the projection has not finished: not yet delivered plus delivered
   * and not acked, over all partitions. 0 means the read model reflects every event appended so far.
   */
  async lag(): Promise<number> {
    let total = 0;
    for (let p = 0; p < this.store.partitions; p++) {
      const group = this.group(p);
      const info = await group.info();
      if (!info) {
        total += await this.store.client.stream(this.store.keys.log(p)).length();
        continue;
      }
      let lag = info.lag;
      if (lag === null) {
        // Redis cannot tell (entries were deleted): is anything left after the last delivered id?
        const key = this.store.client.key(this.store.keys.log(p));
        const next = (await this.store.command('XRANGE', key, () => this.store.redis.call('XRANGE', [key, `(${info.lastDeliveredId}`, '+', 'COUNT', 1]))) as unknown[];
        lag = next.length;
      }
      total += lag + info.pending;
    }
    return total;
  }
}
