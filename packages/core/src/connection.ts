import type { Cluster, Redis } from 'ioredis';
import { ClientClosedError } from './errors.js';
import { keySlot } from './keys.js';

/** An ioredis standalone client or cluster client. */
export type RedisClient = Redis | Cluster;

/** True for an ioredis Cluster (checked structurally: ESM and CJS copies of ioredis may both load). */
export function isCluster(redis: RedisClient): redis is Cluster {
  return (redis as { isCluster?: boolean }).isCluster === true;
}

/** Options for connections that block: a command cut by a dropped connection fails at once, and is re-sent by us with the right cursor, never by ioredis with a stale one. */
const BLOCKING_OPTIONS = { autoResendUnfulfilledCommands: false, maxRetriesPerRequest: null, enableOfflineQueue: true } as const;

/**
 * The CLIENT SETNAME of blocking duplicates: `streamkit:blocking`, or `<your name>:blocking` when
 * your connection has a `connectionName`, so they can be told apart in CLIENT LIST.
 */
export function blockingConnectionName(name: string | undefined): string {
  return name ? `${name}:blocking` : 'streamkit:blocking';
}

/**
 * A duplicate of the user's connection for blocking commands, so they never stall the shared one.
 * Its connection errors reach the caller through the commands that fail (and are retried where
 * that is safe), so its `error` events are not left unhandled.
 */
export function duplicateForBlocking(redis: RedisClient): RedisClient {
  const conn = duplicate(redis);
  conn.on('error', () => undefined);
  return conn;
}

function duplicate(redis: RedisClient): RedisClient {
  if (isCluster(redis)) {
    const redisOptions = redis.options.redisOptions ?? {};
    return redis.duplicate(undefined, {
      redisOptions: { ...redisOptions, ...BLOCKING_OPTIONS, connectionName: blockingConnectionName(redisOptions.connectionName) },
      maxRedirections: redis.options.maxRedirections,
    });
  }
  return redis.duplicate({ ...BLOCKING_OPTIONS, connectionName: blockingConnectionName(redis.options.connectionName), lazyConnect: false });
}

/** Closes a connection without waiting on a server that may be gone. */
export function closeQuietly(redis: RedisClient): void {
  try {
    redis.disconnect();
  } catch {
    // already closed
  }
}

/**
 * A small pool of blocking connections. A connection is leased for one blocking command and
 * returned; one whose command was cut short (abort, hang) is discarded, never reused mid-reply.
 */
export class BlockingPool {
  private readonly idle: RedisClient[] = [];
  private readonly open = new Set<RedisClient>();
  private closed = false;

  constructor(
    private readonly source: RedisClient,
    private readonly maxIdle = 4,
  ) {}

  acquire(): RedisClient {
    if (this.closed) return closedDuplicate(this.source);
    const conn = this.idle.pop() ?? duplicateForBlocking(this.source);
    this.open.add(conn);
    return conn;
  }

  release(conn: RedisClient): void {
    if (this.closed || this.idle.length >= this.maxIdle || conn.status === 'end') return this.discard(conn);
    this.idle.push(conn);
  }

  discard(conn: RedisClient): void {
    this.open.delete(conn);
    const at = this.idle.indexOf(conn);
    if (at !== -1) this.idle.splice(at, 1);
    closeQuietly(conn);
  }

  /**
   * Runs one blocking command ({@link blockingCall}) on a leased connection: it goes back to the
   * pool after a reply and is discarded after anything else (a cut command may still get one).
   * `undefined` when the signal aborted it; {@link ClientClosedError} when the pool was closed
   * under it.
   */
  async call<R>(key: string, send: (conn: RedisClient) => Promise<R>, options: { blockMs: number; signal?: AbortSignal | undefined }): Promise<R | undefined> {
    const conn = this.acquire();
    try {
      const reply = await blockingCall(conn, key, send, options);
      this.release(conn);
      return reply;
    } catch (error) {
      this.discard(conn);
      if (error instanceof AbortedError) return undefined;
      if (this.closed) throw new ClientClosedError();
      throw error;
    }
  }

  /** A connection owned by the caller (for a tail or a worker) but closed with the pool. */
  dedicated(): RedisClient {
    if (this.closed) return closedDuplicate(this.source);
    const conn = duplicateForBlocking(this.source);
    this.open.add(conn);
    return conn;
  }

  closeAll(): void {
    this.closed = true;
    for (const conn of this.open) closeQuietly(conn);
    this.open.clear();
    this.idle.length = 0;
  }
}

/** After the pool closed: a connection that is already closed (its commands fail), so nothing leaks. */
function closedDuplicate(source: RedisClient): RedisClient {
  const conn = duplicateForBlocking(source);
  closeQuietly(conn);
  return conn;
}

/** An error meaning the connection went away under a command, so the command may be retried. */
export function isConnectionError(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /Connection is closed|ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|Stream isn't writeable|LOADING|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|READONLY|socket closed|connection lost|Command timed out|Failed to refresh slots cache|None of startup nodes is available|Reached the max retries per request limit/i.test(
    message,
  );
}

/** Sleeps, waking early (resolved, not rejected) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * A blocking command cut short because its connection closed under it (CLIENT KILL, a server
 * restart) or never answered. Whatever the server sent is lost, so the caller drops the
 * connection. The message matches `isConnectionError`.
 */
export class BlockingCutError extends Error {
  constructor(readonly reason: 'closed' | 'timeout') {
    super(reason === 'closed' ? 'Connection is closed under a blocking command' : 'Command timed out: no reply past the block time');
    this.name = 'BlockingCutError';
  }
}

type Closable = { on(event: 'close', listener: () => void): unknown; off(event: 'close', listener: () => void): unknown };

/** The master connection of a cluster client that serves `key`, once the slot map is known. */
function nodeFor(cluster: Cluster, key: string): Redis | undefined {
  const nodeKey = cluster.slots[keySlot(key)]?.[0];
  if (!nodeKey) return undefined;
  return cluster.nodes('master').find((node) => `${node.options.host}:${node.options.port}` === nodeKey);
}

/**
 * Runs one blocking command about `key` and settles as soon as one of these happens: the
 * reply, the signal aborting ({@link AbortedError}), the connection closing
 * ({@link BlockingCutError} `closed`), or no reply `watchdogMs` past the block time
 * ({@link BlockingCutError} `timeout`).
 *
 * It does not wait for ioredis to reject the command: a blocking connection made with
 * `autoResendUnfulfilledCommands: false` silently forgets a command that was in flight when the
 * socket closed, and a Cluster re-sends it on its own, hiding that a reply may have been lost.
 * On a Cluster it waits for the slot map, then watches the master that serves `key` (other
 * node connections come and go while the client settles). After any cut, discard `conn`.
 */
export function blockingCall<R>(
  conn: RedisClient,
  key: string,
  send: (conn: RedisClient) => Promise<R>,
  options: { blockMs: number; signal?: AbortSignal | undefined; watchdogMs?: number },
): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    const cleanups: (() => void)[] = [];
    let settled = false;
    const finish = (settle: () => void) => {
      if (settled) return;
      settled = true;
      for (const cleanup of cleanups) cleanup();
      settle();
    };
    const onClose = () => finish(() => reject(new BlockingCutError('closed')));
    const watch = (emitter: Closable) => {
      emitter.on('close', onClose);
      cleanups.push(() => emitter.off('close', onClose));
    };
    const { signal } = options;
    if (signal) {
      const onAbort = () => finish(() => reject(new AbortedError()));
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      cleanups.push(() => signal.removeEventListener('abort', onAbort));
    }
    // BLOCK 0 waits for data without end: only a close or an abort can cut it.
    if (options.blockMs > 0) {
      const watchdogMs = options.watchdogMs ?? 10_000;
      const timer = setTimeout(() => finish(() => reject(new BlockingCutError('timeout'))), options.blockMs + watchdogMs);
      cleanups.push(() => clearTimeout(timer));
    }

    const go = () => {
      if (settled) return;
      if (isCluster(conn)) {
        const node = nodeFor(conn, key);
        if (node) watch(node);
      }
      let reply: Promise<R>;
      try {
        reply = send(conn);
      } catch (error) {
        return finish(() => reject(error));
      }
      reply.then(
        (value) => finish(() => resolve(value)),
        (error) => finish(() => reject(error)),
      );
    };
    watch(conn);
    if (isCluster(conn) && conn.status !== 'ready') {
      // Wait for the slot map so the right node is watched; a Cluster that gives up emits `close`.
      conn.once('ready', go);
      cleanups.push(() => conn.off('ready', go));
    } else {
      go();
    }
  });
}

/** Thrown internally when a blocking command ends because its signal aborted. */
export class AbortedError extends Error {
  constructor() {
    super('aborted');
    this.name = 'AbortError';
  }
}
