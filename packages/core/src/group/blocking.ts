import type { Cluster, Redis } from 'ioredis';
import { AbortedError, isCluster, type RedisClient } from '../connection.js';
import { keySlot } from '../keys.js';

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
    const watchdogMs = options.watchdogMs ?? 10_000;
    const timer = setTimeout(() => finish(() => reject(new BlockingCutError('timeout'))), options.blockMs + watchdogMs);
    cleanups.push(() => clearTimeout(timer));

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
