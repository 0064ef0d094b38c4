import { createStreamClient, StreamId, type StreamClient } from '@streamkit/core';
import { redisTargets, useRedis } from '@streamkit/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CommandHandler, ConcurrencyError, createEventStore, DeciderSpecification, partitionOf, type EventStore } from './index.js';

const events = {
  Counted: z.object({ n: z.number().int() }),
  Renamed: z.object({ name: z.string() }),
};
type Events = typeof events;
type CounterEvent = { type: 'Counted'; data: { n: number } } | { type: 'Renamed'; data: { name: string } };
interface Counter {
  count: number;
  sum: number;
  name: string;
}
const initialState = (): Counter => ({ count: 0, sum: 0, name: '' });
const evolve = (state: Counter, event: CounterEvent): Counter =>
  event.type === 'Counted' ? { ...state, count: state.count + 1, sum: state.sum + event.data.n } : { ...state, name: event.data.name };

type Command = { type: 'Increment' } | { type: 'Rename'; name: string };
const decide = (command: Command, state: Counter): CounterEvent[] => {
  if (command.type === 'Increment') return [{ type: 'Counted', data: { n: state.count } }];
  if (command.name.length === 0) throw new RangeError('a name cannot be empty');
  if (command.name === state.name) return [];
  return [{ type: 'Renamed', data: { name: command.name } }];
};

describe('DeciderSpecification', () => {
  const spec = DeciderSpecification.for({ decide, evolve, initialState });

  it('checks what a command produces after given events', () => {
    spec.given([]).when({ type: 'Increment' }).then([{ type: 'Counted', data: { n: 0 } }]);
    spec
      .given([
        { type: 'Counted', data: { n: 0 } },
        { type: 'Counted', data: { n: 1 } },
      ])
      .when({ type: 'Increment' })
      .then({ type: 'Counted', data: { n: 2 } });
    spec.given([{ type: 'Renamed', data: { name: 'a' } }]).when({ type: 'Rename', name: 'a' }).thenNothingHappened();
    const error = spec.given().when({ type: 'Rename', name: '' }).thenThrows(RangeError);
    expect((error as Error).message).toBe('a name cannot be empty');
    spec.given().when({ type: 'Rename', name: '' }).thenThrows((e) => e instanceof RangeError);
    expect(spec.given([{ type: 'Counted', data: { n: 5 } }]).when({ type: 'Increment' }).state()).toEqual({ count: 1, sum: 5, name: '' });
  });

  it('fails when the events differ or nothing is thrown', () => {
    expect(() => spec.given().when({ type: 'Increment' }).then([{ type: 'Counted', data: { n: 1 } }])).toThrow(/Expected values to be strictly deep-equal/);
    expect(() => spec.given().when({ type: 'Increment' }).thenThrows()).toThrow(/expected decide to throw/);
    expect(() => spec.given().when({ type: 'Rename', name: '' }).then([])).toThrow(/decide threw: a name cannot be empty/);
    expect(() => spec.given().when({ type: 'Rename', name: '' }).thenThrows(TypeError)).toThrow(/fails the check/);
  });
});

describe.each(redisTargets())('aggregates on %s', (target) => {
  const ctx = useRedis(target);
  let client: StreamClient;
  let store: EventStore<Events>;

  beforeEach(() => {
    client = createStreamClient({ redis: ctx.redis, prefix: ctx.prefix });
    store = createEventStore({ client, events, partitions: 4 });
  });
  afterEach(async () => {
    await client.close();
  });

  const counted = (from: number, count: number) => Array.from({ length: count }, (_, i) => ({ type: 'Counted' as const, data: { n: from + i } }));

  it('snapshots give the same state as a full replay, and other schema versions are ignored', async () => {
    const snapshots = { every: 10, schemaVersion: 1 };
    const snapKey = `${ctx.prefix}{es:main:p${partitionOf('c', 4)}}:snap:c`;
    await store.appendToStream('c', [...counted(0, 24), { type: 'Renamed', data: { name: 'x' } }]);
    const full = await store.aggregateStream('c', { evolve, initialState, snapshots: false });
    expect(full).toMatchObject({ state: { count: 24, sum: 276, name: 'x' }, version: 24, fromSnapshot: false });
    expect(await ctx.redis.exists(snapKey)).toBe(0);

    const first = await store.aggregateStream('c', { evolve, initialState, snapshots });
    expect(first).toEqual(full);
    expect(await ctx.redis.hget(snapKey, 'v')).toBe('24');

    await store.appendToStream('c', counted(24, 5));
    const fromSnap = await store.aggregateStream('c', { evolve, initialState, snapshots });
    const replay = await store.aggregateStream('c', { evolve, initialState, snapshots: false });
    expect(fromSnap.fromSnapshot).toBe(true);
    expect(fromSnap).toEqual({ ...replay, fromSnapshot: true });
    expect(fromSnap.version).toBe(29);
    // fewer than `every` events past the snapshot: no new one
    expect(await ctx.redis.hget(snapKey, 'v')).toBe('24');

    // A snapshot of another schema version is not used (and a fresh one replaces it).
    const other = await store.aggregateStream('c', { evolve, initialState, snapshots: { every: 10, schemaVersion: 2 } });
    expect(other).toEqual(replay);
    expect(await ctx.redis.hget(snapKey, 'sv')).toBe('2');
    expect((await store.aggregateStream('c', { evolve, initialState, snapshots: { every: 10, schemaVersion: 2 } })).fromSnapshot).toBe(true);

    // upTo before the snapshot replays from the start
    const upTo = await store.aggregateStream('c', { evolve, initialState, snapshots: { every: 10, schemaVersion: 2 }, upTo: 9 });
    expect(upTo).toMatchObject({ state: { count: 10, sum: 45 }, version: 9, fromSnapshot: false });

    // A stale or foreign snapshot is refused by the script: wrong position, or a version the stream does not have.
    expect(await store.saveSnapshot('c', { state: initialState(), version: 40, position: '1-1' }, snapshots)).toBe(false);
    expect(await store.saveSnapshot('c', { state: initialState(), version: 28, position: '1-1' }, { every: 1, schemaVersion: 3 })).toBe(false);

    // Deleting the stream drops its snapshot.
    await store.deleteStream('c');
    expect(await ctx.redis.exists(snapKey)).toBe(0);
    expect(await store.aggregateStream('c', { evolve, initialState, snapshots })).toEqual({ state: initialState(), version: -1, streamExists: false, fromSnapshot: false });
  });

  it('does not use a snapshot of a stream that was deleted and started again (as a read racing the delete sees it)', async () => {
    const snapshots = { every: 2, schemaVersion: 1 };
    const snapKey = `${ctx.prefix}{es:main:p${partitionOf('d', 4)}}:snap:d`;
    await store.appendToStream('d', counted(0, 3));
    await store.aggregateStream('d', { evolve, initialState, snapshots });
    const stale = await ctx.redis.hgetall(snapKey);
    expect(stale.v).toBe('2');
    for (const length of [5, 1]) {
      await store.deleteStream('d');
      await store.appendToStream('d', counted(100, length), { expectedVersion: 'no_stream' });
      // What a reader that loaded the snapshot just before the delete holds:
      await ctx.redis.hset(snapKey, stale);
      const result = await store.aggregateStream('d', { evolve, initialState, snapshots });
      const replay = await store.aggregateStream('d', { evolve, initialState, snapshots: false });
      expect(result.state).toEqual(replay.state);
      expect(result).toMatchObject({ version: length - 1, fromSnapshot: false, streamExists: true });
    }
    // deleted, and the stale snapshot read: no stream
    await store.deleteStream('d');
    await ctx.redis.hset(snapKey, stale);
    expect(await store.aggregateStream('d', { evolve, initialState, snapshots })).toMatchObject({ state: initialState(), version: -1, streamExists: false });
  });

  it('upcasts events stored in an old shape, with the same state as a replay of new-shape events', async () => {
    const v1 = createEventStore({ client, events: { Paid: z.object({ order: z.string(), amount_cents: z.number().int() }) }, partitions: 4 });
    await v1.appendToStream('p', [
      { type: 'Paid', data: { order: 'a', amount_cents: 1250 } },
      { type: 'Paid', data: { order: 'b', amount_cents: 99 } },
    ]);
    const v2 = createEventStore({
      client,
      partitions: 4,
      events: {
        Paid: {
          schema: z.object({ order: z.string(), amount: z.number() }),
          version: 2,
          upcast: (data: unknown) => {
            const old = data as { order: string; amount_cents: number };
            return { order: old.order, amount: old.amount_cents / 100 };
          },
        },
      },
    });
    await v2.appendToStream('p', [{ type: 'Paid', data: { order: 'c', amount: 3 } }]);
    await v2.appendToStream('p-new', [
      { type: 'Paid', data: { order: 'a', amount: 12.5 } },
      { type: 'Paid', data: { order: 'b', amount: 0.99 } },
      { type: 'Paid', data: { order: 'c', amount: 3 } },
    ]);
    expect((await v2.readStream('p')).map((e) => e.data)).toEqual([
      { order: 'a', amount: 12.5 },
      { order: 'b', amount: 0.99 },
      { order: 'c', amount: 3 },
    ]);
    const total = (sum: number, e: { data: { amount: number } }) => sum + e.data.amount;
    const upcast = await v2.aggregateStream('p', { evolve: total, initialState: () => 0 });
    const fresh = await v2.aggregateStream('p-new', { evolve: total, initialState: () => 0 });
    expect(upcast.state).toBe(fresh.state);
    // with snapshots too
    const snap = { every: 1, schemaVersion: 'v2' };
    await v2.aggregateStream('p', { evolve: total, initialState: () => 0, snapshots: snap });
    expect(await v2.aggregateStream('p', { evolve: total, initialState: () => 0, snapshots: snap })).toMatchObject({ state: fresh.state, fromSnapshot: true });
    // the old store can no longer read what the new one wrote: a DecodeError naming the entry
    await expect(v1.readStream('p')).rejects.toMatchObject({ code: 'DECODE' });
  });

  it('reads the global log merged across partitions in time order, with checkpoints and filters', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `acct-${i}`);
    const expectedCount = new Map<string, number>();
    for (let round = 0; round < 5; round++) {
      await Promise.all(
        names.map(async (name, i) => {
          const batch = round % 2 === 0 ? counted(round, 1) : [{ type: 'Renamed' as const, data: { name: `${name}-${round}` } }, ...counted(round, i % 3)];
          await store.appendToStream(name, batch);
          expectedCount.set(name, (expectedCount.get(name) ?? 0) + batch.length);
        }),
      );
    }
    await store.appendToStream('other-1', counted(0, 3));
    const total = [...expectedCount.values()].reduce((a, b) => a + b, 0) + 3;
    expect(new Set(names.map((n) => partitionOf(n, 4))).size).toBeGreaterThan(1);

    const seen: { streamName: string; version: number; position: string; partition: number }[] = [];
    let checkpoint: string | undefined;
    for (let pages = 0; pages < 100; pages++) {
      const page = await store.readAll({ from: checkpoint, maxCount: 7 });
      seen.push(...page.events);
      checkpoint = page.checkpoint;
      if (page.isEnd) break;
      expect(page.events.length).toBe(7);
    }
    expect(seen).toHaveLength(total);
    // time order (entry ids; ties broken by partition)
    for (let i = 1; i < seen.length; i++) {
      const order = StreamId.compare(seen[i - 1]!.position, seen[i]!.position);
      expect(order < 0 || (order === 0 && seen[i - 1]!.partition < seen[i]!.partition)).toBe(true);
    }
    // every event once, each stream in version order
    const byStream = new Map<string, number[]>();
    for (const event of seen) byStream.set(event.streamName, [...(byStream.get(event.streamName) ?? []), event.version]);
    for (const [name, versions] of byStream) expect(versions).toEqual(Array.from({ length: name === 'other-1' ? 3 : expectedCount.get(name)! }, (_, i) => i));

    // reading on from the end checkpoint gives only what comes later
    expect((await store.readAll({ from: checkpoint })).events).toEqual([]);
    expect(checkpoint).toBe(await store.endCheckpoint());
    await store.appendToStream('acct-0', counted(100, 1));
    expect((await store.readAll({ from: checkpoint })).events.map((e) => [e.streamName, e.data])).toEqual([['acct-0', { n: 100 }]]);

    const renamed = await store.readAll({ filter: { types: ['Renamed'] }, maxCount: 1000 });
    expect(renamed.events.length).toBe(names.length * 2);
    expect(renamed.events.every((e) => e.type === 'Renamed')).toBe(true);
    const other = await store.readAll({ filter: { streamPrefix: 'other-' } });
    expect(other.events.map((e) => e.version)).toEqual([0, 1, 2]);
    await expect(store.readAll({ from: '0,0' })).rejects.toThrow(/has 2 partitions, the store has 4/);
  });

  it('pages through the global log while events are appended between pages, missing and repeating none', async () => {
    for (let i = 0; i < 8; i++) await store.appendToStream(`s-${i}`, counted(0, 5));
    const seen: string[] = [];
    let checkpoint: string | undefined;
    for (let page = 0; page < 200; page++) {
      const result = await store.readAll({ from: checkpoint, maxCount: 3 });
      seen.push(...result.events.map((e) => `${e.streamName}:${e.version}`));
      checkpoint = result.checkpoint;
      if (page < 10) await store.appendToStream(`s-${page % 8}`, counted(100, 2));
      if (result.isEnd && page >= 10) break;
    }
    const expected = new Set<string>();
    for (let i = 0; i < 8; i++) for (let v = 0; v < (await store.streamVersion(`s-${i}`)) + 1; v++) expected.add(`s-${i}:${v}`);
    expect(seen.length).toBe(expected.size);
    expect(new Set(seen)).toEqual(expected);
    // a second reader starting from the same checkpoints sees the same (the first reader's read-ahead is not shared state)
    const again = await store.readAll({ maxCount: 1000 });
    expect(again.events.map((e) => `${e.streamName}:${e.version}`)).toEqual(seen);
  });

  it('20 writers x 100 commands through CommandHandler give versions 0..1999 with no gap and no duplicate', async () => {
    // 20 writers on one aggregate is the worst case of contention: one writer may lose dozens of
    // races in a row, so allow more retries than the default 100.
    const handle = CommandHandler({ decide, evolve, initialState, snapshots: { every: 100, schemaVersion: 1 }, maxRetries: 1000 });
    let conflicts = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        for (let i = 0; i < 100; i++) {
          const result = await handle(store, 'counter', { type: 'Increment' });
          conflicts += result.attempts - 1;
        }
      }),
    );
    const stored = await store.readStream('counter');
    expect(stored).toHaveLength(2000);
    expect(stored.map((e) => e.version)).toEqual(Array.from({ length: 2000 }, (_, i) => i));
    // each command decided on the latest state: event n carries the count before it
    expect(stored.map((e) => (e.data as { n: number }).n)).toEqual(Array.from({ length: 2000 }, (_, i) => i));
    expect(new Set(stored.map((e) => e.id)).size).toBe(2000);
    expect(conflicts).toBeGreaterThan(0);
    expect(await store.streamVersion('counter')).toBe(1999);
    const state = await store.aggregateStream('counter', { evolve, initialState, snapshots: false });
    expect(state.state.count).toBe(2000);
  }, 120_000);

  it('CommandHandler with event ids from the command: events already in the stream are not applied twice, to the state or its snapshot', async () => {
    const snapshots = { every: 1, schemaVersion: 'ids' };
    const handle = CommandHandler({
      decide: (command: { ids: string[] }) => command.ids.map((id) => ({ type: 'Counted' as const, data: { n: 5 }, id })),
      evolve,
      initialState,
      snapshots,
    });
    const first = await handle(store, 'ids', { ids: ['a'] });
    expect(first).toMatchObject({ nextExpectedVersion: 0, newState: { count: 1, sum: 5 } });
    // The same command again (a retry after a lost reply): nothing is written.
    const again = await handle(store, 'ids', { ids: ['a'] });
    expect(again).toMatchObject({ nextExpectedVersion: 0, newState: { count: 1, sum: 5 } });
    // One event already there, one new: only the new one counts.
    const more = await handle(store, 'ids', { ids: ['a', 'b'] });
    expect(more).toMatchObject({ nextExpectedVersion: 1, newState: { count: 2, sum: 10 } });
    expect(await store.streamVersion('ids')).toBe(1);
    const replay = await store.aggregateStream('ids', { evolve, initialState, snapshots: false });
    const fromSnapshot = await store.aggregateStream('ids', { evolve, initialState, snapshots });
    expect(replay.state).toEqual({ count: 2, sum: 10, name: '' });
    expect(fromSnapshot.state).toEqual(replay.state);
  });

  it('CommandHandler catching up after a conflict notices that the stream was deleted and started again, even when it is now longer', async () => {
    await store.appendToStream('del', [
      { type: 'Counted', data: { n: 0 } },
      { type: 'Counted', data: { n: 1 } },
    ]);
    let calls = 0;
    const handle = CommandHandler({
      decide: (command: Command, state: Counter) => {
        if (calls++ === 0) {
          // While this command is decided, another writer deletes the stream and starts a longer one.
          void store.deleteStream('del');
          void store.appendToStream('del', [100, 100, 100].map((n) => ({ type: 'Counted' as const, data: { n } })), { expectedVersion: 'no_stream' });
        }
        return decide(command, state);
      },
      evolve,
      initialState,
    });
    const result = await handle(store, 'del', { type: 'Increment' });
    expect(result.attempts).toBe(2);
    const replay = await store.aggregateStream('del', { evolve, initialState, snapshots: false });
    expect(replay.version).toBe(3);
    expect(result.nextExpectedVersion).toBe(3);
    expect(result.newState).toEqual(replay.state);
    expect(replay.state).toEqual({ count: 4, sum: 303, name: '' });
  });

  it('CommandHandler gives up after maxRetries and passes domain errors through', async () => {
    const handle = CommandHandler({ decide, evolve, initialState, maxRetries: 0 });
    await handle(store, 'r', { type: 'Rename', name: 'a' });
    await expect(handle(store, 'r', { type: 'Rename', name: '' })).rejects.toThrow(RangeError);
    expect(await handle(store, 'r', { type: 'Rename', name: 'a' })).toMatchObject({ newEvents: [], nextExpectedVersion: 0 });
    // Every writer but one loses with no retries allowed.
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => handle(store, 'r', { type: 'Increment' })));
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.every((f) => ConcurrencyError.is(f.reason))).toBe(true);
    expect(await store.streamVersion('r')).toBe(results.length - failures.length);
  });
});
