/**
 * Event store: the append script against raw XADD, aggregation with and without snapshots against
 * a raw replay, and the merged global-log read against raw paging of its partitions.
 *
 * - append: single-event appends with an expected version, 64 in flight, over 1,000 aggregates
 *   (each aggregate belongs to one of the 64 writers, so no append conflicts). Each append is one
 *   EVALSHA that checks the version and the event id, XADDs to the aggregate stream and to its
 *   global-log partition and advances the version key. Baseline: raw ioredis XADD of the same
 *   JSON data to the same 1,000 keys, 64 in flight; and, for context, a MULTI doing the same writes
 *   (XADD to the stream, XADD to the log, SET of the version) without any check.
 * - aggregateStream of a 10,000-event stream: decode + zod + evolve of every event, and with a
 *   snapshot (loaded, then the events after it). Baseline: ioredis XRANGE paging of the same
 *   stream with JSON.parse and the same evolve, no validation.
 * - readAll: the global log (16 partitions) merged in time order, 1,000 events per call, decoded
 *   and validated. Baseline: ioredis XRANGE paging of each partition in turn, JSON.parse, no merge.
 */
import { Redis } from 'ioredis';
import { z } from 'zod';
import { createStreamClient } from '@streamkit/core';
import { createEventStore } from '@streamkit/event-store';
import { alternate, row, spread } from '../measure.js';
import type { BenchContext, BenchResult } from '../types.js';

const IN_FLIGHT = 64;
const AGGREGATES = 1_000;
const PAGE = 1_000;

const events = {
  Deposited: z.object({ account: z.string(), amount: z.number() }),
  Withdrawn: z.object({ account: z.string(), amount: z.number() }),
};

interface Balance {
  balance: number;
  count: number;
}
const initialState = (): Balance => ({ balance: 0, count: 0 });
const evolve = (state: Balance, event: { type: string; data: { amount: number } }): Balance => ({
  balance: state.balance + (event.type === 'Deposited' ? event.data.amount : -event.data.amount),
  count: state.count + 1,
});

let sink = 0;

/** The aggregate of writer `w`'s `k`-th append: writer w owns aggregates w, w + IN_FLIGHT, … (< AGGREGATES), in turn. */
function aggregateOf(w: number, k: number): number {
  const owned = Math.ceil((AGGREGATES - w) / IN_FLIGHT);
  return w + IN_FLIGHT * (k % owned);
}

/** Runs `total` operations with `inFlight` workers; worker w gets operations w, w + inFlight, … */
async function inFlight(total: number, workers: number, op: (i: number, worker: number) => Promise<void>): Promise<void> {
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      for (let i = w; i < total; i += workers) await op(i, w);
    }),
  );
}

async function deleteByPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}

export default async function run(ctx: BenchContext): Promise<BenchResult[]> {
  const appends = ctx.quick ? 10_000 : 50_000;
  const logSize = ctx.quick ? 20_000 : 100_000;
  const rounds = ctx.quick ? 3 : 5;
  const streamkitRedis = new Redis(ctx.url);
  const ioredis = new Redis(ctx.url);
  const results: BenchResult[] = [];
  let roundNo = 0;

  try {
    // ---- append -------------------------------------------------------------------------------
    const appendPrefix = `${ctx.prefix}append:`;
    const rawPrefix = `${ctx.prefix}raw-append:`;
    const append = await alternate(
      [
        {
          name: 'streamkit',
          before: () => deleteByPrefix(ioredis, appendPrefix),
          run: async () => {
            const client = createStreamClient({ redis: streamkitRedis, prefix: `${appendPrefix}${roundNo++}:` });
            const store = createEventStore({ client, events });
            const versions = new Int32Array(AGGREGATES).fill(-1);
            await inFlight(appends, IN_FLIGHT, async (i, w) => {
              // each aggregate belongs to one writer: its versions are known, no conflicts
              const a = aggregateOf(w, Math.floor(i / IN_FLIGHT));
              const expected = versions[a]!;
              const result = await store.appendToStream(`acct-${a}`, [{ type: 'Deposited', data: { account: `acct-${a}`, amount: i % 100 } }], {
                expectedVersion: expected === -1 ? 'no_stream' : expected,
              });
              versions[a] = result.nextExpectedVersion;
            });
            return appends;
          },
          after: async () => {
            const client = createStreamClient({ redis: streamkitRedis, prefix: `${appendPrefix}${roundNo - 1}:` });
            const store = createEventStore({ client, events });
            const page = await store.readAll({ maxCount: 10 });
            if (page.events.length !== 10) throw new Error('append: the global log is missing events');
          },
        },
        {
          name: 'ioredis',
          before: () => deleteByPrefix(ioredis, rawPrefix),
          run: async () => {
            await inFlight(appends, IN_FLIGHT, async (i, w) => {
              const a = aggregateOf(w, Math.floor(i / IN_FLIGHT));
              await ioredis.xadd(`${rawPrefix}acct-${a}`, '*', 't', 'Deposited', 'd', JSON.stringify({ account: `acct-${a}`, amount: i % 100 }));
            });
            return appends;
          },
        },
        {
          // The same writes without the check: MULTI of XADD to the stream, XADD to the log, SET version.
          name: 'ioredis-multi',
          before: () => deleteByPrefix(ioredis, rawPrefix),
          run: async () => {
            const versions = new Int32Array(AGGREGATES).fill(-1);
            await inFlight(appends, IN_FLIGHT, async (i, w) => {
              const a = aggregateOf(w, Math.floor(i / IN_FLIGHT));
              const version = ++versions[a]!;
              const data = JSON.stringify({ account: `acct-${a}`, amount: i % 100 });
              const tag = `{p${a % 16}}`;
              const replies = await ioredis
                .multi()
                .xadd(`${rawPrefix}${tag}:log`, '*', 's', `acct-${a}`, 'v', String(version), 't', 'Deposited', 'd', data)
                .xadd(`${rawPrefix}${tag}:s:acct-${a}`, `0-${version + 1}`, 't', 'Deposited', 'd', data)
                .set(`${rawPrefix}${tag}:v:acct-${a}`, String(version))
                .exec();
              if (!replies || replies.some(([error]) => error)) throw new Error('MULTI failed');
            });
            return appends;
          },
        },
      ],
      { rounds },
    );
    await deleteByPrefix(ioredis, appendPrefix);
    await deleteByPrefix(ioredis, rawPrefix);
    const ap = append.get('streamkit')!;
    const apIo = append.get('ioredis')!;
    results.push(
      row(
        `event-store: appendToStream, expected version, ${IN_FLIGHT} in flight / ${AGGREGATES.toLocaleString('en-US')} aggregates`,
        ap,
        `ioredis XADD, ${IN_FLIGHT} in flight`,
        apIo,
        `goal ≥ 0.7×; ${spread(ap)} vs ${spread(apIo)}`,
      ),
      row(
        `event-store: appendToStream, expected version, ${IN_FLIGHT} in flight / ${AGGREGATES.toLocaleString('en-US')} aggregates`,
        ap,
        `ioredis MULTI XADD+XADD+SET (same writes, no check), ${IN_FLIGHT} in flight`,
        append.get('ioredis-multi')!,
        `context for the row above; ${spread(ap)} vs ${spread(append.get('ioredis-multi')!)}`,
      ),
    );

    // ---- aggregateStream of 10,000 events ------------------------------------------------------
    const aggPrefix = `${ctx.prefix}agg:`;
    const client = createStreamClient({ redis: streamkitRedis, prefix: aggPrefix });
    const store = createEventStore({ client, events });
    const STREAM = 'big-account';
    const LENGTH = 10_000;
    for (let v = 0; v < LENGTH; v += PAGE) {
      await store.appendToStream(
        STREAM,
        Array.from({ length: PAGE }, (_, i) => ({ type: (v + i) % 5 === 0 ? ('Withdrawn' as const) : ('Deposited' as const), data: { account: STREAM, amount: (v + i) % 50 } })),
      );
    }
    const snapshots = { every: 1_000, schemaVersion: 1 };
    await store.aggregateStream(STREAM, { evolve, initialState, snapshots }); // stores the snapshot at the last version
    const streamKey = store.streamKeys(STREAM).stream;
    const expectCount = (state: Balance) => {
      if (state.count !== LENGTH) throw new Error(`aggregate saw ${state.count} events of ${LENGTH}`);
      sink += state.balance;
    };
    const aggregate = await alternate(
      [
        {
          name: 'replay',
          run: async () => {
            const { state } = await store.aggregateStream(STREAM, { evolve, initialState, snapshots: false });
            expectCount(state);
            return 1;
          },
        },
        {
          name: 'snapshot',
          run: async () => {
            const result = await store.aggregateStream(STREAM, { evolve, initialState, snapshots });
            if (!result.fromSnapshot) throw new Error('the snapshot was not used');
            expectCount(result.state);
            return 1;
          },
        },
        {
          name: 'ioredis',
          run: async () => {
            let state = initialState();
            let start = '-';
            for (;;) {
              const page = await ioredis.xrange(streamKey, start, '+', 'COUNT', PAGE);
              for (const [, fields] of page) {
                let type = '';
                let data = '';
                for (let i = 0; i < fields.length; i += 2) {
                  if (fields[i] === 't') type = fields[i + 1]!;
                  else if (fields[i] === 'd') data = fields[i + 1]!;
                }
                state = evolve(state, { type, data: JSON.parse(data) as { amount: number } });
              }
              if (page.length < PAGE) break;
              start = `(${page[page.length - 1]![0]}`;
            }
            expectCount(state);
            return 1;
          },
        },
      ],
      { rounds },
    );
    const replay = aggregate.get('replay')!;
    const snap = aggregate.get('snapshot')!;
    const aggIo = aggregate.get('ioredis')!;
    results.push(
      row('event-store: aggregateStream, 10,000 events (aggregations/s)', replay, 'ioredis XRANGE paging + JSON.parse + evolve', aggIo, `decode + zod per event; ${spread(replay)} vs ${spread(aggIo)}`),
      row('event-store: aggregateStream, 10,000 events, snapshot (aggregations/s)', snap, 'ioredis XRANGE paging + JSON.parse + evolve', aggIo, `snapshot at the last version; ${spread(snap)}`),
    );
    await deleteByPrefix(ioredis, aggPrefix);

    // ---- readAll ------------------------------------------------------------------------------
    const logPrefix = `${ctx.prefix}log:`;
    const logClient = createStreamClient({ redis: streamkitRedis, prefix: logPrefix });
    const logStore = createEventStore({ client: logClient, events });
    await inFlight(logSize / 100, 16, async (i) => {
      await logStore.appendToStream(
        `acct-${i % AGGREGATES}`,
        Array.from({ length: 100 }, (_, k) => ({ type: 'Deposited' as const, data: { account: `acct-${i % AGGREGATES}`, amount: k } })),
      );
    });
    const partitions = logStore.logKeys();
    const checkAll = async (count: number) => {
      if (count !== logSize) throw new Error(`read ${count} events of ${logSize}`);
    };
    const readAll = await alternate(
      [
        {
          name: 'streamkit',
          after: checkAll,
          run: async () => {
            let count = 0;
            let from: string | undefined;
            for (;;) {
              const page = await logStore.readAll({ from, maxCount: PAGE });
              for (const event of page.events) sink += event.version;
              count += page.events.length;
              from = page.checkpoint;
              if (page.isEnd) break;
            }
            return count;
          },
        },
        {
          name: 'ioredis',
          after: checkAll,
          run: async () => {
            let count = 0;
            for (const key of partitions) {
              let start = '-';
              for (;;) {
                const page = await ioredis.xrange(key, start, '+', 'COUNT', PAGE);
                for (const [, fields] of page) {
                  for (let i = 0; i < fields.length; i += 2) if (fields[i] === 'd') sink += (JSON.parse(fields[i + 1]!) as { amount: number }).amount;
                  count++;
                }
                if (page.length < PAGE) break;
                start = `(${page[page.length - 1]![0]}`;
              }
            }
            return count;
          },
        },
      ],
      { rounds },
    );
    const ra = readAll.get('streamkit')!;
    const raIo = readAll.get('ioredis')!;
    results.push(
      row(
        `event-store: readAll, 16 partitions merged (${logSize.toLocaleString('en-US')} events)`,
        ra,
        'ioredis XRANGE paging per partition, no merge',
        raIo,
        `decode + zod per event; ${spread(ra)} vs ${spread(raIo)}`,
      ),
    );
    await deleteByPrefix(ioredis, logPrefix);
    if (!Number.isFinite(sink)) throw new Error('non-finite checksum');
    return results;
  } finally {
    await deleteByPrefix(ioredis, ctx.prefix).catch(() => undefined);
    await streamkitRedis.quit().catch(() => streamkitRedis.disconnect());
    await ioredis.quit().catch(() => ioredis.disconnect());
  }
}
