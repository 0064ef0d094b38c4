/**
 * Consumer-group throughput: entries delivered, handled by a no-op handler and acked per second.
 *
 * One stream of N three-field entries (50,000; 10,000 with `--quick`) is written once; every
 * round (10 per contender after a warm-up, 3 with `--quick`, interleaved) reads all of it through a
 * new consumer group created at `0`, so each contender sees the same data. A round ends when
 * every entry has been handled and acked (the worker's `stop()` flushes its last XACK; the
 * round then checks that the group has nothing pending).
 *
 * - streamkit: `group.consume(noop, { concurrency })` with the default `count` of 100.
 * - baseline: a raw ioredis loop of XREADGROUP COUNT 100 (no BLOCK: the data is all there),
 *   the handler called on each entry's field object, then one XACK for the 100 ids.
 */
import { Redis } from 'ioredis';
import { z } from 'zod';
import { createStreamClient, type Entry } from '@streamkit/core';
import { alternate, row, spread, type Contender } from '../measure.js';
import type { BenchContext, BenchResult } from '../types.js';

const COUNT = 100;
const schema = z.object({ user: z.string(), action: z.string(), amount: z.number() });

type RawEntry = [string, string[]];

/** The entries of a one-stream XREADGROUP reply, RESP2 (`[[key, entries]]`) or RESP3 flat (`[key, entries]`). */
function entriesOf(reply: unknown): RawEntry[] {
  if (!Array.isArray(reply) || reply.length === 0) return [];
  if (Array.isArray(reply[0])) return (reply[0] as [string, RawEntry[]])[1] ?? [];
  return (reply[1] as RawEntry[]) ?? [];
}

let handled = 0;
const noop = (entry: Entry<unknown>): void => {
  if (entry.id.length > 0) handled++;
};

export default async function run(ctx: BenchContext): Promise<BenchResult[]> {
  const total = ctx.quick ? 10_000 : 50_000;
  const rounds = ctx.quick ? 3 : 10;
  const redis = new Redis(ctx.url);
  const raw = new Redis(ctx.url);
  const client = createStreamClient({ redis, prefix: ctx.prefix });
  const plain = client.stream('jobs');
  const typed = client.stream('jobs', { schema });
  const key = plain.key;

  try {
    for (let i = 0; i < total; i += 1_000) {
      const batch = [];
      for (let j = i; j < Math.min(total, i + 1_000); j++) batch.push({ user: `user-${j % 5_000}`, action: 'click', amount: String((j % 100_000) / 100) });
      await plain.addMany(batch);
    }

    let groupSeq = 0;
    let group = '';
    const newGroup = async () => {
      group = `g${groupSeq++}`;
      await raw.xgroup('CREATE', key, group, '0');
    };
    const checkAcked = async () => {
      const [pending] = (await raw.xpending(key, group)) as [number];
      const info = (await raw.call('XINFO', 'GROUPS', key)) as unknown[];
      await raw.xgroup('DESTROY', key, group);
      if (Number(pending) !== 0) throw new Error(`group ${group}: ${pending} entries still pending after the round`);
      if (!JSON.stringify(info).includes(group)) throw new Error(`group ${group} vanished`);
    };

    const worker = (name: string, stream: typeof plain | typeof typed, concurrency: number): Contender => ({
      name,
      before: newGroup,
      after: checkAcked,
      run: async () => {
        let seen = 0;
        let finish!: () => void;
        const done = new Promise<void>((resolve) => (finish = resolve));
        const w = stream.group(group).consume(
          (entry: Entry<any>) => {
            noop(entry);
            if (++seen === total) finish();
          },
          { concurrency, count: COUNT, consumer: 'bench', from: '0' },
        );
        const failure = new Promise<never>((_, reject) => w.once('error', reject));
        await Promise.race([done, failure]);
        await w.stop();
        const { processed } = w.stats();
        if (processed !== total) throw new Error(`worker processed ${processed} of ${total}`);
        return processed;
      },
    });

    const results = await alternate(
      [
        worker('c1', plain, 1),
        worker('c64', plain, 64),
        worker('c64-zod', typed, 64),
        {
          name: 'raw',
          before: newGroup,
          after: checkAcked,
          run: async () => {
            let count = 0;
            for (;;) {
              const entries = entriesOf(await raw.xreadgroup('GROUP', group, 'bench', 'COUNT', COUNT, 'STREAMS', key, '>'));
              if (entries.length === 0) break;
              const ids: string[] = new Array(entries.length);
              for (let i = 0; i < entries.length; i++) {
                const [id, fields] = entries[i]!;
                const data: Record<string, string> = {};
                for (let f = 0; f < fields.length; f += 2) data[fields[f]!] = fields[f + 1]!;
                noop({ id, data });
                ids[i] = id;
              }
              await raw.xack(key, group, ...ids);
              count += entries.length;
            }
            return count;
          },
        },
      ],
      { rounds },
    );
    if (handled === 0) throw new Error('no entry reached a handler');

    const base = results.get('raw')!;
    const baseline = `ioredis XREADGROUP COUNT ${COUNT} + XACK loop`;
    const n = total.toLocaleString('en-US');
    const c1 = results.get('c1')!;
    const c64 = results.get('c64')!;
    const c64zod = results.get('c64-zod')!;
    return [
      row(`group.consume no-op, concurrency 1 (${n})`, c1, baseline, base, `goal ≥ 1.0×; ${spread(c1)} vs ${spread(base)}`),
      row(`group.consume no-op, concurrency 64 (${n})`, c64, baseline, base, `goal ≥ 1.0×; ${spread(c64)} vs ${spread(base)}`),
      row(`group.consume no-op + zod, concurrency 64`, c64zod, baseline, base, `schema decode per entry; ${spread(c64zod)}`),
    ];
  } finally {
    await plain.destroy().catch(() => undefined);
    await client.close();
    await redis.quit().catch(() => redis.disconnect());
    await raw.quit().catch(() => raw.disconnect());
  }
}
