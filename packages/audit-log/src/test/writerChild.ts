// A writer process for the concurrency test: records COUNT entries with CONCURRENCY in flight.
// Usage: node --conditions=@streamkit/source --import tsx writerChild.ts <target json> <prefix> <name> <writer> <count> <concurrency>
import { Cluster, Redis } from 'ioredis';
import { createStreamClient } from '@streamkit/core';
import { createAuditLog } from '../index.js';

const [targetJson, prefix, name, writer, countText, concurrencyText] = process.argv.slice(2);
const target = JSON.parse(targetJson!) as { url?: string; nodes?: { host: string; port: number }[] };
const redis = target.nodes ? new Cluster(target.nodes, { scaleReads: 'master' }) : new Redis(target.url!);
const client = createStreamClient({ redis, prefix: prefix! });
const log = createAuditLog({ client, name: name! });
const count = Number(countText);
const concurrency = Number(concurrencyText);

let next = 0;
async function worker(): Promise<void> {
  while (next < count) {
    const n = next++;
    await log.record({ actor: `writer:${writer}`, action: 'write', resource: `doc:${n % 10}`, details: { n } });
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
await client.close();
redis.disconnect();
process.stdout.write('done\n');
