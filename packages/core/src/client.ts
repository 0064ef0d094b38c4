import { Redis } from 'ioredis';
import type { z } from 'zod';
import type { Entry, FlatFields } from './codec.js';
import { BlockingPool, isCluster, type RedisClient } from './connection.js';
import { ClientClosedError, ConfigError, RedisCommandError, StreamkitError } from './errors.js';
import { streamsReply } from './info.js';
import { keySlot } from './keys.js';
import { Stream, type StreamContext, type StreamOptions } from './stream.js';
import { StreamId } from './streamId.js';

/** Options of {@link createStreamClient}. */
export interface StreamClientOptions {
  /** An ioredis `Redis` or `Cluster` you own, or a `redis://` URL the client connects to (and closes). */
  redis: RedisClient | string;
  /** Prepended to every key this client touches, e.g. `app:`. */
  prefix?: string;
}

/** Options of {@link StreamClient.readMany}. */
export interface ReadManyOptions {
  count?: number;
  /** Block up to this many ms for data on any of the streams. */
  blockMs?: number;
  signal?: AbortSignal;
}

type XReadReply = [string, [string, FlatFields][]][] | null;

/**
 * The entry point: a typed client for Redis Streams on one ioredis connection.
 *
 * @example
 * ```ts
 * import { createStreamClient } from '@streamkit/core';
 * import { z } from 'zod';
 *
 * const client = createStreamClient({ redis: 'redis://127.0.0.1:6379', prefix: 'shop:' });
 * const orders = client.stream('orders', { schema: z.object({ order_id: z.string(), amount: z.number() }) });
 * await orders.add({ order_id: 'o-1', amount: 42 });
 * await client.close();
 * ```
 */
export class StreamClient implements StreamContext {
  /** The shared connection for non-blocking commands. */
  readonly redis: RedisClient;
  readonly prefix: string;
  /** @internal */
  readonly pool: BlockingPool;
  private readonly owned: boolean;
  private closed = false;

  constructor(options: StreamClientOptions) {
    if (!options || options.redis === undefined || options.redis === null) {
      throw new ConfigError('createStreamClient: `redis` is required (an ioredis Redis or Cluster, or a redis:// URL)');
    }
    if (options.prefix !== undefined && typeof options.prefix !== 'string') throw new ConfigError('createStreamClient: `prefix` must be a string');
    this.owned = typeof options.redis === 'string';
    this.redis = typeof options.redis === 'string' ? new Redis(options.redis) : options.redis;
    this.prefix = options.prefix ?? '';
    this.pool = new BlockingPool(this.redis);
  }

  /** True when the underlying connection is an ioredis Cluster. */
  get isCluster(): boolean {
    return isCluster(this.redis);
  }

  /** @internal */
  assertOpen(): void {
    if (this.closed) throw new ClientClosedError();
  }

  /** The full key of a name: the prefix and the name. */
  key(name: string): string {
    if (typeof name !== 'string' || name.length === 0) throw new ConfigError('a stream key must be a non-empty string');
    return this.prefix + name;
  }

  /**
   * A typed stream. With a zod schema, entries are validated on write and on read and `data` has
   * the schema's type; without one, `data` is `Record<string, string>`.
   */
  stream<S extends z.ZodType>(name: string, options: StreamOptions<S> & { schema: S }): Stream<z.output<S>, z.input<S>>;
  stream(name: string, options?: StreamOptions): Stream;
  stream(name: string, options: StreamOptions<z.ZodType | undefined> = {}): Stream<unknown, unknown> {
    return new Stream(this, this.key(name), options);
  }

  /**
   * XREAD over several streams at once: `{ [name]: after }` → `{ [name]: entries }` (every name
   * present, `[]` when it had nothing). On a cluster the read is split per hash slot and merged
   * back; with `blockMs` the first slot with data answers and the others are cut short.
   */
  async readMany(streams: Record<string, string | number | Date>, options: ReadManyOptions = {}): Promise<Record<string, Entry[]>> {
    const names = Object.keys(streams);
    const result: Record<string, Entry[]> = {};
    if (names.length === 0) return result;
    const positions = names.map((name) => [name, this.key(name), StreamId.after(streams[name]!)] as const);
    for (const name of names) result[name] = [];
    if (options.count !== undefined && (!Number.isSafeInteger(options.count) || options.count < 1)) {
      throw new ConfigError(`readMany: count must be a positive integer, got ${String(options.count)}`);
    }
    if (options.blockMs !== undefined && (!Number.isSafeInteger(options.blockMs) || options.blockMs < 0)) {
      throw new ConfigError(`readMany: blockMs must be a non-negative integer, got ${String(options.blockMs)}`);
    }
    this.assertOpen();

    const groups = new Map<number, (typeof positions)[number][]>();
    for (const position of positions) {
      const slot = this.isCluster ? keySlot(position[1]) : 0;
      groups.set(slot, [...(groups.get(slot) ?? []), position]);
    }
    const byKey = new Map(positions.map(([name, key]) => [key, name]));
    const merge = (reply: XReadReply) => {
      for (const [key, entries] of streamsReply<[string, FlatFields]>(reply)) {
        const name = byKey.get(key)!;
        for (const [id, fields] of entries) {
          const data: Record<string, string> = {};
          for (let i = 0; i < fields.length; i += 2) data[fields[i]!] = fields[i + 1]!;
          result[name]!.push({ id, data });
        }
      }
    };
    const argsOf = (group: (typeof positions)[number][], blockMs?: number) => {
      const args: (string | number)[] = [];
      if (options.count !== undefined) args.push('COUNT', options.count);
      if (blockMs !== undefined) args.push('BLOCK', blockMs);
      args.push('STREAMS', ...group.map(([, key]) => key), ...group.map(([, , after]) => after));
      return args;
    };
    const wrap = (error: unknown) => {
      if (StreamkitError.is(error)) return error;
      if (this.closed) return new ClientClosedError(); // closed while blocking
      return new RedisCommandError({ command: 'XREAD', stream: positions.map(([, key]) => key).join(', '), cause: error });
    };

    const slots = [...groups.values()];
    if (options.blockMs === undefined || slots.length > 1) {
      try {
        const replies = await Promise.all(slots.map((group) => this.redis.call('XREAD', argsOf(group)) as Promise<XReadReply>));
        replies.forEach(merge);
      } catch (error) {
        throw wrap(error);
      }
      if (options.blockMs === undefined || Object.values(result).some((entries) => entries.length > 0)) return result;
    }

    // Block: one leased connection per slot group; the first with data wins, the rest are cut.
    // The caller's signal cuts all through a listener removed at the end: AbortSignal.any would
    // leave a trace on a long-lived signal per call (Node 20 never drops its dependants).
    const cutAll = new AbortController();
    const cut = () => cutAll.abort();
    if (options.signal?.aborted) cut();
    else options.signal?.addEventListener('abort', cut, { once: true });
    const { signal } = cutAll;
    const blockMs = options.blockMs;
    try {
      await Promise.all(
        slots.map(async (group) => {
          const reply = await this.pool.call(group[0]![1], (c) => c.call('XREAD', argsOf(group, blockMs)) as Promise<XReadReply>, { blockMs, signal });
          if (reply && reply.length > 0) {
            merge(reply);
            cutAll.abort();
          }
        }),
      );
    } catch (error) {
      cutAll.abort();
      throw wrap(error);
    } finally {
      options.signal?.removeEventListener('abort', cut);
    }
    return result;
  }

  /**
   * Closes the blocking connections this client opened, and the shared connection when the
   * client made it from a URL. A connection you passed in stays open: it is yours.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.pool.closeAll();
    if (this.owned) {
      const redis = this.redis;
      const ended = new Promise<void>((resolve) => {
        if (redis.status === 'end') return resolve();
        const timer = setTimeout(() => redis.disconnect(), 2_000);
        redis.once('end', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      try {
        await redis.quit();
      } catch {
        redis.disconnect();
      }
      await ended;
    }
  }
}

/** Creates a {@link StreamClient}. */
export function createStreamClient(options: StreamClientOptions): StreamClient {
  return new StreamClient(options);
}
