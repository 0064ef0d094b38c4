// A writer process for the crash test: appends batches of samples to a series until it is killed.
// Run with: node --conditions=@streamkit/source --import tsx writer.ts <standalone|cluster> <url|nodes JSON> <prefix> <name>
import { createStreamClient } from '@streamkit/core';
import { Cluster, Redis } from 'ioredis';
import { createTimeSeries } from '../index.js';
import { random } from './reference.js';

const [mode, address, prefix, name] = process.argv.slice(2) as [string, string, string, string];
const redis = mode === 'cluster' ? new Cluster(JSON.parse(address) as { host: string; port: number }[]) : new Redis(address);
const client = createStreamClient({ redis, prefix });
const series = createTimeSeries({
  client,
  name,
  fields: ['a', 'b'],
  rollups: [{ bucketMs: 1_000 }, { bucketMs: 60_000 }],
  outOfOrder: 'clamp',
});
const rnd = random(11);
let t = 1_700_000_000_000;
for (let batch = 0; ; batch++) {
  const points = [];
  for (let i = 0; i < 25_000; i++) {
    t += Math.floor(rnd() * 40);
    points.push({ timestamp: t, value: { a: Math.round(rnd() * 1e6) / 100, b: Math.floor(rnd() * 10) } });
  }
  process.stdout.write(`sending ${batch}\n`);
  await series.addMany(points);
  process.stdout.write(`written ${batch}\n`);
}
