import { ChainHeadError } from './index.js';
import { closeTestClient, redisTargets, useRedis } from '@streamkit/testing';
import { describe, expect, it } from 'vitest';
import { makeLog } from './test/helpers.js';

describe.each(redisTargets())('audit-log faults on %s', (target) => {
  const ctx = useRedis(target);

  it('an entry written to the log by someone else stops appends with ChainHeadError, writing nothing', async () => {
    const { log } = makeLog(ctx.redis, ctx.prefix);
    await log.record({ actor: 'user:1', action: 'read', resource: 'doc:1' });
    await ctx.redis.xadd(log.keys.log, '*', 'seq', '2', 'prev', 'x', 'hash', 'y', 'entry', '{}');
    const before = await ctx.redis.xlen(log.keys.log);
    await expect(log.record({ actor: 'user:1', action: 'read', resource: 'doc:1' })).rejects.toSatisfy(ChainHeadError.is);
    expect(await ctx.redis.xlen(log.keys.log)).toBe(before);
    expect(await ctx.redis.xlen(log.keys.actor('user:1'))).toBe(1);
    expect((await log.head()).seq).toBe(1);
  });

  it('an id generated past the head by someone else (an entry added, then deleted) stops appends with ChainHeadError, writing nothing', async () => {
    const { log } = makeLog(ctx.redis, ctx.prefix);
    await log.record({ actor: 'user:1', action: 'read', resource: 'doc:1' });
    const foreign = await ctx.redis.xadd(log.keys.log, `${Date.now() + 3_600_000}-0`, 'x', '1');
    await ctx.redis.xdel(log.keys.log, foreign!);
    await expect(log.record({ actor: 'user:1', action: 'read', resource: 'doc:1' })).rejects.toSatisfy(ChainHeadError.is);
    expect(await ctx.redis.xlen(log.keys.log)).toBe(1);
    expect(await ctx.redis.xlen(log.keys.actor('user:1'))).toBe(1);
    expect(await ctx.redis.xlen(log.keys.resource('doc:1'))).toBe(1);
    expect((await log.head()).seq).toBe(1);
  });

  it('verify of a range checks only that range', async () => {
    const { log } = makeLog(ctx.redis, ctx.prefix);
    const records = [];
    for (let i = 0; i < 6; i++) records.push(await log.record({ actor: `user:${i}`, action: 'read', resource: 'doc' }));
    const part = await log.verify({ from: records[2]!.id, to: records[4]!.id });
    expect(part).toMatchObject({ ok: true, checked: 3, head: { seq: 5 } });
    await ctx.redis.xdel(log.keys.log, records[0]!.id); // outside the range
    expect((await log.verify({ from: records[2]!.id, to: records[4]!.id })).ok).toBe(true);
    expect((await log.verify()).ok).toBe(false);
  });

  it.runIf(target.name === 'standalone')('a connection killed with records in flight: each record lands exactly once', async () => {
    const redis = target.connect();
    redis.on('error', () => undefined); // the kill is expected
    try {
      const { log } = makeLog(redis, ctx.prefix);
      await log.record({ actor: 'user:0', action: 'warm', resource: 'doc' });
      const id = (await redis.call('CLIENT', 'ID')) as number;
      const pending = Array.from({ length: 300 }, (_, i) => log.record({ actor: `user:${i % 5}`, action: 'write', resource: 'doc', details: { i } }).then((r) => r, (e: unknown) => e));
      await new Promise((resolve) => setImmediate(resolve));
      await ctx.redis.call('CLIENT', 'KILL', 'ID', String(id));
      const settled = await Promise.all(pending);
      const ok = settled.filter((r): r is { id: string; seq: number; hash: string } => typeof r === 'object' && r !== null && 'hash' in r);
      const entries = await log.range();
      expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
      const numbers = entries.filter((e) => e.action === 'write').map((e) => e.details!.i);
      expect(new Set(numbers).size).toBe(numbers.length);
      const byId = new Map(entries.map((e) => [e.id, e.hash]));
      for (const r of ok) expect(byId.get(r.id)).toBe(r.hash);
      expect((await log.verify()).problems).toEqual([]);
    } finally {
      await closeTestClient(redis);
    }
  });
});
