import type { z } from 'zod';
import { createCodec, type Codec, type Entry, type FlatFields } from './codec.js';
import { AbortedError, blockingCall, isConnectionError, sleep, type BlockingPool, type RedisClient } from './connection.js';
import { ConfigError, DecodeError, InvalidStreamIdError, RedisCommandError, StreamkitError, ValidationError } from './errors.js';
import {
  parseConsumers,
  parseGroups,
  parseStreamInfo,
  parseStreamInfoFull,
  singleStreamReply,
  type ConsumerInfo,
  type GroupInfo,
  type StreamInfo,
  type StreamInfoFull,
} from './info.js';
import { pack } from './msgpack.js';
import { pagedIterator } from './pagedIterator.js';
import { runScript } from './scripts.js';
import { addMany as addManyScript } from './scripts/generated/index.js';
import { StreamId, type IdBound } from './streamId.js';
import { ConsumerGroup } from './group/consumerGroup.js';

/**
 * What to do with an entry that fails to decode (a foreign producer, an old shape):
 * `'throw'` a {@link DecodeError} (the default), `'skip'` it, or call a function and skip it.
 * Whatever the choice, an iterator never ends silently because of one bad entry.
 */
export type OnInvalid = 'throw' | 'skip' | ((error: DecodeError) => void);

/** Options of {@link StreamClient.stream}. */
export interface StreamOptions<S extends z.ZodType | undefined = undefined> {
  /** A zod schema for `data`; without one, data is `Record<string, string>`. */
  schema?: S;
  /** The default for every read of this stream. */
  onInvalid?: OnInvalid;
}

/** Trimming options shared by XADD and XTRIM. Give `maxLen` or `minId`, not both. */
export interface TrimOptions {
  /** Keep at most this many entries. */
  maxLen?: number;
  /** Drop entries with ids below this one (an id, a time in ms or a Date). */
  minId?: IdBound;
  /** `~`: trim whole radix-tree nodes only, much cheaper; the stream may keep a few more entries. */
  approximate?: boolean;
  /** With `approximate`: evict at most this many entries per call. */
  limit?: number;
}

/** Options of {@link Stream.add}. */
export interface AddOptions extends TrimOptions {
  /** `*` (the default), `<ms>-*` or a complete id greater than the stream's last id. */
  id?: string;
  /** NOMKSTREAM: do not create a missing stream; `add` then returns `null`. */
  noMkStream?: boolean;
}

/** Options of {@link Stream.addMany}. */
export interface AddManyOptions extends TrimOptions {
  /** One explicit id per entry (`<ms>-<seq>` or `<ms>-*`), strictly increasing; default `*` for all. */
  ids?: readonly string[];
  noMkStream?: boolean;
}

/** Options of reads that decode entries. */
export interface DecodeOptions {
  onInvalid?: OnInvalid;
}

/** Options of {@link Stream.iterate}. */
export interface IterateOptions extends DecodeOptions {
  /** Start bound, inclusive unless written `(id` (default `-`). In reverse, still the lower bound. */
  from?: IdBound;
  /** End bound, inclusive unless written `(id` (default `+`). */
  to?: IdBound;
  /** Entries per XRANGE page (default 1000). */
  pageSize?: number;
  /** Newest first. */
  reverse?: boolean;
  signal?: AbortSignal;
}

/** Options of {@link Stream.read}. */
export interface ReadOptions extends DecodeOptions {
  /** Entries after this id (exclusive), `$` for only new ones, `0` for all; a time in ms or a Date. */
  after: string | number | Date;
  count?: number;
  /** Block up to this many ms waiting for data; `0` blocks until data arrives. */
  blockMs?: number;
  /** Aborts a blocking read. */
  signal?: AbortSignal;
}

/** Options of {@link Stream.tail}. */
export interface TailOptions extends DecodeOptions {
  /** Start after this id; `$` (the default) means after the last entry when the tail starts. */
  after?: string | number | Date;
  /** Stops the tail; the iterator then ends. */
  signal?: AbortSignal;
  /** Entries per XREAD (default 100). */
  count?: number;
  /** How long one XREAD blocks before asking again (default 5000 ms). */
  blockMs?: number;
}

/** What a {@link Stream} needs from its client. */
export interface StreamContext {
  readonly redis: RedisClient;
  readonly pool: BlockingPool;
  /** The full key of a name (the client's prefix applied). */
  key(name: string): string;
  assertOpen(): void;
}

type RawEntry = [string, FlatFields];

const U64_MAX = 18446744073709551615n;

function positiveInt(value: unknown, name: string, stream: string, allowZero = false): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new ConfigError(`stream "${stream}": ${name} must be ${allowZero ? 'a non-negative' : 'a positive'} integer, got ${String(value)}`);
  }
  return value;
}

/** MINID takes an id (incomplete ones complete as a start), a time or a Date; not `(id`, `-` or `+`. */
function minIdArgument(minId: IdBound): string {
  if (typeof minId === 'string' && (minId.startsWith('(') || minId === '-' || minId === '+')) {
    throw new InvalidStreamIdError(minId, 'minId must be an id, a time in ms or a Date (not exclusive, "-" or "+")');
  }
  return StreamId.bound(minId, 'start');
}

/** The XADD/XTRIM trimming arguments (`MAXLEN ~ 1000 LIMIT 100`), validated. */
export function trimArguments(options: TrimOptions, stream: string): string[] {
  const { maxLen, minId, approximate, limit } = options;
  if (maxLen !== undefined && minId !== undefined) throw new ConfigError(`stream "${stream}": give maxLen or minId, not both`);
  if (maxLen === undefined && minId === undefined) {
    if (limit !== undefined || approximate) throw new ConfigError(`stream "${stream}": approximate and limit need maxLen or minId`);
    return [];
  }
  if (limit !== undefined && !approximate) throw new ConfigError(`stream "${stream}": limit works only with approximate trimming`);
  const args =
    maxLen !== undefined
      ? ['MAXLEN', approximate ? '~' : '=', String(positiveInt(maxLen, 'maxLen', stream, true))]
      : ['MINID', approximate ? '~' : '=', minIdArgument(minId!)];
  if (limit !== undefined) args.push('LIMIT', String(positiveInt(limit, 'limit', stream, true)));
  return args;
}

/**
 * One Redis stream, typed by its schema. Get one from {@link StreamClient.stream}.
 *
 * @example
 * ```ts
 * const orders = client.stream('orders', { schema: z.object({ order_id: z.string(), amount: z.number() }) });
 * const id = await orders.add({ order_id: 'o-1', amount: 42 });
 * for await (const { id, data } of orders.iterate()) console.log(id, data.amount);
 * ```
 */
export class Stream<T = Record<string, string>, TInput = T> {
  /** The full Redis key, prefix included. */
  readonly key: string;
  /** @internal */
  readonly codec: Codec<T, TInput>;
  private readonly onInvalid: OnInvalid;

  /** @internal use {@link StreamClient.stream} */
  constructor(
    /** @internal */
    readonly context: StreamContext,
    key: string,
    options: StreamOptions<z.ZodType | undefined> = {},
  ) {
    this.key = key;
    this.codec = createCodec(options.schema as z.ZodType<T, TInput> | undefined);
    this.onInvalid = options.onInvalid ?? 'throw';
  }

  private get redis(): RedisClient {
    this.context.assertOpen();
    return this.context.redis;
  }

  /** Runs a command, turning a Redis failure into a {@link RedisCommandError} naming it and this stream. */
  private async command<R>(name: string, run: () => Promise<R>): Promise<R> {
    try {
      return await run();
    } catch (error) {
      throw StreamkitError.is(error) ? error : new RedisCommandError({ command: name, stream: this.key, cause: error });
    }
  }

  /** Decodes raw entries, applying the invalid-entry policy. */
  decodeEntries(raw: readonly RawEntry[] | null | undefined, onInvalid: OnInvalid = this.onInvalid): Entry<T>[] {
    const entries: Entry<T>[] = [];
    if (!raw) return entries;
    for (const [id, fields] of raw) {
      const entry = this.decodeEntry(id, fields, onInvalid);
      if (entry) entries.push(entry);
    }
    return entries;
  }

  /** Decodes one raw entry; `null` when it is invalid and the policy skips it. */
  decodeEntry(id: string, fields: FlatFields, onInvalid: OnInvalid = this.onInvalid): Entry<T> | null {
    try {
      return { id, data: this.codec.decode(id, fields, this.key) };
    } catch (error) {
      if (onInvalid === 'throw' || !DecodeError.is(error)) throw error;
      if (typeof onInvalid === 'function') onInvalid(error);
      return null;
    }
  }

  /**
   * Appends one entry (XADD) and returns its id; `null` with `noMkStream` when the stream does
   * not exist. The data is validated first: invalid data throws {@link ValidationError} and
   * nothing is sent.
   */
  async add(data: TInput, options: AddOptions & { noMkStream: true }): Promise<StreamId | null>;
  async add(data: TInput, options?: AddOptions): Promise<StreamId>;
  async add(data: TInput, options: AddOptions = {}): Promise<StreamId | null> {
    const fields = this.codec.encode(data, this.key);
    const args: (string | number)[] = [this.key];
    if (options.noMkStream) args.push('NOMKSTREAM');
    args.push(...trimArguments(options, this.key), options.id === undefined ? '*' : StreamId.forAdd(options.id), ...fields);
    return this.command('XADD', () => this.redis.call('XADD', args) as Promise<StreamId | null>);
  }

  /**
   * Appends a batch in one round trip and one server-side script: all entries or none. Trimming
   * options apply once, after the batch. Returns the ids in order (an empty array with
   * `noMkStream` when the stream does not exist). Every entry is validated before anything is
   * sent; the first invalid one throws {@link ValidationError} with its `index`.
   */
  async addMany(items: readonly TInput[], options: AddManyOptions = {}): Promise<StreamId[]> {
    if (!Array.isArray(items)) throw new ValidationError({ stream: this.key, issues: [{ path: [], message: 'expected an array of entries' }] });
    const { ids } = options;
    if (ids !== undefined && ids.length !== items.length) {
      throw new ConfigError(`stream "${this.key}": ${ids.length} ids for ${items.length} entries`);
    }
    const trim = trimArguments(options, this.key);
    if (items.length === 0) return [];
    // One flat list, per entry its size then [id,] field, value, … (see add-many-1.lua).
    const batch: string[] = [];
    let previous: { ms: bigint; seq: bigint | null } | undefined;
    for (let i = 0; i < items.length; i++) {
      const fields = this.codec.encode(items[i]!, this.key, i);
      let id = '*';
      if (ids) {
        id = StreamId.forAdd(ids[i]!);
        if (id === '*') throw new ConfigError(`stream "${this.key}": ids must all be explicit when given (entry #${i} is "*")`);
        const [msText, seqText] = id.split('-') as [string, string];
        const current = { ms: BigInt(msText), seq: seqText === '*' ? null : BigInt(seqText) };
        // `<ms>-*` needs a millisecond no earlier than the previous one (the server picks the next
        // sequence); a complete id must be greater than the previous one, and cannot follow a
        // `<ms>-*` of its own millisecond (whose sequence is not known until the server picks it).
        if (
          previous &&
          (current.ms < previous.ms ||
            (current.ms === previous.ms &&
              (current.seq === null ? previous.seq === U64_MAX : previous.seq === null || current.seq <= previous.seq)))
        ) {
          throw new ConfigError(`stream "${this.key}": entry #${i} id ${id} does not come after the previous id ${ids[i - 1]}; nothing was written`);
        }
        previous = current;
      }
      if (ids) batch.push(String(fields.length + 1), id);
      else batch.push(String(fields.length));
      for (let f = 0; f < fields.length; f++) batch.push(fields[f]!);
    }
    const reply = await this.command('XADD', async () => {
      try {
        return await runScript<string | null>(this.redis, addManyScript, [this.key], [
          pack(batch),
          options.noMkStream ? '1' : '0',
          ids ? '1' : '0',
          ...trim,
        ]);
      } catch (error) {
        const tooSmall = /SK_ID_TOO_SMALL (\d+)/.exec(error instanceof Error ? error.message : '');
        if (tooSmall) {
          const index = Number(tooSmall[1]);
          throw new ConfigError(
            `stream "${this.key}": entry #${index} id ${ids![index]} is not greater than the stream's last id; nothing was written`,
          );
        }
        throw error;
      }
    });
    return typeof reply === 'string' ? (reply.split(' ') as StreamId[]) : [];
  }

  /** Entries from `start` to `end` (XRANGE), oldest first. Bounds accept incomplete ids, `(id`, ms and Dates. */
  async range(start: IdBound = '-', end: IdBound = '+', options: { count?: number } & DecodeOptions = {}): Promise<Entry<T>[]> {
    const args: (string | number)[] = [this.key, StreamId.bound(start, 'start'), StreamId.bound(end, 'end')];
    if (options.count !== undefined) args.push('COUNT', positiveInt(options.count, 'count', this.key));
    const raw = await this.command('XRANGE', () => this.redis.call('XRANGE', args) as Promise<RawEntry[]>);
    return this.decodeEntries(raw, options.onInvalid);
  }

  /** Entries from `end` down to `start` (XREVRANGE), newest first. */
  async revRange(end: IdBound = '+', start: IdBound = '-', options: { count?: number } & DecodeOptions = {}): Promise<Entry<T>[]> {
    const args: (string | number)[] = [this.key, StreamId.bound(end, 'end'), StreamId.bound(start, 'start')];
    if (options.count !== undefined) args.push('COUNT', positiveInt(options.count, 'count', this.key));
    const raw = await this.command('XREVRANGE', () => this.redis.call('XREVRANGE', args) as Promise<RawEntry[]>);
    return this.decodeEntries(raw, options.onInvalid);
  }

  /**
   * Every entry between two bounds, paged with exclusive cursors (never one unbounded XRANGE).
   * The next page is requested while the current one is being consumed. Like an `async function*`,
   * nothing is checked or read before the first `next()`, entries are decoded one at a time as
   * they are taken, and a `DecodeError` (with `onInvalid: 'throw'`) ends the iteration at that
   * entry; it hands out the entries of a page without a generator resume for each (see
   * `pagedIterator`), which is most of the cost of a read besides the client's reply decoding.
   */
  iterate(options: IterateOptions = {}): AsyncGenerator<Entry<T>, void, undefined> {
    let pageSize = 0;
    let start = '';
    let end = '';
    let reverse = false;
    const fetch = (): Promise<RawEntry[]> => {
      const args = reverse ? [this.key, end, start, 'COUNT', pageSize] : [this.key, start, end, 'COUNT', pageSize];
      const page = this.command(reverse ? 'XREVRANGE' : 'XRANGE', () =>
        this.redis.call(reverse ? 'XREVRANGE' : 'XRANGE', args) as Promise<RawEntry[]>,
      );
      page.catch(() => undefined); // awaited by the iterator; this only keeps an abandoned prefetch from being "unhandled"
      return page;
    };
    return pagedIterator<RawEntry, Entry<T>>({
      start: () => {
        pageSize = positiveInt(options.pageSize ?? 1000, 'pageSize', this.key);
        start = StreamId.bound(options.from ?? '-', 'start');
        end = StreamId.bound(options.to ?? '+', 'end');
        reverse = options.reverse === true;
        return fetch();
      },
      after: (page) => {
        if (page.length !== pageSize) return undefined;
        const last = page[page.length - 1]![0];
        if (last === StreamId.MAX) return undefined; // nothing can come after the largest id
        if (reverse) end = `(${last}`;
        else start = `(${last}`;
        return fetch();
      },
      map: ([id, fields]) => this.decodeEntry(id, fields, options.onInvalid),
      stopped: () => options.signal?.aborted === true,
    });
  }

  /**
   * XREAD of this stream: entries after `after`. With `blockMs` it waits for data on a pooled
   * blocking connection (never the shared one) and returns `[]` on timeout.
   */
  async read(options: ReadOptions): Promise<Entry<T>[]> {
    const after = StreamId.after(options.after);
    const args: (string | number)[] = [];
    if (options.count !== undefined) args.push('COUNT', positiveInt(options.count, 'count', this.key));
    if (options.blockMs === undefined) {
      const raw = await this.command('XREAD', () => this.redis.call('XREAD', [...args, 'STREAMS', this.key, after]) as Promise<[string, RawEntry[]][] | null>);
      return this.decodeEntries(singleStreamReply<RawEntry>(raw), options.onInvalid);
    }
    const blockMs = positiveInt(options.blockMs, 'blockMs', this.key, true);
    args.push('BLOCK', blockMs, 'STREAMS', this.key, after);
    this.context.assertOpen();
    const raw = await this.command('XREAD', () =>
      this.context.pool.call(this.key, (c) => c.call('XREAD', args) as Promise<[string, RawEntry[]][] | null>, { blockMs, signal: options.signal }),
    );
    return this.decodeEntries(singleStreamReply<RawEntry>(raw), options.onInvalid);
  }

  /** The id of the newest entry, or `0-0` for an empty or missing stream. */
  async lastId(): Promise<StreamId> {
    const raw = await this.command('XREVRANGE', () => this.redis.call('XREVRANGE', [this.key, '+', '-', 'COUNT', 1]) as Promise<RawEntry[]>);
    return (raw[0]?.[0] ?? '0-0') as StreamId;
  }

  /**
   * New entries as they arrive, on a dedicated blocking connection, until the signal aborts or
   * the client is closed (the iterator then ends).
   * The tail keeps its own cursor: after a dropped connection, a killed client or a server
   * restart it reconnects and reads on from the last entry it yielded, so no entry is lost or
   * repeated. `after: '$'` is resolved to the newest id once, when the tail starts.
   *
   * @example
   * ```ts
   * const controller = new AbortController();
   * for await (const order of orders.tail({ signal: controller.signal })) console.log(order.data);
   * ```
   */
  async *tail(options: TailOptions = {}): AsyncGenerator<Entry<T>, void, undefined> {
    const count = positiveInt(options.count ?? 100, 'count', this.key);
    const blockMs = positiveInt(options.blockMs ?? 5000, 'blockMs', this.key);
    const { signal } = options;
    let cursor: string = options.after === undefined || options.after === '$' ? await this.lastId() : StreamId.after(options.after);
    this.context.assertOpen();
    const pool = this.context.pool;
    let conn: RedisClient | undefined;
    let failures = 0;
    try {
      while (!signal?.aborted && !this.isClosed()) {
        let raw: [string, RawEntry[]][] | null;
        const current = (conn ??= pool.dedicated());
        try {
          raw = await blockingCall(
            current,
            this.key,
            (c) => c.call('XREAD', ['COUNT', count, 'BLOCK', blockMs, 'STREAMS', this.key, cursor]) as Promise<[string, RawEntry[]][] | null>,
            { blockMs, signal },
          );
          failures = 0;
        } catch (error) {
          // A dropped, hung or aborted connection is never reused: the next turn opens a fresh one.
          pool.discard(current);
          conn = undefined;
          if (error instanceof AbortedError || signal?.aborted || this.isClosed()) return;
          if (!isConnectionError(error)) throw new RedisCommandError({ command: 'XREAD', stream: this.key, cause: error });
          failures++;
          await sleep(Math.min(50 * 2 ** Math.min(failures, 6), 2000), signal);
          continue;
        }
        const entries = singleStreamReply<RawEntry>(raw);
        for (const [id, fields] of entries) {
          cursor = id;
          const entry = this.decodeEntry(id, fields, options.onInvalid);
          if (entry) yield entry;
          if (signal?.aborted) return;
        }
      }
    } finally {
      if (conn) pool.discard(conn);
    }
  }

  /** True once the client is closed. */
  private isClosed(): boolean {
    try {
      this.context.assertOpen();
      return false;
    } catch {
      return true;
    }
  }

  /** XLEN: the number of entries. */
  async length(): Promise<number> {
    return Number(await this.command('XLEN', () => this.redis.xlen(this.key)));
  }

  /** True when the stream key exists. */
  async exists(): Promise<boolean> {
    return Number(await this.command('EXISTS', () => this.redis.exists(this.key))) === 1;
  }

  /** XDEL: removes entries by id; returns how many existed. */
  async delete(...ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const valid = ids.map((id) => StreamId.from(id));
    return Number(await this.command('XDEL', () => this.redis.call('XDEL', [this.key, ...valid])));
  }

  /** XTRIM by `maxLen` or `minId`; returns how many entries were removed. */
  async trim(options: TrimOptions): Promise<number> {
    const args = trimArguments(options, this.key);
    if (args.length === 0) throw new ConfigError(`stream "${this.key}": trim needs maxLen or minId`);
    return Number(await this.command('XTRIM', () => this.redis.call('XTRIM', [this.key, ...args])));
  }

  /** Deletes the whole stream key (entries and groups). Returns true when it existed. */
  async destroy(): Promise<boolean> {
    return Number(await this.command('DEL', () => this.redis.del(this.key))) === 1;
  }

  /** Typed XINFO STREAM; `full: true` for XINFO STREAM FULL (entries up to `count`, default 10, and group details). */
  info(options?: { full?: false }): Promise<StreamInfo<T>>;
  info(options: { full: true; count?: number }): Promise<StreamInfoFull<T>>;
  async info(options: { full?: boolean; count?: number } = {}): Promise<StreamInfo<T> | StreamInfoFull<T>> {
    const decode = (id: string, fields: FlatFields) => this.codec.decode(id, fields, this.key);
    if (options.full) {
      const args: (string | number)[] = ['STREAM', this.key, 'FULL'];
      if (options.count !== undefined) args.push('COUNT', positiveInt(options.count, 'count', this.key, true));
      const raw = await this.command('XINFO STREAM', () => this.redis.call('XINFO', args));
      return parseStreamInfoFull(raw, decode);
    }
    const raw = await this.command('XINFO STREAM', () => this.redis.call('XINFO', ['STREAM', this.key]));
    return parseStreamInfo(raw, decode);
  }

  /** Typed XINFO GROUPS, with lag. */
  async groups(): Promise<GroupInfo[]> {
    return parseGroups(await this.command('XINFO GROUPS', () => this.redis.call('XINFO', ['GROUPS', this.key])));
  }

  /** Typed XINFO CONSUMERS of one group. */
  async consumers(group: string): Promise<ConsumerInfo[]> {
    return parseConsumers(await this.command('XINFO CONSUMERS', () => this.redis.call('XINFO', ['CONSUMERS', this.key, group])));
  }

  /** A consumer group of this stream (created with `group.create()`). */
  group(name: string): ConsumerGroup<T, TInput> {
    return new ConsumerGroup(this, name);
  }
}
