import { createStreamClient } from '@streamkit/core';
import { closeTestClient, createTestRedis, startRedis, type RedisServer } from '@streamkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditLog } from './index.js';
import { makeSigner } from './test/helpers.js';

describe('audit-log on a persistent server that is SIGKILLed and restarted', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis({ appendOnly: true });
  });
  afterAll(async () => {
    await server?.destroy();
  });

  it('the chain verifies across crashes between records, and with records in flight', async () => {
    const redis = createTestRedis(server.url, { maxRetriesPerRequest: 50 });
    redis.on('error', () => undefined); // reconnects are expected here
    const client = createStreamClient({ redis, prefix: 'aof:' });
    const { signer } = makeSigner();
    const log = createAuditLog({ client, name: 'audit', signer });
    try {
      let expected = 0;
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < 20; i++) {
          const { seq } = await log.record({ actor: `user:${i % 4}`, action: 'update', resource: `doc:${round}` });
          expect(seq).toBe(++expected);
        }
        if (round === 1) await log.checkpoint();
        await server.kill(); // SIGKILL
        await server.start();
      }
      const kept = (await log.checkpoints())[0]!;
      expect(kept.size).toBe(40);

      // Crash with records in flight: every record that resolved is in the chain, exactly once.
      const inFlight = Array.from({ length: 200 }, (_, i) =>
        log.record({ actor: `user:${i % 4}`, action: 'read', resource: 'doc:x', details: { i } }).then(
          (r) => r,
          (error: unknown) => error,
        ),
      );
      await new Promise((resolve) => setImmediate(resolve));
      await server.kill();
      await server.start();
      const settled = await Promise.all(inFlight);
      const ok = settled.filter((r): r is { id: string; seq: number; hash: string } => typeof r === 'object' && r !== null && 'seq' in r);

      const result = await log.verify({ trusted: kept });
      expect(result.problems).toEqual([]);
      expect(result.ok).toBe(true);
      const entries = await log.range();
      expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
      const byId = new Map(entries.map((e) => [e.id, e]));
      for (const r of ok) expect(byId.get(r.id)?.hash).toBe(r.hash);
      const details = entries.filter((e) => e.resource === 'doc:x').map((e) => e.details!.i);
      expect(new Set(details).size).toBe(details.length); // no record twice
      expect(entries.length).toBeGreaterThanOrEqual(60 + ok.length);
    } finally {
      await client.close();
      await closeTestClient(redis);
    }
  }, 60_000);
});
