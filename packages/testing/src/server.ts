/**
 * The fixtures without vitest: real redis-server processes and clients for them, for scripts
 * and benchmarks (`@streamkit/testing/server`). Tests import `@streamkit/testing`.
 */
export { findRedisBinaries } from './binaries.js';
export type { RedisBinaries } from './binaries.js';
export { startRedis } from './redisServer.js';
export type { RedisServer, StartRedisOptions } from './redisServer.js';
export { startCluster } from './cluster.js';
export type { ClusterWaitOptions, RedisCluster, StartClusterOptions } from './cluster.js';
export { closeTestClient, createTestCluster, createTestRedis } from './clients.js';
export { cleanupKeys, testPrefix } from './keys.js';
export type { ClusterNodeAddress } from './types.js';
