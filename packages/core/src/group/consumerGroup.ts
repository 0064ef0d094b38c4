import type { Entry, FlatFields } from '../codec.js';
import { ConfigError, RedisCommandError, StreamkitError } from '../errors.js';
import { singleStreamReply, type ConsumerInfo, type GroupInfo } from '../info.js';
import type { DecodeOptions, OnInvalid, Stream } from '../stream.js';
import { StreamId, type IdBound } from '../streamId.js';
import { createWorker, type BatchHandler, type Handler, type Worker, type WorkerOptions } from './worker.js';

/** An entry as XREADGROUP, XCLAIM or XAUTOCLAIM hands it over: fields, or `null` when it was deleted. */
export type RawGroupEntry = [id: string, fields: FlatFields | null];

/** Options of {@link ConsumerGroup.read}. */
export interface GroupReadOptions extends DecodeOptions {
  consumer: string;
  count?: number;
  /** Block up to this many ms for new entries (`0`: until data arrives). Ignored with `history`. */
  blockMs?: number;
  /** Re-read this consumer's own pending entries (id `0`) instead of new ones (`>`). */
  history?: boolean;
  /** Start of the history read (exclusive), default `0`. */
  after?: string;
  /** NOACK: entries are not added to the pending list (at-most-once). */
  noAck?: boolean;
  signal?: AbortSignal;
  /** Pending entries whose data was deleted from the stream: they are acked (they can never be processed) and reported here. */
  onDeleted?: (ids: string[]) => void;
}

/** The XPENDING summary. */
export interface PendingSummary {
  count: number;
  minId: string | null;
  maxId: string | null;
  consumers: { name: string; count: number }[];
}

/** One XPENDING entry. */
export interface PendingEntry {
  id: string;
  consumer: string;
  idleMs: number;
  deliveryCount: number;
}

/** Options of {@link ConsumerGroup.pendingEntries}. */
export interface PendingEntriesOptions {
  consumer?: string;
  minIdleMs?: number;
  start?: IdBound;
  end?: IdBound;
  /** Default 100. */
  count?: number;
}

/** What XAUTOCLAIM gave: the claimed entries and the ids that were pending but deleted from the stream. */
export interface AutoClaimResult<T> {
  entries: Entry<T>[];
  deletedIds: string[];
  /** Where the next call would go on (its `start`); `0-0` once the whole pending list was walked. */
  cursor: string;
}

const nonNegative = (value: number, name: string, where: string) => {
  if (!Number.isSafeInteger(value) || value < 0) throw new ConfigError(`${where}: ${name} must be a non-negative integer, got ${String(value)}`);
  return value;
};

/** A COUNT: Redis reads `0` and negative counts of XREADGROUP as "no limit", so they never get there. */
const positive = (value: number, name: string, where: string) => {
  if (!Number.isSafeInteger(value) || value < 1) throw new ConfigError(`${where}: ${name} must be a positive integer, got ${String(value)}`);
  return value;
};

const consumerName = (value: string, where: string) => {
  if (typeof value !== 'string' || value.length === 0) throw new ConfigError(`${where}: a consumer needs a non-empty name, got ${JSON.stringify(value)}`);
  return value;
};

/**
 * A consumer group of a stream. Get one from {@link Stream.group}.
 *
 * @example
 * ```ts
 * const group = orders.group('billing');
 * await group.create({ from: '0' });
 * const worker = group.consume(async (entry) => charge(entry.data), { concurrency: 8, maxDeliveries: 5, deadLetter: 'orders:dead' });
 * ```
 */
export class ConsumerGroup<T = Record<string, string>, TInput = T> {
  constructor(
    readonly stream: Stream<T, TInput>,
    readonly name: string,
  ) {
    if (typeof name !== 'string' || name.length === 0) throw new ConfigError(`stream "${stream.key}": a group needs a non-empty name`);
  }

  private get where(): string {
    return `stream "${this.stream.key}" group "${this.name}"`;
  }

  private get redis() {
    this.stream.context.assertOpen();
    return this.stream.context.redis;
  }

  /** @internal */
  async command<R>(name: string, run: () => Promise<R>): Promise<R> {
    try {
      return await run();
    } catch (error) {
      throw StreamkitError.is(error) ? error : new RedisCommandError({ command: name, stream: this.stream.key, cause: error });
    }
  }

  /**
   * XGROUP CREATE. Idempotent: returns `false` when the group exists already. `from` is where the
   * group starts: `$` (only new entries, the default), `0` (everything) or an id.
   */
  async create(options: { from?: string; mkStream?: boolean; entriesRead?: number } = {}): Promise<boolean> {
    const from = options.from === undefined || options.from === '$' ? '$' : options.from === '0' ? '0' : StreamId.after(options.from);
    const args: (string | number)[] = ['CREATE', this.stream.key, this.name, from];
    if (options.mkStream !== false) args.push('MKSTREAM');
    if (options.entriesRead !== undefined) args.push('ENTRIESREAD', nonNegative(options.entriesRead, 'entriesRead', this.where));
    try {
      await this.redis.call('XGROUP', args);
      return true;
    } catch (error) {
      if (error instanceof Error && error.message.includes('BUSYGROUP')) return false;
      throw new RedisCommandError({ command: 'XGROUP CREATE', stream: this.stream.key, cause: error });
    }
  }

  /** XGROUP DESTROY: removes the group and its pending list. True when it existed. */
  async destroy(): Promise<boolean> {
    return Number(await this.command('XGROUP DESTROY', () => this.redis.call('XGROUP', ['DESTROY', this.stream.key, this.name]))) === 1;
  }

  /** XGROUP SETID: moves the group's last-delivered id (`$`, `0` or an id). */
  async setId(id: string, options: { entriesRead?: number } = {}): Promise<void> {
    const target = id === '$' || id === '0' ? id : StreamId.after(id);
    const args: (string | number)[] = ['SETID', this.stream.key, this.name, target];
    if (options.entriesRead !== undefined) args.push('ENTRIESREAD', nonNegative(options.entriesRead, 'entriesRead', this.where));
    await this.command('XGROUP SETID', () => this.redis.call('XGROUP', args));
  }

  /** XGROUP CREATECONSUMER. True when it was created. */
  async createConsumer(consumer: string): Promise<boolean> {
    return Number(await this.command('XGROUP CREATECONSUMER', () => this.redis.call('XGROUP', ['CREATECONSUMER', this.stream.key, this.name, consumer]))) === 1;
  }

  /** XGROUP DELCONSUMER; returns how many entries it still had pending (they are dropped from the pending list). */
  async deleteConsumer(consumer: string): Promise<number> {
    return Number(await this.command('XGROUP DELCONSUMER', () => this.redis.call('XGROUP', ['DELCONSUMER', this.stream.key, this.name, consumer])));
  }

  /** Typed XINFO CONSUMERS of this group. */
  consumers(): Promise<ConsumerInfo[]> {
    return this.stream.consumers(this.name);
  }

  /** This group's row of XINFO GROUPS (with `lag`), or null when the group does not exist. */
  async info(): Promise<GroupInfo | null> {
    try {
      return (await this.stream.groups()).find((group) => group.name === this.name) ?? null;
    } catch (error) {
      if (error instanceof Error && /no such key/i.test(error.message)) return null;
      throw error;
    }
  }

  /** @internal XREADGROUP without decoding. `conn` is a blocking connection when blocking. */
  async readRaw(options: Omit<GroupReadOptions, 'onInvalid' | 'onDeleted'>): Promise<RawGroupEntry[]> {
    const args: (string | number)[] = ['GROUP', this.name, consumerName(options.consumer, this.where)];
    if (options.count !== undefined) args.push('COUNT', positive(options.count, 'count', this.where));
    const block = !options.history && options.blockMs !== undefined;
    if (block) args.push('BLOCK', nonNegative(options.blockMs!, 'blockMs', this.where));
    if (options.noAck) args.push('NOACK');
    args.push('STREAMS', this.stream.key, options.history ? (options.after ? StreamId.after(options.after) : '0') : '>');
    type Reply = [string, RawGroupEntry[]][] | null;
    if (!block) {
      const reply = await this.command('XREADGROUP', () => this.redis.call('XREADGROUP', args) as Promise<Reply>);
      return singleStreamReply<RawGroupEntry>(reply);
    }
    this.stream.context.assertOpen();
    const reply = await this.command('XREADGROUP', () =>
      this.stream.context.pool.call(this.stream.key, (c) => c.call('XREADGROUP', args) as Promise<Reply>, {
        blockMs: options.blockMs!,
        signal: options.signal,
      }),
    );
    return singleStreamReply<RawGroupEntry>(reply);
  }

  /** Splits raw group entries into decoded entries and ids whose data is gone, acking the latter. */
  private async settle(raw: RawGroupEntry[], onInvalid: OnInvalid | undefined, onDeleted?: (ids: string[]) => void): Promise<Entry<T>[]> {
    const deleted = raw.filter(([, fields]) => fields === null).map(([id]) => id);
    if (deleted.length) {
      await this.ack(...deleted);
      onDeleted?.(deleted);
    }
    return this.stream.decodeEntries(raw.filter((r): r is [string, FlatFields] => r[1] !== null), onInvalid);
  }

  /**
   * XREADGROUP: new entries (`>`) for this consumer, or with `history` its own pending ones.
   * Blocking reads run on a pooled blocking connection.
   */
  async read(options: GroupReadOptions): Promise<Entry<T>[]> {
    return this.settle(await this.readRaw(options), options.onInvalid, options.onDeleted);
  }

  /** XACK; returns how many were pending. */
  async ack(...ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const valid = ids.map((id) => StreamId.from(id));
    return Number(await this.command('XACK', () => this.redis.call('XACK', [this.stream.key, this.name, ...valid])));
  }

  /** @internal XACK of ids that came from Redis (not validated again). */
  async ackRaw(ids: readonly string[]): Promise<number> {
    return Number(await this.command('XACK', () => this.redis.call('XACK', [this.stream.key, this.name, ...ids])));
  }

  /** The XPENDING summary: how many entries are pending, their id range, and per consumer. */
  async pending(): Promise<PendingSummary> {
    const raw = (await this.command('XPENDING', () => this.redis.call('XPENDING', [this.stream.key, this.name]))) as [
      number,
      string | null,
      string | null,
      [string, string][] | null,
    ];
    return {
      count: Number(raw[0]),
      minId: raw[1],
      maxId: raw[2],
      consumers: (raw[3] ?? []).map(([name, count]) => ({ name, count: Number(count) })),
    };
  }

  /** XPENDING with a range: pending entries with their consumer, idle time and delivery count. */
  async pendingEntries(options: PendingEntriesOptions = {}): Promise<PendingEntry[]> {
    const args: (string | number)[] = [this.stream.key, this.name];
    if (options.minIdleMs !== undefined) args.push('IDLE', nonNegative(options.minIdleMs, 'minIdleMs', this.where));
    args.push(StreamId.bound(options.start ?? '-', 'start'), StreamId.bound(options.end ?? '+', 'end'), positive(options.count ?? 100, 'count', this.where));
    if (options.consumer !== undefined) args.push(consumerName(options.consumer, this.where));
    const raw = (await this.command('XPENDING', () => this.redis.call('XPENDING', args))) as [string, string, number, number][];
    return raw.map(([id, consumer, idle, count]) => ({ id, consumer, idleMs: Number(idle), deliveryCount: Number(count) }));
  }

  /** @internal XCLAIM without decoding. */
  async claimRaw(consumer: string, minIdleMs: number, ids: readonly string[]): Promise<RawGroupEntry[]> {
    if (ids.length === 0) return [];
    const valid = ids.map((id) => StreamId.from(id));
    consumerName(consumer, this.where);
    return this.command(
      'XCLAIM',
      () =>
        this.redis.call('XCLAIM', [this.stream.key, this.name, consumer, nonNegative(minIdleMs, 'minIdleMs', this.where), ...valid]) as Promise<
          RawGroupEntry[]
        >,
    );
  }

  /** XCLAIM: takes over entries idle at least `minIdleMs` (their delivery count goes up). */
  async claim(consumer: string, minIdleMs: number, ids: readonly string[], options: DecodeOptions = {}): Promise<Entry<T>[]> {
    return this.settle(await this.claimRaw(consumer, minIdleMs, ids), options.onInvalid);
  }

  /**
   * @internal XAUTOCLAIM without decoding, following the cursor until `count` entries are claimed
   * or the pending list has been walked once.
   */
  async autoClaimRaw(
    consumer: string,
    minIdleMs: number,
    options: { start?: string; count?: number; maxCalls?: number } = {},
  ): Promise<{ entries: RawGroupEntry[]; deletedIds: string[]; cursor: string }> {
    const want = positive(options.count ?? 100, 'count', this.where);
    consumerName(consumer, this.where);
    nonNegative(minIdleMs, 'minIdleMs', this.where);
    let cursor = options.start === undefined ? '0-0' : StreamId.from(options.start);
    const entries: RawGroupEntry[] = [];
    const deletedIds: string[] = [];
    const maxCalls = options.maxCalls ?? Infinity;
    let calls = 0;
    do {
      const reply = (await this.command('XAUTOCLAIM', () =>
        this.redis.call('XAUTOCLAIM', [
          this.stream.key,
          this.name,
          consumer,
          nonNegative(minIdleMs, 'minIdleMs', this.where),
          cursor,
          'COUNT',
          Math.max(1, want - entries.length),
        ]),
      )) as [string, RawGroupEntry[], string[]?];
      cursor = reply[0];
      const gone: string[] = [];
      for (const entry of reply[1]) {
        if (!entry) continue;
        // Redis 6.2 hands deleted entries over as [id, null] and keeps them pending; 7 lists them apart.
        if (entry[1] === null) gone.push(entry[0]);
        else entries.push(entry);
      }
      if (gone.length) await this.ack(...gone);
      deletedIds.push(...gone, ...(reply[2] ?? []));
      calls++;
    } while (cursor !== '0-0' && entries.length < want && calls < maxCalls);
    return { entries, deletedIds, cursor };
  }

  /**
   * XAUTOCLAIM: claims entries idle at least `minIdleMs`, following the cursor over the whole
   * pending list (up to `count`, default 100). Ids of entries deleted from the stream, which Redis 7
   * drops from the pending list, come back in `deletedIds`.
   */
  async autoClaim(consumer: string, minIdleMs: number, options: { start?: string; count?: number } & DecodeOptions = {}): Promise<AutoClaimResult<T>> {
    const { entries, deletedIds, cursor } = await this.autoClaimRaw(consumer, minIdleMs, options);
    return {
      entries: this.stream.decodeEntries(entries.filter((r): r is [string, FlatFields] => r[1] !== null), options.onInvalid),
      deletedIds,
      cursor,
    };
  }

  /**
   * Runs a reliable at-least-once worker: see {@link WorkerOptions}. Returns at once; the worker
   * runs until `stop()` or the signal aborts.
   */
  consume(handler: Handler<T>, options: WorkerOptions = {}): Worker<T> {
    return createWorker(this, { kind: 'single', handler }, options);
  }

  /** Like {@link consume}, with a handler that takes a batch of entries (up to `count`). */
  consumeBatch(handler: BatchHandler<T>, options: WorkerOptions = {}): Worker<T> {
    return createWorker(this, { kind: 'batch', handler }, options);
  }
}
