import { setTimeout as sleep } from 'node:timers/promises';
import { closeTestClient, createTestRedis, startRedis, testPrefix, type RedisServer } from '@streamkit/testing';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStreamClient } from '../client.js';
import { waitFor } from './fixtures/helpers.js';

// The persistent server is one standalone process (appendfsync always): a crash and restart of a
// cluster node is a failover, not this fault, so this suite runs on standalone only.
describe('a worker while the persistent server is SIGKILLed and restarted', () => {
  let server: RedisServer;
  let redis: Redis;
  beforeAll(async () => {
    server = await startRedis({ appendOnly: true });
    redis = createTestRedis(server.url);
    redis.on('error', () => undefined); // refused reconnects while the server is down
  });
  afterAll(async () => {
    await closeTestClient(redis);
    await server.destroy();
  });

  it('keeps all acknowledged progress and resumes by itself', async () => {
    const client = createStreamClient({ redis, prefix: testPrefix() });
    const stream = client.stream('jobs');
    const group = stream.group('g');
    await group.create({ from: '0' });
    const produced = await stream.addMany(Array.from({ length: 300 }, (_, n) => ({ n: String(n) })));
    const times = new Map<string, number>();
    const acked = new Set<string>();
    const concurrency = 4;
    const count = 20;
    const worker = group.consume(
      async (entry) => {
        times.set(entry.id, (times.get(entry.id) ?? 0) + 1);
        await sleep(8);
      },
      { consumer: 'w', concurrency, count, blockMs: 500 },
    );
    worker.on('acked', (ids) => ids.forEach((id) => acked.add(id)));
    worker.on('error', () => undefined); // connection errors while the server is down are expected
    try {
      await waitFor('80 acked entries', () => acked.size >= 80);
      const ackedBeforeCrash = new Set(acked); // every XACK here got its reply: fsynced to the AOF
      await server.kill();
      await sleep(300);
      await server.start();

      await waitFor('every entry processed and the pending list empty', async () => {
        return produced.every((id) => times.has(id)) && (await group.pending()).count === 0;
      }, 25_000);
      const twice = [...times].filter(([, n]) => n > 1).map(([id]) => id);
      // Acked before the crash means never delivered again; only what was held at the crash can be.
      expect(twice.filter((id) => ackedBeforeCrash.has(id))).toEqual([]);
      expect(twice.length).toBeLessThanOrEqual(count + concurrency);
      expect(ackedBeforeCrash.size).toBeLessThan(produced.length);
      expect(worker.stats().running).toBe(true); // the same worker, never restarted
      const info = await group.info();
      expect(info).toMatchObject({ pending: 0, lastDeliveredId: produced.at(-1), lag: 0 });
    } finally {
      await worker.stop();
      await client.close();
    }
  });
});
