import { Redis } from 'ioredis';
import { LOOPBACK } from './ports.js';

/**
 * Runs `fn` with a short-lived, non-retrying connection to one server: for the fixtures' own
 * status questions (CLUSTER INFO, INFO replication), never for test traffic.
 */
export async function withNode<T>(port: number, fn: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis({
    host: LOOPBACK,
    port,
    lazyConnect: true,
    enableReadyCheck: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 2_000,
    commandTimeout: 5_000,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return await fn(redis);
  } finally {
    redis.disconnect();
  }
}

/** `key:value` lines of INFO / CLUSTER INFO as a map. */
export function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}

/** One line of CLUSTER NODES. */
export interface ClusterNodesLine {
  id: string;
  port: number;
  flags: string[];
  /** The master's node id for a replica; `undefined` for a master. */
  masterId: string | undefined;
  /** Slot ranges and single slots as listed (`0-5460`, `12`). */
  slots: string[];
}

/** Parses the reply of CLUSTER NODES, one entry per line. */
export function parseClusterNodes(text: string): ClusterNodesLine[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [id = '', address = '', flags = '', master = '-', , , , , ...slots] = line.split(' ');
      // 127.0.0.1:30001@40001[,hostname]
      const port = Number(address.slice(address.lastIndexOf(':', address.indexOf('@')) + 1, address.indexOf('@')));
      return {
        id,
        port,
        flags: flags.split(','),
        masterId: master === '-' ? undefined : master,
        slots: slots.filter((s) => !s.startsWith('[')),
      };
    });
}

/** One slot range of CLUSTER SLOTS: `[start, end]` owned by the master on `port`. */
export interface SlotRange {
  start: number;
  end: number;
  port: number;
}

/** CLUSTER SLOTS on `redis`, as slot ranges and their masters' ports, by start slot. */
export async function clusterSlots(redis: Redis): Promise<SlotRange[]> {
  const reply = (await redis.call('CLUSTER', 'SLOTS')) as [number, number, [string, number, ...unknown[]], ...unknown[]][];
  return reply
    .map(([start, end, master]) => ({ start: Number(start), end: Number(end), port: Number(master[1]) }))
    .sort((a, b) => a.start - b.start);
}
