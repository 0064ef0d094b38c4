/**
 * Core stream throughput: `addMany` and `iterate` against the same work done with raw ioredis
 * and raw node-redis, on the same server, the same data, interleaved rounds.
 *
 * - addMany: N three-field entries in batches of 1,000, one batch in flight at a time; the raw
 *   clients send each batch as a pipeline of 1,000 XADD.
 * - iterate: reads the same N-entry stream page by page (1,000 per XRANGE). streamkit decodes
 *   and validates every entry with the zod schema; the raw baselines turn each entry's flat field
 *   list into an object of strings (what node-redis does by itself), with no validation.
 */
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { z } from 'zod';
import { createStreamClient } from '@streamkit/core';
import { alternate, row, spread } from '../measure.js';
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
  const rounds = ctx.quick ? 3 : 5;
  const events = makeEvents(total);
  const batches: Event[][] = [];
  for (let i = 0; i < total; i += BATCH) batches.push(events.slice(i, i + BATCH));

  // One connection per contender, each with the client's defaults.
  const streamkitRedis = new Redis(ctx.url);
  const ioredis = new Redis(ctx.url);
  const nodeRedis = createClient({ url: ctx.url });
  await nodeRedis.connect();
  const client = createStreamClient({ redis: streamkitRedis, prefix: ctx.prefix });
  const writeKey = `${ctx.prefix}write`;
  const readKey = `${ctx.prefix}read`;
  const writes = client.stream('write', { schema });
  const reads = client.stream('read', { schema });

  try {
    const fresh = async () => {
      await ioredis.del(writeKey);
    };
    const checkWritten = async () => {
      const length = await ioredis.xlen(writeKey);
      if (length !== total) throw new Error(`expected ${total} entries in ${writeKey}, found ${length}`);
    };
    const add = await alternate(
      [
        {
          name: 'streamkit',
          before: fresh,
          after: checkWritten,
          run: async () => {
            for (const batch of batches) await writes.addMany(batch);
            return total;
          },
        },
        {
          name: 'ioredis',
          before: fresh,
          after: checkWritten,
          run: async () => {
            for (const batch of batches) {
              const pipeline = ioredis.pipeline();
              for (const e of batch) pipeline.xadd(writeKey, '*', 'user', e.user, 'action', e.action, 'amount', String(e.amount));
              const replies = await pipeline.exec();
              const failed = replies?.find(([error]) => error);
              if (failed) throw failed[0];
            }
            return total;
          },
        },
        {
          name: 'node-redis',
          before: fresh,
          after: checkWritten,
          run: async () => {
            for (const batch of batches) {
              const multi = nodeRedis.multi();
              for (const e of batch) multi.xAdd(writeKey, '*', { user: e.user, action: e.action, amount: String(e.amount) });
              await multi.execAsPipeline();
            }
            return total;
          },
        },
      ],
      { rounds },
    );
    await ioredis.del(writeKey);

    // The stream every reader pages through.
    for (const batch of batches) await reads.addMany(batch);
    const checkRead = async (count: number) => {
      if (count !== total) throw new Error(`read ${count} entries of ${total}`);
    };
    const iterate = await alternate(
      [
        {
          name: 'streamkit',
          after: checkRead,
          run: async () => {
            let count = 0;
            for await (const { data } of reads.iterate({ pageSize: PAGE })) {
              sink += data.amount;
              count++;
            }
            return count;
          },
        },
        {
          name: 'ioredis',
          after: checkRead,
          run: async () => {
            let count = 0;
            let start = '-';
            for (;;) {
              const page = await ioredis.xrange(readKey, start, '+', 'COUNT', PAGE);
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
          },
        },
        {
          name: 'node-redis',
          after: checkRead,
          run: async () => {
            let count = 0;
            let start = '-';
            for (;;) {
              const page = await nodeRedis.xRange(readKey, start, '+', { COUNT: PAGE });
              for (const { message } of page) {
                sink += message.amount!.length;
                count++;
              }
              if (page.length < PAGE) break;
              start = `(${page[page.length - 1]!.id}`;
            }
            return count;
          },
        },
      ],
      { rounds },
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
    await writes.destroy().catch(() => undefined);
    await reads.destroy().catch(() => undefined);
    await client.close();
    await streamkitRedis.quit().catch(() => streamkitRedis.disconnect());
    await ioredis.quit().catch(() => ioredis.disconnect());
    await nodeRedis.quit().catch(() => undefined);
  }
}
