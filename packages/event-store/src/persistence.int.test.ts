import { createStreamClient } from '@streamkit/core';
import { closeTestClient, createTestRedis, startRedis, testPrefix, type RedisServer } from '@streamkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConcurrencyError, createEventStore } from './index.js';

// The fault here is the server's own crash, so this suite runs on a persistent server of its own
// (AOF, fsync always) rather than on the shared standalone and cluster targets.
describe('event store on a persistent server that is SIGKILLed', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis({ appendOnly: true });
  });
  afterAll(async () => {
    await server?.destroy();
  });

  it('keeps every acknowledged append across a SIGKILL and restart', async () => {
    const redis = createTestRedis(server.url, { maxRetriesPerRequest: 2 });
    redis.on('error', () => undefined); // connection errors are expected here
    const prefix = testPrefix();
    const client = createStreamClient({ redis, prefix });
    const store = createEventStore({ client, events: { Counted: z.object({ n: z.number() }) }, partitions: 4 });
    const acked = new Map<string, { version: number; id: string; position: string }[]>();
    let ackedCount = 0;
    let killed = false;
    const unknownOutcomes: string[] = [];

    // Each writer appends to its own stream with the version it expects, and retries an append
    // whose outcome it does not know with the same event id: the store's idempotency makes that safe.
    const writer = async (w: number) => {
      const stream = `w-${w}`;
      const log: { version: number; id: string; position: string }[] = [];
      acked.set(stream, log);
      for (let i = 0; i < 60; i++) {
        const id = `${stream}-e${i}`;
        for (;;) {
          try {
            const result = await store.appendToStream(stream, [{ id, type: 'Counted', data: { n: i } }], { expectedVersion: i === 0 ? 'no_stream' : i - 1 });
            log.push({ version: result.nextExpectedVersion, id, position: result.positions[0]! });
            ackedCount++;
            break;
          } catch (error) {
            if (ConcurrencyError.is(error)) throw error; // would mean a lost or doubled write
            unknownOutcomes.push(id);
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
        }
      }
    };
    const writers = Promise.all(Array.from({ length: 8 }, (_, w) => writer(w)));

    while (ackedCount < 150) await new Promise((resolve) => setTimeout(resolve, 5));
    await server.kill();
    killed = true;
    const ackedBeforeKill = new Map([...acked].map(([stream, log]) => [stream, [...log]]));
    // Keep it down until writers have seen appends fail (their outcome unknown to them).
    while (unknownOutcomes.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    await server.start();

    // Everything acknowledged before the crash is there, at its version and position.
    for (const [stream, log] of ackedBeforeKill) {
      const stored = await store.readStream(stream);
      expect(stored.slice(0, log.length).map((e) => ({ version: e.version, id: e.id, position: e.position }))).toEqual(log);
    }
    await writers;
    expect(killed).toBe(true);
    expect(unknownOutcomes.length).toBeGreaterThan(0);

    // And after the writers finished (retrying through the outage): every stream has each event once.
    for (const [stream, log] of acked) {
      const stored = await store.readStream(stream);
      expect(log.map((e) => e.version)).toEqual(Array.from({ length: 60 }, (_, i) => i));
      expect(stored.map((e) => ({ version: e.version, id: e.id, position: e.position }))).toEqual(log);
      expect(await store.streamVersion(stream)).toBe(59);
    }
    const all: string[] = [];
    let checkpoint: string | undefined;
    for (;;) {
      const page = await store.readAll({ from: checkpoint, maxCount: 200 });
      all.push(...page.events.map((e) => e.id));
      checkpoint = page.checkpoint;
      if (page.isEnd) break;
    }
    expect(all).toHaveLength(8 * 60);
    expect(new Set(all).size).toBe(8 * 60);
    await client.close();
    await closeTestClient(redis);
  }, 60_000);

  it('a subscription rides out the server crash and resumes where it was', async () => {
    const redis = createTestRedis(server.url, { maxRetriesPerRequest: 2 });
    redis.on('error', () => undefined);
    const prefix = testPrefix();
    const client = createStreamClient({ redis, prefix });
    const store = createEventStore({ client, events: { Counted: z.object({ n: z.number() }) }, partitions: 4 });
    const append = async (from: number, count: number) => {
      for (let i = from; i < from + count; i++) {
        for (;;) {
          try {
            await store.appendToStream(`c-${i % 5}`, [{ id: `e-${i}`, type: 'Counted', data: { n: i } }]);
            break;
          } catch {
            await new Promise((resolve) => setTimeout(resolve, 50)); // server down: same id again
          }
        }
      }
    };
    const seen: number[] = [];
    const subscription = store.subscribe({ batchSize: 10, blockMs: 200, handler: (event) => void seen.push(event.data.n) });
    await append(0, 50);
    while (seen.length < 50) await new Promise((resolve) => setTimeout(resolve, 10));
    await server.kill();
    await new Promise((resolve) => setTimeout(resolve, 300)); // the subscription's reads now fail
    await server.start();
    await append(50, 50);
    while (seen.length < 100) await new Promise((resolve) => setTimeout(resolve, 10));
    await subscription.stop();
    // every event once: it resumed from its position, not from the start
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    // and each stream's events in order (across streams, live delivery follows what it finds first)
    for (let s = 0; s < 5; s++) {
      const ofStream = seen.filter((n) => n % 5 === s);
      expect(ofStream).toEqual([...ofStream].sort((a, b) => a - b));
    }
    await client.close();
    await closeTestClient(redis);
  }, 60_000);
});
