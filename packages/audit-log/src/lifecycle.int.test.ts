import { createPublicKey } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError } from '@streamkit/core';
import { redisTargets, useRedis } from '@streamkit/testing';
import { describe, expect, it } from 'vitest';
import { checkpointDigest } from './checkpoint.js';
import { ERASED, LegalHoldError, type AuditLog, type RecordResult } from './index.js';
import { fieldsOf, makeLog, makeSigner } from './test/helpers.js';

async function fill(log: AuditLog, count: number, actor = (i: number) => `user:${i % 3}`): Promise<RecordResult[]> {
  const out: RecordResult[] = [];
  for (let i = 0; i < count; i++) {
    out.push(await log.record({ actor: actor(i), action: 'read', resource: `doc:${i % 2}`, ip: '10.0.0.5', details: { i } }));
    await sleep(2);
  }
  return out;
}

async function text(stream: NodeJS.ReadableStream): Promise<string> {
  let out = '';
  for await (const chunk of stream) out += chunk.toString();
  return out;
}

describe.each(redisTargets())('audit-log checkpoints, retention and erasure on %s', (target) => {
  const ctx = useRedis(target);

  it('checkpoints are signed, stored and chained', async () => {
    const { signer } = makeSigner();
    const { log } = makeLog(ctx.redis, ctx.prefix, { signer });
    await fill(log, 3);
    const first = await log.checkpoint();
    await fill(log, 2);
    const second = await log.checkpoint();
    expect(first.previous).toBeNull();
    expect(second.previous).toBe(checkpointDigest(first));
    expect(second).toMatchObject({ log: 'audit', kind: 'checkpoint', size: 5, keyId: 'k1' });
    expect(await log.checkpoints()).toEqual([first, second]);
    const result = await log.verify({ trusted: [first, second] });
    expect(result).toMatchObject({ ok: true, checked: 5, checkpoints: 4 });

    // A reader with only the public key verifies too; one without keys cannot trust the signatures.
    const { log: reader } = makeLog(ctx.redis, ctx.prefix, { verifyKeys: { k1: createPublicKey(signer.privateKey) } });
    expect((await reader.verify()).ok).toBe(true);
    const { log: blind } = makeLog(ctx.redis, ctx.prefix);
    expect((await blind.verify()).problems.map((p) => p.kind)).toEqual(['bad-signature', 'bad-signature']);

    // Removing a stored checkpoint breaks their chain.
    const stored = (await ctx.redis.call('XRANGE', log.keys.checkpoints, '-', '+')) as [string, string[]][];
    await ctx.redis.xdel(log.keys.checkpoints, stored[0]![0]);
    const broken = await log.verify();
    expect(broken.problems.map((p) => [p.kind, p.checkpointId])).toEqual([['missing', stored[1]![0]]]);
    await expect(makeLog(ctx.redis, ctx.prefix).log.checkpoint()).rejects.toThrow(ConfigError);
  });

  it('prune writes a signed prune checkpoint first, then removes old entries and index entries; the rest verifies', async () => {
    const { signer } = makeSigner();
    const { log } = makeLog(ctx.redis, ctx.prefix, { signer });
    const records = await fill(log, 10);
    const { removed, checkpoint } = await log.prune({ before: records[5]!.id });
    expect(removed).toBe(5);
    expect(checkpoint).toMatchObject({ kind: 'prune', size: 5, head: records[4]!.hash, headId: records[4]!.id });
    expect(await log.length()).toBe(5);
    expect((await log.byResource('doc:0')).map((e) => e.seq)).toEqual([7, 9]);
    expect((await ctx.redis.call('XRANGE', log.keys.actor('user:0'), '-', '+')) as unknown[]).toHaveLength(2); // seq 7, 10
    expect(await log.verify()).toMatchObject({ ok: true, checked: 5, problems: [] });
    await fill(log, 2);
    expect((await log.verify()).ok).toBe(true);

    // Without its prune checkpoint, the start of the log is missing.
    await ctx.redis.del(log.keys.checkpoints);
    const result = await log.verify();
    expect(result.problems.map((p) => `${p.kind} ${p.id}`)).toContain(`missing ${records[5]!.id}`);
    await expect(makeLog(ctx.redis, ctx.prefix).log.prune({ before: Date.now() })).rejects.toThrow(ConfigError);
  });

  it('prune removes only the entries its checkpoint covers, even when a record lands meanwhile', async () => {
    const { signer } = makeSigner();
    const { log } = makeLog(ctx.redis, ctx.prefix, { signer });
    await fill(log, 3);
    // A second writer (its head not loaded yet) records while prune runs, with a bound past every id.
    const { log: writer } = makeLog(ctx.redis, ctx.prefix);
    const [{ checkpoint }, late] = await Promise.all([log.prune({ before: Date.now() + 3_600_000 }), writer.record({ actor: 'user:9', action: 'late', resource: 'doc:9' })]);
    const kept = await log.range();
    expect(kept.map((e) => e.seq)).toEqual(Array.from({ length: late.seq - checkpoint!.size }, (_, i) => checkpoint!.size + 1 + i));
    expect(await log.verify()).toMatchObject({ ok: true, problems: [] });
  });

  it('legal hold blocks pruning and erasure, and nothing changes', async () => {
    const { signer } = makeSigner();
    const { log } = makeLog(ctx.redis, ctx.prefix, { signer, pii: { fields: ['ip'] } });
    const records = await fill(log, 4);
    await log.setLegalHold(true);
    expect(await log.legalHold()).toBe(true);
    await expect(log.prune({ before: records[3]!.id })).rejects.toSatisfy(LegalHoldError.is);
    await expect(log.forgetSubject('user:0')).rejects.toSatisfy(LegalHoldError.is);
    expect(await log.length()).toBe(4);
    expect(await log.checkpoints()).toEqual([]);
    expect((await log.byActor('user:0'))[0]!.ip).toBe('10.0.0.5');
    await log.setLegalHold(false);
    expect((await log.prune({ before: records[3]!.id })).removed).toBe(3);
    expect(await log.forgetSubject('user:0')).toBe(true);
  });

  it('PII fields "details" and "details.<key>" together: the whole details is encrypted once', async () => {
    for (const fields of [['details', 'details.email'], ['details.email', 'details']] as const) {
      const { log } = makeLog(ctx.redis, ctx.prefix, { name: `both-${fields[0]}`, pii: { fields: [...fields] } });
      await log.record({ actor: 'user:1', action: 'login', resource: 'app', details: { email: 'a@example.com', plan: 'pro' } });
      const [stored] = (await ctx.redis.call('XRANGE', log.keys.log, '-', '+')) as [string, string[]][];
      expect(fieldsOf(stored![1]).entry).not.toContain('a@example.com');
      expect((await log.range())[0]).toMatchObject({ details: { email: 'a@example.com', plan: 'pro' } });
      await log.forgetSubject('user:1');
      expect((await log.range())[0]).toMatchObject({ details: ERASED, erased: ['details'] });
      expect((await log.verify()).problems).toEqual([]);
      await log.destroy();
    }
  });

  it('forgetSubject erases the PII of one subject; the chain still verifies', async () => {
    const { log } = makeLog(ctx.redis, ctx.prefix, { pii: { fields: ['ip', 'details.email'] } });
    await log.record({ actor: 'user:1', action: 'login', resource: 'app', ip: '192.168.1.1', details: { email: 'a@example.com', plan: 'pro' } });
    await log.record({ actor: 'user:2', action: 'login', resource: 'app', ip: '10.0.0.5', details: { email: 'b@example.com' } });
    const raw = (await ctx.redis.call('XRANGE', log.keys.log, '-', '+')) as [string, string[]][];
    const stored = raw.map(([, flat]) => fieldsOf(flat).entry!).join('\n');
    expect(stored).not.toContain('192.168.1.1');
    expect(stored).not.toContain('a@example.com');
    expect(stored).toContain('"plan":"pro"');
    expect((await log.byActor('user:1'))[0]).toMatchObject({ ip: '192.168.1.1', details: { email: 'a@example.com', plan: 'pro' } });

    // Another process holds user:1's key in its cache.
    const { log: other } = makeLog(ctx.redis, ctx.prefix, { pii: { fields: ['ip', 'details.email'] } });
    await other.record({ actor: 'user:1', action: 'logout', resource: 'app', ip: '192.168.1.1' });

    expect(await log.forgetSubject('user:1')).toBe(true);
    const erased = await log.byActor('user:1');
    expect(erased.map((e) => [e.ip, e.details?.email, e.erased])).toEqual([
      [ERASED, ERASED, ['ip', 'details.email']],
      [ERASED, undefined, ['ip']],
    ]);
    expect(erased[0]!.details!.plan).toBe('pro');
    expect((await log.byActor('user:2'))[0]).toMatchObject({ ip: '10.0.0.5', details: { email: 'b@example.com' } });
    expect((await log.verify()).problems).toEqual([]);

    // New records of a forgotten subject get a new key, even from the process with the stale cache.
    await other.record({ actor: 'user:1', action: 'login', resource: 'app', ip: '192.168.1.9' });
    const after = await log.byActor('user:1');
    expect(after.map((e) => e.ip)).toEqual([ERASED, ERASED, '192.168.1.9']);
    expect((await log.verify()).ok).toBe(true);
  });

  it('export streams JSON lines and CSV', async () => {
    const { log } = makeLog(ctx.redis, ctx.prefix);
    const records = await fill(log, 3);
    await log.record({ actor: 'user:"x", y', action: 'note', resource: 'doc:1', details: { text: 'a,b\nc' } });
    const progress: number[] = [];
    const jsonl = (await text(log.export({ format: 'jsonl', onProgress: ({ done }) => progress.push(done) }))).trim().split('\n').map((line) => JSON.parse(line));
    expect(jsonl.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(jsonl[0]).toMatchObject({ id: records[0]!.id, actor: 'user:0', hash: records[0]!.hash, ip: '10.0.0.5' });
    expect(progress.at(-1)).toBe(4);
    const csv = await text(log.export({ format: 'csv', from: records[1]!.id }));
    const lines = csv.split('\r\n');
    expect(lines[0]).toBe('id,seq,time,actor,action,resource,outcome,ip,userAgent,requestId,details,hash,prev');
    expect(lines[1]!.startsWith(`${records[1]!.id},2,`)).toBe(true);
    expect(csv).toContain('"user:""x"", y"');
    expect(csv).toContain('"{""text"":""a,b\\nc""}"');
    expect(lines.filter(Boolean)).toHaveLength(4);
  });

  it('byActor, byResource and range filter by time, action and limit, in order', async () => {
    const { log } = makeLog(ctx.redis, ctx.prefix);
    const records: RecordResult[] = [];
    for (let i = 0; i < 12; i++) {
      records.push(await log.record({ actor: `user:${i % 2}`, action: ['read', 'update', 'delete'][i % 3]!, resource: `doc:${i % 4}` }));
      await sleep(2);
    }
    expect((await log.byActor('user:0')).map((e) => e.seq)).toEqual([1, 3, 5, 7, 9, 11]);
    expect((await log.byActor('user:0', { actions: ['read'] })).map((e) => e.seq)).toEqual([1, 7]);
    expect((await log.byActor('user:0', { reverse: true, limit: 2 })).map((e) => e.seq)).toEqual([11, 9]);
    expect((await log.byActor('user:0', { from: records[4]!.id, to: records[8]!.id })).map((e) => e.seq)).toEqual([5, 7, 9]);
    expect((await log.byResource('doc:1', { from: new Date(Number(records[2]!.id.split('-')[0])) })).map((e) => e.seq)).toEqual([6, 10]);
    expect((await log.range(records[2]!.id, records[5]!.id)).map((e) => e.seq)).toEqual([3, 4, 5, 6]);
    expect((await log.range('-', '+', { actions: ['delete'], limit: 3 })).map((e) => e.seq)).toEqual([3, 6, 9]);
    expect(await log.byActor('user:404')).toEqual([]);
  });
});
