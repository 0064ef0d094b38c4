/**
 * Core stream throughput: `addMany` and `iterate` against the same work done with raw ioredis
 * and raw node-redis, on the same server, the same data, interleaved.
 *
 * - addMany: N three-field entries in batches of 1,000, one batch in flight at a time; the raw
 *   clients send each batch as a pipeline of 1,000 XADD.
 * - iterate: reads the same N-entry stream page by page (1,000 per XRANGE). streamkit decodes
 *   and validates every entry with the zod schema; the raw baselines turn each entry's flat field
 *   list into an object of strings (what node-redis does by itself), with no validation.
 *
 * The N entries are measured in slices of N/10 (20 batches, or 20 pages; N/2 with `--quick`), the contenders taking
 * turns slice by slice, so that a busy moment of the machine hits them all alike; a row is the
 * median over the slices of 5 passes (3 with `--quick`) after one warm-up pass.
 */
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { z } from 'zod';
import { createStreamClient, type Stream } from '@streamkit/core';
import { alternate, row, spread, type Contender } from '../measure.js';
import type { BenchContext, BenchResult } from '../types.js';

const BATCH = 1_000;
const PAGE = 1_000;

const schema = z.object({ user: z.string(), action: z.string(), amount: z.number() });
type Event = z.input<typeof schema>;

const ACTIONS = ['view', 'click', 'buy'] as const;

function makeEvents(count: number): Event[] {
  const events: Event[] = new Array(count);
  for (let i = 0; i < count; i++) events[i] = { user: `user-${i % 5_000}`, action: ACTIONS[i % 3]!, amount: (i % 100_000) / 100 };
  return events;
}

/** Keeps the readers' work observable, so nothing is optimised away. */
let sink = 0;

export default async function run(ctx: BenchContext): Promise<BenchResult[]> {
  const total = ctx.quick ? 20_000 : 200_000;
  const passes = ctx.quick ? 3 : 5;
  const SLICES = ctx.quick ? 2 : 10;
  const sliceSize = total / SLICES;
  const events = makeEvents(total);
  const batches: Event[][] = [];
  for (let i = 0; i < total; i += BATCH) batches.push(events.slice(i, i + BATCH));
  const batchesPerSlice = sliceSize / BATCH;

  // One connection per contender, each with the client's defaults.
  const streamkitRedis = new Redis(ctx.url);
  const ioredis = new Redis(ctx.url);
  const nodeRedis = createClient({ url: ctx.url });
  await nodeRedis.connect();
  const client = createStreamClient({ redis: streamkitRedis, prefix: ctx.prefix });
  const readKey = `${ctx.prefix}read`;
  const reads = client.stream('read', { schema });

  try {
    // addMany: each contender writes slice after slice of the N entries to its own stream; when
    // a stream holds all N they are checked and it starts again empty (untimed).
    const writer = (name: string, write: (key: string, batch: Event[]) => Promise<void>): Contender => {
      const key = `${ctx.prefix}write:${name}`;
      let slice = 0;
      return {
        name,
        before: async () => {
          if (slice === SLICES) {
            const length = await ioredis.xlen(key);
            if (length !== total) throw new Error(`${name}: expected ${total} entries in ${key}, found ${length}`);
            slice = 0;
          }
          if (slice === 0) await ioredis.del(key);
        },
        run: async () => {
          const first = slice * batchesPerSlice;
          for (let b = first; b < first + batchesPerSlice; b++) await write(key, batches[b]!);
          slice++;
          return sliceSize;
        },
      };
    };
    const writes = new Map<string, Stream<z.output<typeof schema>, Event>>();
    const add = await alternate(
      [
        writer('streamkit', async (key, batch) => {
          let stream = writes.get(key);
          if (!stream) writes.set(key, (stream = client.stream(key.slice(ctx.prefix.length), { schema })));
          await stream.addMany(batch);
        }),
        writer('ioredis', async (key, batch) => {
          const pipeline = ioredis.pipeline();
          for (const e of batch) pipeline.xadd(key, '*', 'user', e.user, 'action', e.action, 'amount', String(e.amount));
          const replies = await pipeline.exec();
          const failed = replies?.find(([error]) => error);
          if (failed) throw failed[0];
        }),
        writer('node-redis', async (key, batch) => {
          const multi = nodeRedis.multi();
          for (const e of batch) multi.xAdd(key, '*', { user: e.user, action: e.action, amount: String(e.amount) });
          await multi.execAsPipeline();
        }),
      ],
      { rounds: passes * SLICES, warmup: SLICES },
    );
    for (const name of ['streamkit', 'ioredis', 'node-redis']) await ioredis.del(`${ctx.prefix}write:${name}`);

    // iterate: the stream every reader pages through, read slice by slice between known ids.
    const ids: string[] = [];
    for (const batch of batches) ids.push(...(await reads.addMany(batch)));
    const reader = (name: string, read: (from: string, to: string) => Promise<number>): Contender => {
      let slice = 0;
      return {
        name,
        run: async () => {
          const from = ids[slice * sliceSize]!;
          const to = ids[(slice + 1) * sliceSize - 1]!;
          slice = (slice + 1) % SLICES;
          return read(from, to);
        },
        after: async (count) => {
          if (count !== sliceSize) throw new Error(`${name}: read ${count} entries of a ${sliceSize}-entry slice`);
        },
      };
    };
    const iterate = await alternate(
      [
        reader('streamkit', async (from, to) => {
          let count = 0;
          for await (const { data } of reads.iterate({ from, to, pageSize: PAGE })) {
            sink += data.amount;
            count++;
          }
          return count;
        }),
        reader('ioredis', async (from, to) => {
          let count = 0;
          let start = from;
          for (;;) {
            const page = await ioredis.xrange(readKey, start, to, 'COUNT', PAGE);
            for (const [, fields] of page) {
              const data: Record<string, string> = {};
              for (let i = 0; i < fields.length; i += 2) data[fields[i]!] = fields[i + 1]!;
              sink += data.amount!.length;
              count++;
            }
            if (page.length < PAGE) break;
            start = `(${page[page.length - 1]![0]}`;
          }
          return count;
        }),
        reader('node-redis', async (from, to) => {
          let count = 0;
          let start = from;
          for (;;) {
            const page = await nodeRedis.xRange(readKey, start, to, { COUNT: PAGE });
            for (const { message } of page) {
              sink += message.amount!.length;
              count++;
            }
            if (page.length < PAGE) break;
            start = `(${page[page.length - 1]!.id}`;
          }
          return count;
        }),
      ],
      { rounds: passes * SLICES, warmup: SLICES },
    );

    if (!Number.isFinite(sink)) throw new Error('the readers produced a non-finite checksum');
    const sk = add.get('streamkit')!;
    const io = add.get('ioredis')!;
    const nr = add.get('node-redis')!;
    const it = iterate.get('streamkit')!;
    const itIo = iterate.get('ioredis')!;
    const itNr = iterate.get('node-redis')!;
    const n = total.toLocaleString('en-US');
    return [
      row(`core: addMany ×${BATCH} (${n} entries)`, sk, 'ioredis pipeline XADD', io, `goal ≥ 2.0×; ${spread(sk)} vs ${spread(io)}`),
      row(`core: addMany ×${BATCH} (${n} entries)`, sk, 'node-redis execAsPipeline XADD', nr, `goal ≥ 1.0×; ${spread(sk)} vs ${spread(nr)}`),
      row(`core: iterate + zod decode (page ${PAGE})`, it, 'ioredis XRANGE paging', itIo, `goal ≥ 1.0×; ${spread(it)} vs ${spread(itIo)}`),
      row(`core: iterate + zod decode (page ${PAGE})`, it, 'node-redis xRange paging', itNr, `${spread(it)} vs ${spread(itNr)}`),
    ];
  } finally {
    await reads.destroy().catch(() => undefined);
    await client.close();
    await streamkitRedis.quit().catch(() => streamkitRedis.disconnect());
    await ioredis.quit().catch(() => ioredis.disconnect());
    await nodeRedis.quit().catch(() => undefined);
  }
}
