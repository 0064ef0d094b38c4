import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ValidationError } from '@streamkit/core';
import { closeTestClient, redisTargets, useRedis } from '@streamkit/testing';
import { describe, expect, it } from 'vitest';
import { entryHash, GENESIS_HASH } from './index.js';
import { fieldsOf, makeLog } from './test/helpers.js';

const run = promisify(execFile);
const child = fileURLToPath(new URL('./test/writerChild.ts', import.meta.url));

describe.each(redisTargets())('audit-log record on %s', (target) => {
  const ctx = useRedis(target);

  it('appends a hash chain with index entries of the same id, all keys in one slot', async () => {
    const { log } = makeLog(ctx.redis, ctx.prefix);
    const a = await log.record({ actor: 'user:123', action: 'document.read', resource: 'document:456', ip: '192.168.1.1' });
    const b = await log.record({ actor: 'user:123', action: 'document.update', resource: 'document:456', details: { z: 1, a: [true, null] } });
    expect([a.seq, b.seq]).toEqual([1, 2]);

    const raw = (await ctx.redis.call('XRANGE', log.keys.log, '-', '+')) as [string, string[]][];
    expect(raw.map(([id]) => id)).toEqual([a.id, b.id]);
    const [first, second] = raw.map(([, flat]) => fieldsOf(flat));
    expect(first!.prev).toBe(GENESIS_HASH);
    expect(second!.prev).toBe(a.hash);
    expect(first!.hash).toBe(entryHash('audit', 1, GENESIS_HASH, first!.entry!));
    expect(second!.hash).toBe(b.hash);
    // canonical JSON: sorted keys at every level
    expect(second!.entry).toBe(
      `{"action":"document.update","actor":"user:123","details":{"a":[true,null],"z":1},"id":"${b.id}","outcome":"success","resource":"document:456","time":${Number(b.id.split('-')[0])}}`,
    );
    const actorIndex = (await ctx.redis.call('XRANGE', log.keys.actor('user:123'), '-', '+')) as [string, string[]][];
    const resourceIndex = (await ctx.redis.call('XRANGE', log.keys.resource('document:456'), '-', '+')) as [string, string[]][];
    expect(actorIndex.map(([id]) => id)).toEqual([a.id, b.id]);
    expect(resourceIndex.map(([id, flat]) => [id, fieldsOf(flat).s])).toEqual([
      [a.id, '1'],
      [b.id, '2'],
    ]);
    const head = await log.head();
    expect(head).toEqual({ seq: 2, hash: b.hash, id: b.id });
    const result = await log.verify();
    expect(result).toMatchObject({ ok: true, checked: 2, problems: [] });
  });

  it('verifies entries whose details or names look like JSON keys', async () => {
    const { log } = makeLog(ctx.redis, ctx.prefix);
    await log.record({ actor: 'user:"q\\"', action: 'a', resource: 'doc:"x"', details: { actor: 'user:9', resource: 'doc:9', id: '1-0', '"resource":"': { resource: 'r' } } });
    await log.record({ actor: 'user:9', action: 'a', resource: 'doc:9', userAgent: '"resource":"doc:1"' });
    const result = await log.verify({ indexes: 'full' });
    expect(result.problems).toEqual([]);
    expect((await log.byActor('user:"q\\"')).map((e) => e.resource)).toEqual(['doc:"x"']);
    expect((await log.byResource('doc:9')).map((e) => e.actor)).toEqual(['user:9']);
  });

  it('rejects invalid input naming the field, and writes nothing', async () => {
    const { log } = makeLog(ctx.redis, ctx.prefix);
    const bad = [
      [{ actor: '', action: 'read', resource: 'r' }, 'actor'],
      [{ actor: 'u', action: 'read', resource: 'r', ip: 'not-an-ip' }, 'ip'],
      [{ actor: 'u', action: 'read', resource: 'r', extra: 1 }, ''],
      [{ actor: 'u', action: 5, resource: 'r' }, 'action'],
      [{ actor: 'u', action: 'read', resource: 'r', details: { f: () => 1 } }, 'details'],
    ] as const;
    for (const [input, field] of bad) {
      const error = await log.record(input as never).catch((e: unknown) => e);
      expect(ValidationError.is(error), String(error)).toBe(true);
      const validation = error as ValidationError;
      expect(validation.stream).toBe(log.keys.log);
      if (field) expect(validation.message).toContain(`field "${field}`);
      else expect(validation.message).toMatch(/extra/);
    }
    expect(await ctx.redis.exists(log.keys.log, log.keys.head, log.keys.indexes)).toBe(0);
  });

  it('many concurrent records in one process form one chain', async () => {
    const { log } = makeLog(ctx.redis, ctx.prefix);
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) => log.record({ actor: `user:${i % 7}`, action: 'read', resource: `doc:${i % 5}` })),
    );
    expect(results.map((r) => r.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    const result = await log.verify();
    expect(result.problems).toEqual([]);
    expect(result.checked).toBe(300);
    expect((await log.byActor('user:3')).length).toBe(Array.from({ length: 300 }, (_, i) => i).filter((i) => i % 7 === 3).length);
  });

  it('verify while other writers append reports no problem', async () => {
    const { log } = makeLog(ctx.redis, ctx.prefix);
    const second = target.connect();
    const { log: writer } = makeLog(second, ctx.prefix);
    await Promise.all(Array.from({ length: 100 }, (_, i) => log.record({ actor: `user:${i % 9}`, action: 'read', resource: `doc:${i % 13}` })));
    let done = false;
    const writing = (async () => {
      for (let i = 0; i < 40; i++) await Promise.all(Array.from({ length: 25 }, (_, j) => writer.record({ actor: `user:${j % 9}`, action: 'write', resource: `doc:${(i + j) % 13}` })));
      done = true;
    })();
    const results = [];
    while (!done) results.push(await log.verify());
    await writing;
    results.push(await log.verify());
    expect(results.length).toBeGreaterThan(1);
    expect(results.flatMap((r) => r.problems)).toEqual([]);
    expect(results.at(-1)!.checked).toBe(1100);
    await closeTestClient(second);
  });

  it('8 child processes x 1,000 records at once: one chain, seq 1..8000, verifies clean', async () => {
    const { log } = makeLog(ctx.redis, ctx.prefix);
    const targetJson = JSON.stringify(target.name === 'cluster' ? { nodes: target.startupNodes } : { url: target.url });
    const outputs = await Promise.all(
      Array.from({ length: 8 }, (_, w) =>
        run(process.execPath, ['--conditions=@streamkit/source', '--import', 'tsx', child, targetJson, ctx.prefix, 'audit', String(w), '1000', '32'], {
          timeout: 120_000,
        }),
      ),
    );
    expect(outputs.map((o) => o.stdout.trim())).toEqual(Array(8).fill('done'));
    const raw = (await ctx.redis.call('XRANGE', log.keys.log, '-', '+')) as [string, string[]][];
    expect(raw.map(([, flat]) => Number(fieldsOf(flat).seq))).toEqual(Array.from({ length: 8000 }, (_, i) => i + 1));
    const result = await log.verify();
    expect(result.problems).toEqual([]);
    expect(result).toMatchObject({ ok: true, checked: 8000 });
    for (let w = 0; w < 8; w++) expect((await log.byActor(`writer:${w}`)).length).toBe(1000);
  }, 180_000);
});
