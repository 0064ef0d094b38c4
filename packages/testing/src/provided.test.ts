import { describe, expect, it } from 'vitest';
import { findRedisBinaries } from './binaries.js';
import { clusterDisabled, parseClusterNodesEnv } from './provided.js';

describe('parseClusterNodesEnv', () => {
  it('reads comma-separated host:port', () => {
    expect(parseClusterNodesEnv('127.0.0.1:7000, localhost:7001,[::1]:7002')).toEqual([
      { host: '127.0.0.1', port: 7000 },
      { host: 'localhost', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
  });

  it('names the bad entry', () => {
    expect(() => parseClusterNodesEnv('127.0.0.1:7000,nope')).toThrow(/"nope" is not host:port/);
  });
});

describe('clusterDisabled', () => {
  it('is on for 1/true and off for unset, empty, 0 and false', () => {
    expect(clusterDisabled({ STREAMKIT_NO_CLUSTER: '1' })).toBe(true);
    expect(clusterDisabled({ STREAMKIT_NO_CLUSTER: 'true' })).toBe(true);
    expect(clusterDisabled({})).toBe(false);
    expect(clusterDisabled({ STREAMKIT_NO_CLUSTER: '' })).toBe(false);
    expect(clusterDisabled({ STREAMKIT_NO_CLUSTER: '0' })).toBe(false);
    expect(clusterDisabled({ STREAMKIT_NO_CLUSTER: 'false' })).toBe(false);
  });
});

describe('findRedisBinaries', () => {
  it('finds redis-server and redis-cli', () => {
    const { server, cli } = findRedisBinaries();
    expect(server).toMatch(/redis-server$/);
    expect(cli).toMatch(/redis-cli$/);
  });

  it('says how to install Redis when the executable is missing', () => {
    const saved = process.env.STREAMKIT_REDIS_SERVER;
    process.env.STREAMKIT_REDIS_SERVER = '/nonexistent/redis-server';
    try {
      expect(() => findRedisBinaries()).toThrow(/apt-get install redis-server/);
    } finally {
      if (saved === undefined) delete process.env.STREAMKIT_REDIS_SERVER;
      else process.env.STREAMKIT_REDIS_SERVER = saved;
    }
  });
});
