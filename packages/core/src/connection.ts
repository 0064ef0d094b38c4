import type { Cluster, Redis } from 'ioredis';

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
  return /Connection is closed|ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|Stream isn't writeable|LOADING|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|READONLY|socket closed|connection lost|Command timed out|Failed to refresh slots cache|None of startup nodes is available/i.test(
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
 * Runs one blocking command on a leased connection. When the signal aborts, or the reply is late
 * by more than `watchdogMs` past the block time (a connection that died without telling us), the
 * connection is dropped so the command ends, and the caller retries on a fresh one. When the
 * connection closes under the command (CLIENT KILL, a server restart), the command fails at once
 * with a connection error and the connection is dropped too: ioredis (with
 * `autoResendUnfulfilledCommands: false`) would otherwise leave its promise pending forever.
 */
export async function withDeadline<T>(
  conn: RedisClient,
  run: (conn: RedisClient) => Promise<T>,
  options: { blockMs: number; signal?: AbortSignal | undefined; watchdogMs?: number; onCut: (conn: RedisClient) => void },
): Promise<T> {
  const { signal } = options;
  let cut: 'abort' | 'timeout' | 'closed' | undefined;
  let rejectCut: (error: Error) => void = () => undefined;
  const cutPromise = new Promise<never>((_, reject) => (rejectCut = reject));
  cutPromise.catch(() => undefined);
  const drop = (reason: 'abort' | 'timeout' | 'closed') => {
    if (cut) return;
    cut = reason;
    try {
      options.onCut(conn);
    } catch {
      // never let a replacement connection's failure escape a timer or an event listener
    }
    rejectCut(
      reason === 'abort'
        ? new AbortedError()
        : reason === 'closed'
          ? new Error('Connection is closed.')
          : new Error(`Command timed out: no reply ${options.watchdogMs ?? 10_000} ms past the block time`),
    );
  };
  const onAbort = () => drop('abort');
  // A Cluster re-sends a command whose node connection closed, so only a single connection needs this.
  const onClose = () => drop('closed');
  signal?.addEventListener('abort', onAbort, { once: true });
  if (!isCluster(conn)) conn.on('close', onClose);
  const watchdog =
    options.blockMs > 0 ? setTimeout(() => drop('timeout'), options.blockMs + (options.watchdogMs ?? 10_000)) : undefined;
  try {
    if (signal?.aborted) drop('abort');
    if (cut === 'abort') throw new AbortedError();
    const reply = run(conn);
    reply.catch(() => undefined);
    return await Promise.race([reply, cutPromise]);
  } catch (error) {
    if (cut === 'abort') throw new AbortedError();
    throw error;
  } finally {
    if (watchdog) clearTimeout(watchdog);
    signal?.removeEventListener('abort', onAbort);
    if (!isCluster(conn)) conn.off('close', onClose);
  }
}

/** Thrown internally when a blocking command ends because its signal aborted. */
export class AbortedError extends Error {
  constructor() {
    super('aborted');
    this.name = 'AbortError';
  }
}
