// `npm run demo --workspace apps/orders`: the orders walk-through against REDIS_URL, or a
// redis-server it starts itself.
import { startRedis } from '@streamkit/testing';
import { runDemo } from './demo.js';

const server = process.env.REDIS_URL ? undefined : await startRedis();
try {
  await runDemo({ redisUrl: process.env.REDIS_URL ?? server!.url });
} finally {
  await server?.destroy();
}
