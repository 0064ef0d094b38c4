/**
 * `@streamkit/audit-log` against the raw Redis work it is built on, same server, same data, same run.
 *
 * - record: 8 concurrent writers, each its own AuditLog on its own connection (as 8 processes
 *   would be), each with 16 records in flight, all appending to one hash chain with the
 *   compare-and-set script (which also writes 2 index entries per record); against 8
 *   connections doing raw XADD of the same entries (the canonical entry JSON as one field, and
 *   the same seq/prev/hash fields) with 16 in flight each. Goal ≥ 0.5×.
 * - verify: the whole log (hashes, links, checkpoints, counters, index lengths; also with
 *   `indexes: 'full'` and with `indexes: false`) against raw ioredis XRANGE paging of the same
 *   log (1,000 per page, each page awaited, fields turned into objects): reading is the floor
 *   that verification cannot go under. Goal ≥ 0.5×.
 * - byActor: all entries of one actor among 1,000 in a large log, from the actor's index
 *   stream, against scanning the log with XRANGE pages filtered in the client. Goal ≥ 100×.
 *   Log size: 1,000,000 entries in full mode (filled with `record` before measuring), 20,000 with `--quick`.
 */
import { Redis } from 'ioredis';
import { createStreamClient } from '@streamkit/core';
import { createAuditLog, type AuditLog } from '@streamkit/audit-log';
import { alternate, row, spread } from '../measure.js';
import type { BenchContext, BenchResult } from '../types.js';

const WRITERS = 8;
const IN_FLIGHT = 16;
const PAGE = 1_000;
const ACTORS = 1_000;

const entryOf = (i: number) => ({
  actor: `user:${i % ACTORS}`,
  action: ['document.read', 'document.update', 'document.delete'][i % 3]!,
  resource: `document:${i % 5_000}`,
  ip: `10.0.${(i >> 8) & 255}.${i & 255}`,
  details: { n: i },
});

let sink = 0;

async function parallel(count: number, inFlight: number, work: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

/** Fills a log with `count` records as fast as one writer with many in flight goes. */
async function fill(log: AuditLog, count: number, offset = 0): Promise<void> {
  await parallel(count, 256, (i) => log.record(entryOf(offset + i)));
}

async function scanFor(redis: Redis, key: string, actor: string): Promise<number> {
  let start = '-';
  let found = 0;
  for (;;) {
    const page = (await redis.call('XRANGE', key, start, '+', 'COUNT', PAGE)) as [string, string[]][];
    for (const [, fields] of page) {
      const entry = fields[7]!;
      if (entry.includes(`"actor":"${actor}"`)) found++;
    }
    if (page.length < PAGE) return found;
    start = `(${page[page.length - 1]![0]}`;
  }
}

export default async function run(ctx: BenchContext): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const perRound = ctx.quick ? 8_000 : 16_000;
  const rounds = ctx.quick ? 3 : 5;
  const connections = Array.from({ length: WRITERS }, () => new Redis(ctx.url));
  const admin = new Redis(ctx.url);
  const clients = connections.map((redis) => createStreamClient({ redis, prefix: ctx.prefix }));
  try {
    // record: 8 writers on one chain vs 8 raw XADD connections.
    let roundNo = 0;
    const writers = clients.map((client) => createAuditLog({ client, name: 'bench-record' }));
    const rawKey = `${ctx.prefix}raw-record`;
    const sample = writers[0]!;
    const recordSamples = await alternate(
      [
        {
          name: 'record',
          run: async () => {
            const base = roundNo++ * perRound;
            const share = perRound / WRITERS;
            await Promise.all(writers.map((log, w) => parallel(share, IN_FLIGHT, (i) => log.record(entryOf(base + w * share + i)))));
            return perRound;
          },
        },
        {
          name: 'xadd',
          run: async () => {
            const base = roundNo * perRound;
            const share = perRound / WRITERS;
            await Promise.all(
              connections.map((redis, w) =>
                parallel(share, IN_FLIGHT, (i) => {
                  const n = base + w * share + i;
                  const e = entryOf(n);
                  const json = JSON.stringify({ ...e, id: `${Date.now()}-0`, outcome: 'success', time: Date.now() });
                  return redis.call('XADD', rawKey, '*', 'seq', String(n + 1), 'prev', 'f'.repeat(64), 'hash', 'e'.repeat(64), 'entry', json);
                }),
              ),
            );
            return perRound;
          },
        },
      ],
      { rounds, warmup: 1 },
    );
    const verifyAfterRecord = await sample.verify();
    if (!verifyAfterRecord.ok) throw new Error(`record bench: the chain does not verify: ${verifyAfterRecord.problems[0]?.message}`);
    results.push(
      row(`audit-log record (${WRITERS} writers x ${IN_FLIGHT} in flight, one chain)`, recordSamples.get('record')!, `raw XADD (${WRITERS} connections x ${IN_FLIGHT})`, recordSamples.get('xadd')!, `goal >= 0.5x; ${spread(recordSamples.get('record')!)}; chain of ${verifyAfterRecord.checked} verified clean`),
    );
    await sample.destroy();
    await admin.del(rawKey);

    // verify: the whole log vs reading it.
    const verifyCount = ctx.quick ? 20_000 : 200_000;
    const verifyLog = createAuditLog({ client: clients[0]!, name: 'bench-verify' });
    await fill(verifyLog, verifyCount);
    const reader = connections[1]!;
    const verifySamples = await alternate(
      [
        {
          name: 'verify',
          run: async () => {
            const result = await verifyLog.verify();
            if (!result.ok) throw new Error(`verify bench: ${result.problems[0]?.message}`);
            return result.checked;
          },
        },
        {
          name: 'verify-full-index',
          run: async () => (await verifyLog.verify({ indexes: 'full' })).checked,
        },
        {
          name: 'verify-no-index',
          run: async () => (await verifyLog.verify({ indexes: false })).checked,
        },
        {
          name: 'xrange',
          run: async () => {
            let start = '-';
            let read = 0;
            for (;;) {
              const page = (await reader.call('XRANGE', verifyLog.keys.log, start, '+', 'COUNT', PAGE)) as [string, string[]][];
              for (const [, fields] of page) {
                const object: Record<string, string> = {};
                for (let i = 0; i < fields.length; i += 2) object[fields[i]!] = fields[i + 1]!;
                sink += object.seq!.length;
              }
              read += page.length;
              if (page.length < PAGE) return read;
              start = `(${page[page.length - 1]![0]}`;
            }
          },
        },
      ],
      { rounds: ctx.quick ? 2 : 3, warmup: 1 },
    );
    results.push(
      row(`audit-log verify (whole log of ${verifyCount.toLocaleString('en-US')}, default)`, verifySamples.get('verify')!, 'raw XRANGE paging (1,000/page)', verifySamples.get('xrange')!, `goal >= 0.5x; entries/s; chain, counters, index lengths; ${spread(verifySamples.get('verify')!)}`),
      row(`audit-log verify (whole log of ${verifyCount.toLocaleString('en-US')}, indexes: 'full')`, verifySamples.get('verify-full-index')!, 'raw XRANGE paging (1,000/page)', verifySamples.get('xrange')!, 'every index entry folded on the server; entries/s'),
      row(`audit-log verify (whole log of ${verifyCount.toLocaleString('en-US')}, chain only)`, verifySamples.get('verify-no-index')!, 'raw XRANGE paging (1,000/page)', verifySamples.get('xrange')!, 'indexes: false; entries/s'),
    );

    // byActor: one actor among 1,000 in a large log vs scanning it. The verify log is reused and grown.
    const large = ctx.quick ? 20_000 : 1_000_000;
    if (large > verifyCount) await fill(verifyLog, large - verifyCount, verifyCount);
    const length = await verifyLog.length();
    let which = 0;
    const queryRounds = ctx.quick ? 3 : 3;
    const bySamples = await alternate(
      [
        {
          name: 'byActor',
          run: async () => {
            // Many queries per round so the round is long enough to time.
            let found = 0;
            for (let q = 0; q < 50; q++) found += (await verifyLog.byActor(`user:${(which + q) % ACTORS}`)).length;
            if (found !== 50 * (length / ACTORS)) throw new Error(`byActor bench: found ${found} entries`);
            which += 50;
            return 50;
          },
        },
        {
          name: 'scan',
          run: async () => {
            const found = await scanFor(reader, verifyLog.keys.log, `user:${which % ACTORS}`);
            if (found !== length / ACTORS) throw new Error(`scan bench: found ${found} entries`);
            return 1;
          },
        },
      ],
      { rounds: queryRounds, warmup: 1 },
    );
    results.push(
      row(`audit-log byActor (1 of 1,000 actors, ${length.toLocaleString('en-US')}-entry log)`, bySamples.get('byActor')!, 'XRANGE scan filtered in the client', bySamples.get('scan')!, `goal >= 100x; queries/s, ${length / ACTORS} entries each`),
    );
    await verifyLog.destroy();
  } finally {
    for (const client of clients) await client.close();
    for (const redis of connections) redis.disconnect();
    admin.disconnect();
  }
  if (sink < 0) console.log(sink);
  return results;
}
