import { setTimeout as sleep } from 'node:timers/promises';
import { redisTargets, useRedis } from '@streamkit/testing';
import { describe, expect, it } from 'vitest';
import { canonicalJson, entryHash, type AuditLog, type RecordResult } from './index.js';
import { signCheckpoint, resolveSigner, checkpointDigest } from './checkpoint.js';
import { fieldsOf, makeLog, makeSigner, rewriteStream, setField } from './test/helpers.js';

async function fill(log: AuditLog, count: number): Promise<RecordResult[]> {
  const out: RecordResult[] = [];
  for (let i = 0; i < count; i++) {
    out.push(await log.record({ actor: `user:${i % 3}`, action: i % 2 ? 'update' : 'read', resource: `doc:${i % 4}`, details: { i } }));
    await sleep(2); // distinct milliseconds, so an attacker has room for ids in between
  }
  return out;
}

const kinds = (problems: { kind: string; id: string }[]) => problems.map((p) => `${p.kind} ${p.id}`);

describe.each(redisTargets())('audit-log tampering on %s', (target) => {
  const ctx = useRedis(target);

  it('a changed field is reported as modified, with its id', async () => {
    const { log } = makeLog(ctx.redis, ctx.prefix);
    const records = await fill(log, 8);
    expect((await log.verify()).ok).toBe(true);
    const victim = records[4]!.id;
    await rewriteStream(ctx.redis, log.keys.log, (entries) =>
      entries.map(([id, flat]) => [id, id === victim ? setField(flat, 'entry', fieldsOf(flat).entry!.replace(/"action":"[^"]+"/, '"action":"delete"')) : flat]),
    );
    const result = await log.verify();
    expect(result.ok).toBe(false);
    expect(kinds(result.problems)).toContain(`modified ${victim}`);
    expect(result.problems.filter((p) => p.kind !== 'index-mismatch').map((p) => p.id)).toEqual([victim]);
  });

  it('XDEL of an entry in the middle is reported as missing, naming the deleted id', async () => {
    const { log } = makeLog(ctx.redis, ctx.prefix);
    const records = await fill(log, 8);
    await ctx.redis.xdel(log.keys.log, records[3]!.id);
    const result = await log.verify();
    expect(result.ok).toBe(false);
    // the gap in the chain (at the entry after it) and the stream's max-deleted-entry-id (the deleted id itself)
    expect(kinds(result.problems)).toEqual(expect.arrayContaining([`missing ${records[4]!.id}`, `missing ${records[3]!.id}`]));
    expect(result.problems.find((p) => p.id === records[4]!.id)!.message).toContain('seq 4');
  });

  it('a forged entry inserted in the middle is reported as inserted', async () => {
    const { log } = makeLog(ctx.redis, ctx.prefix);
    const records = await fill(log, 6);
    const before = records[2]!;
    const forgedId = `${before.id.split('-')[0]}-7`;
    // The attacker knows the algorithm: a correctly computed hash, linked to the entry before.
    const entry = canonicalJson({ action: 'delete', actor: 'user:0', id: forgedId, outcome: 'success', resource: 'doc:0', time: Number(forgedId.split('-')[0]) });
    const forged = ['seq', String(before.seq + 1), 'prev', before.hash, 'hash', entryHash('audit', before.seq + 1, before.hash, entry), 'entry', entry];
    await rewriteStream(ctx.redis, log.keys.log, (entries) => {
      const at = entries.findIndex(([id]) => id === before.id);
      return [...entries.slice(0, at + 1), [forgedId, forged], ...entries.slice(at + 1)];
    });
    const result = await log.verify();
    expect(result.ok).toBe(false);
    expect(kinds(result.problems)).toContain(`inserted ${forgedId}`);
    expect(result.problems.filter((p) => p.kind !== 'index-mismatch').map((p) => p.id)).toEqual([forgedId]);
  });

  it('an entry appended with raw XADD and a forged hash is reported as inserted', async () => {
    const { log } = makeLog(ctx.redis, ctx.prefix);
    const records = await fill(log, 4);
    const last = records[3]!;
    const forgedId = (await ctx.redis.xadd(log.keys.log, '*', 'seq', '5', 'prev', last.hash, 'hash', 'f'.repeat(64), 'entry', '{"actor":"user:9"}'))!;
    const result = await log.verify();
    expect(result.ok).toBe(false);
    expect(kinds(result.problems)).toContain(`inserted ${forgedId}`);
    expect(result.problems.some((p) => p.kind === 'modified')).toBe(false);
  });

  it('two entries swapped are reported as reordered', async () => {
    const { log } = makeLog(ctx.redis, ctx.prefix);
    const records = await fill(log, 6);
    await rewriteStream(ctx.redis, log.keys.log, (entries) => {
      const copy = [...entries];
      const [a, b] = [copy[2]!, copy[3]!];
      copy[2] = [a[0], b[1]];
      copy[3] = [b[0], a[1]];
      return copy;
    });
    const result = await log.verify({ indexes: false });
    expect(result.ok).toBe(false);
    expect(kinds(result.problems).sort()).toEqual([`reordered ${records[2]!.id}`, `reordered ${records[3]!.id}`].sort());
  });

  it('deleting the newest entries is caught by a trusted checkpoint (truncated)', async () => {
    const { signer } = makeSigner();
    const { log } = makeLog(ctx.redis, ctx.prefix, { signer });
    const records = await fill(log, 6);
    const kept = await log.checkpoint();
    expect(kept).toMatchObject({ size: 6, head: records[5]!.hash, headId: records[5]!.id, keyId: 'k1', previous: null });
    // A careful attacker: removes the last two, moves the head back, drops the stored
    // checkpoints and recreates the stream to reset its counters, so the log alone looks whole.
    await ctx.redis.xdel(log.keys.log, records[4]!.id, records[5]!.id);
    await ctx.redis.hset(log.keys.head, 'seq', '4', 'hash', records[3]!.hash, 'id', records[3]!.id);
    await ctx.redis.del(log.keys.checkpoints);
    await rewriteStream(ctx.redis, log.keys.log, (entries) => entries); // a fresh stream: no trace in its counters
    for (const key of (await ctx.redis.smembers(log.keys.indexes)) as string[]) await ctx.redis.xdel(key, records[4]!.id, records[5]!.id);
    expect((await log.verify()).problems).toEqual([]); // the log alone cannot tell
    const result = await log.verify({ trusted: kept });
    expect(result.ok).toBe(false);
    expect(kinds(result.problems)).toEqual([`truncated ${records[5]!.id}`]);
  });

  it('a stream cut short without hiding it is reported as truncated by the head and the stored checkpoint', async () => {
    const { signer } = makeSigner();
    const { log } = makeLog(ctx.redis, ctx.prefix, { signer });
    const records = await fill(log, 5);
    await log.checkpoint();
    await ctx.redis.xdel(log.keys.log, records[4]!.id);
    const result = await log.verify();
    expect(kinds(result.problems)).toEqual(expect.arrayContaining([`truncated ${records[4]!.id}`, `missing ${records[4]!.id}`]));
  });

  it('a chain recomputed without the signing key is caught by the signed checkpoints', async () => {
    const { signer } = makeSigner();
    const { log } = makeLog(ctx.redis, ctx.prefix, { signer });
    const records = await fill(log, 6);
    await log.checkpoint();
    // Rewrite entry 3 and recompute every hash from there on: the chain itself is consistent again.
    const rewrite = async () =>
      rewriteStream(ctx.redis, log.keys.log, (entries) => {
        let prev = '';
        return entries.map(([id, flat]) => {
          const f = fieldsOf(flat);
          const seq = Number(f.seq);
          if (seq < 3) {
            prev = f.hash!;
            return [id, flat];
          }
          const entry = seq === 3 ? f.entry!.replace(/"actor":"[^"]+"/, '"actor":"user:9"') : f.entry!;
          const hash = entryHash('audit', seq, prev, entry);
          const out: [string, string[]] = [id, ['seq', String(seq), 'prev', prev, 'hash', hash, 'entry', entry]];
          prev = hash;
          return out;
        });
      });
    await rewrite();
    const last = fieldsOf(((await ctx.redis.call('XRANGE', log.keys.log, records[5]!.id, records[5]!.id)) as [string, string[]][])[0]![1]);
    await ctx.redis.hset(log.keys.head, 'hash', last.hash!);

    const caught = await log.verify({ indexes: false });
    expect(caught.ok).toBe(false);
    expect(kinds(caught.problems)).toEqual([`modified ${records[5]!.id}`]);
    expect(caught.problems[0]!.message).toContain('signed checkpoint');

    // The attacker also replaces the stored checkpoint, signing with a key of their own under the same key id.
    const attacker = resolveSigner(makeSigner('k1').signer, 'audit')!;
    const forged = signCheckpoint({ log: 'audit', kind: 'checkpoint', size: 6, head: last.hash!, headId: records[5]!.id, time: new Date().toISOString(), previous: null }, attacker);
    await ctx.redis.del(log.keys.checkpoints);
    await ctx.redis.xadd(log.keys.checkpoints, '*', 'digest', checkpointDigest(forged), 'checkpoint', JSON.stringify(forged));
    const result = await log.verify({ indexes: false });
    expect(result.ok).toBe(false);
    expect(result.problems.map((p) => p.kind)).toEqual(['bad-signature']);
    expect(result.problems[0]!.id).toBe(records[5]!.id);
  });

  it('index streams that drift from the log are reported as index mismatch', async () => {
    const { log } = makeLog(ctx.redis, ctx.prefix);
    const records = await fill(log, 6);
    await ctx.redis.xdel(log.keys.actor('user:1'), records[1]!.id);
    const extra = (await ctx.redis.xadd(log.keys.resource('doc:0'), '*', 's', '99', 'a', 'read'))!;
    const result = await log.verify();
    expect(result.ok).toBe(false);
    expect(kinds(result.problems).sort()).toEqual([`index-mismatch ${records[1]!.id}`, `index-mismatch ${extra}`].sort());
    expect(result.problems.find((p) => p.id === extra)!.index).toBe(log.keys.resource('doc:0'));
  });

  it('an index longer than one digest page is checked to its end', async () => {
    const { log } = makeLog(ctx.redis, ctx.prefix);
    const records = await Promise.all(Array.from({ length: 5_200 }, (_, i) => log.record({ actor: 'user:busy', action: 'read', resource: `doc:${i % 2}` })));
    expect((await log.verify()).ok).toBe(true);
    const victim = records.find((r) => r.seq === 5_150)!;
    await ctx.redis.xdel(log.keys.actor('user:busy'), victim.id);
    const result = await log.verify();
    expect(kinds(result.problems)).toEqual([`index-mismatch ${victim.id}`]);
    expect(result.problems[0]!.message).toContain('lacks log entry');
  });

  it("an index entry changed in place is found by indexes: 'full'", async () => {
    const { log } = makeLog(ctx.redis, ctx.prefix);
    const records = await fill(log, 9);
    // user:0 has seq 1, 4, 7: point its middle index entry at another seq, keeping length and newest id.
    await rewriteStream(ctx.redis, log.keys.actor('user:0'), (entries) => entries.map(([id, flat]) => [id, id === records[3]!.id ? setField(flat, 's', '5') : flat]));
    expect((await log.verify()).ok).toBe(true); // the quick check compares lengths and newest ids
    const result = await log.verify({ indexes: 'full' });
    expect(kinds(result.problems)).toEqual([`index-mismatch ${records[3]!.id}`]);
  });
});
