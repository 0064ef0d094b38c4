// Records this machine's CPU every second into Redis and serves the dashboard.
// REDIS_URL (default redis://127.0.0.1:6379), PORT (default 3000), SEED_HOURS (default 0).
import { createStreamClient } from '@streamkit/core';
import { startApp } from './app.js';

const client = createStreamClient({ redis: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', prefix: process.env.PREFIX ?? 'cpu-monitor:' });
const app = await startApp({ client, port: Number(process.env.PORT ?? 3000), seedHours: Number(process.env.SEED_HOURS ?? 0) });
console.log(`cpu-monitor: recording every second, dashboard at ${app.dashboard.url}`);
const shutdown = async () => {
  await app.stop();
  await client.close();
  process.exit(0);
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
