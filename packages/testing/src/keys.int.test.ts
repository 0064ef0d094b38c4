import { describe, expect, it } from 'vitest';
import { closeTestClient } from './clients.js';
import { cleanupKeys, testPrefix } from './keys.js';
import { redisTargets, useRedis } from './targets.js';

describe('redisTargets', () => {
  it('lists standalone, then cluster unless STREAMKIT_NO_CLUSTER is set', () => {
    const names = redisTargets().map(String);
    expect(names).toEqual(process.env.STREAMKIT_NO_CLUSTER === '1' ? ['standalone'] : ['standalone', 'cluster']);
  });
});

describe.each(redisTargets())('keys on %s', (target) => {
  it('names the suite after the target', ({ task }) => {
    expect(task.suite?.name).toBe(`keys on ${target.name}`);
  });

  it('cleanupKeys removes the prefix\'s keys, across slots, and nothing else', async () => {
    const redis = target.connect();
    const mine = testPrefix();
    const other = testPrefix();
    try {
      expect(mine).toMatch(/^t:[0-9a-f]{8}:$/);
      const names = Array.from({ length: 50 }, (_, i) => `k${i}`);
      await Promise.all(names.map((name) => redis.set(mine + name, '1')));
      await Promise.all(names.slice(0, 5).map((name) => redis.set(other + name, '1')));
      await redis.set(`${mine.slice(0, -1)}-lookalike`, '1');

      expect(await cleanupKeys(redis, mine)).toBe(50);

      expect(await Promise.all(names.map((name) => redis.exists(mine + name)))).toEqual(names.map(() => 0));
      expect(await Promise.all(names.slice(0, 5).map((name) => redis.exists(other + name)))).toEqual([1, 1, 1, 1, 1]);
      expect(await redis.exists(`${mine.slice(0, -1)}-lookalike`)).toBe(1);
    } finally {
      await cleanupKeys(redis, other);
      await redis.unlink(`${mine.slice(0, -1)}-lookalike`);
      await closeTestClient(redis);
    }
  });

  it('cleanupKeys refuses an empty prefix', async () => {
    const redis = target.connect();
    try {
      await expect(cleanupKeys(redis, '')).rejects.toThrow(/empty prefix/);
    } finally {
      await closeTestClient(redis);
    }
  });

  describe('useRedis', () => {
    const ctx = useRedis(target);
    let first = '';

    it('gives each test a prefix and a connected client', async () => {
      first = ctx.prefix;
      await ctx.redis.set(ctx.key('a'), '1');
      expect(await ctx.redis.get(`${first}a`)).toBe('1');
    });

    it('removed the previous test\'s keys and gives a new prefix', async () => {
      expect(ctx.prefix).not.toBe(first);
      expect(await ctx.redis.exists(`${first}a`)).toBe(0);
    });
  });
});
