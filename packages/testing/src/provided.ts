import type { ClusterNodeAddress } from './types.js';

/**
 * What the global setup (`@streamkit/testing/global-setup`) hands to every test file through
 * vitest's `provide` / `inject`.
 */
declare module 'vitest' {
  export interface ProvidedContext {
    /** The standalone server: `REDIS_URL`, or a fixture server's `redis://127.0.0.1:<port>`. */
    redisUrl: string;
    /** The cluster's nodes: `REDIS_CLUSTER_NODES`, or a fixture cluster's; empty with `STREAMKIT_NO_CLUSTER=1`. */
    redisClusterNodes: ClusterNodeAddress[];
  }
}

/** Whether `STREAMKIT_NO_CLUSTER` asks to skip the cluster target (any value but "", "0", "false"). */
export function clusterDisabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.STREAMKIT_NO_CLUSTER?.trim().toLowerCase();
  return value !== undefined && value !== '' && value !== '0' && value !== 'false';
}

/** Parses `REDIS_CLUSTER_NODES`: comma-separated `host:port`. */
export function parseClusterNodesEnv(value: string): ClusterNodeAddress[] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const colon = entry.lastIndexOf(':');
      const host = entry.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
      const port = Number(entry.slice(colon + 1));
      if (colon <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) {
        throw new Error(`REDIS_CLUSTER_NODES: "${entry}" is not host:port (expected e.g. "127.0.0.1:7000,127.0.0.1:7001")`);
      }
      return { host, port };
    });
}
