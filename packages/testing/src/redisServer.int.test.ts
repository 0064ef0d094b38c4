import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { closeTestClient, createTestRedis } from './clients.js';
import { startRedis, type RedisServer } from './redisServer.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('startRedis', () => {
  const servers: RedisServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.destroy()));
  });

  it('starts a standalone server on a loopback port that answers, and destroy() removes it', async () => {
    const server = await startRedis();
    servers.push(server);
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    expect(server.running).toBe(true);
    expect(existsSync(server.dir)).toBe(true);
    const redis = createTestRedis(server.url);
    try {
      expect(await redis.ping()).toBe('PONG');
      expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
    } finally {
      await closeTestClient(redis);
    }
    const pid = server.pid!;
    await server.destroy();
    expect(server.running).toBe(false);
    expect(server.pid).toBeUndefined();
    expect(alive(pid)).toBe(false);
    expect(existsSync(server.dir)).toBe(false);
  });

  it('keeps an AOF server\'s data across SIGKILL and start() on the same port', async () => {
    const server = await startRedis({ appendOnly: true });
    servers.push(server);
    const redis = createTestRedis(server.url);
    try {
      await redis.set('survivor', 'still here');
      const { port } = server;
      const before = server.pid!;
      await server.kill();
      expect(server.running).toBe(false);
      expect(alive(before)).toBe(false);

      await server.start();
      expect(server.port).toBe(port);
      expect(server.pid).not.toBe(before);
      expect(await redis.get('survivor')).toBe('still here');
    } finally {
      await closeTestClient(redis);
    }
  });

  it('loses a non-persistent server\'s data on restart()', async () => {
    const server = await startRedis();
    servers.push(server);
    const redis = createTestRedis(server.url);
    try {
      await redis.set('gone', '1');
      await server.restart();
      expect(await redis.exists('gone')).toBe(0);
    } finally {
      await closeTestClient(redis);
    }
  });

  it('passes extra arguments and reports a failed start with the log', async () => {
    const server = await startRedis({ args: ['--maxmemory', '10mb'] });
    servers.push(server);
    const redis = createTestRedis(server.url);
    try {
      expect(await redis.config('GET', 'maxmemory')).toEqual(['maxmemory', String(10 * 1024 * 1024)]);
    } finally {
      await closeTestClient(redis);
    }
    await expect(startRedis({ args: ['--no-such-option', 'x'] })).rejects.toThrow(/exited .*while starting[\s\S]*no-such-option/);
  });
});
