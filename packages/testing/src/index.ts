/**
 * `@streamkit/testing`: real redis-server fixtures for streamkit's tests (no mocks) and the
 * suite helpers built on them. See the package README.
 */
export { findRedisBinaries } from './binaries.js';
export type { RedisBinaries } from './binaries.js';
export { startRedis } from './redisServer.js';
export type { RedisServer, StartRedisOptions } from './redisServer.js';
export { startCluster } from './cluster.js';
export type { ClusterWaitOptions, RedisCluster, StartClusterOptions } from './cluster.js';
export { closeTestClient, createTestCluster, createTestRedis } from './clients.js';
export { cleanupKeys, testPrefix } from './keys.js';
export { redisTargets, useRedis } from './targets.js';
export type { RedisHandle, RedisTarget, UseRedisOptions } from './targets.js';
export type { ClusterNodeAddress } from './types.js';
