// A subscriber in its own process, for the crash tests: it subscribes to the global log under a
// name (so its checkpoint is saved in Redis) and records every event it handles by RPUSHing
// `<stream>:<version>` to a list. The test SIGKILLs it mid-stream and starts it again.
// Environment: ES_REDIS_URL or ES_CLUSTER_NODES (JSON [{host, port}]), ES_PREFIX, ES_PARTITIONS.
import { createStreamClient } from '@streamkit/core';
import { createTestCluster, createTestRedis } from '@streamkit/testing';
import { z } from 'zod';
import { createEventStore } from '../index.js';

const prefix = process.env.ES_PREFIX!;
const redis = process.env.ES_CLUSTER_NODES ? createTestCluster(JSON.parse(process.env.ES_CLUSTER_NODES)) : createTestRedis(process.env.ES_REDIS_URL!);
const client = createStreamClient({ redis, prefix });
const store = createEventStore({ client, events: { Counted: z.object({ n: z.number() }) }, partitions: Number(process.env.ES_PARTITIONS ?? 4) });

const subscription = store.subscribe({
  name: 'crash-test',
  batchSize: 10,
  pollMs: 20,
  blockMs: 500,
  handler: async (event) => {
    await redis.rpush(`${prefix}received`, `${event.streamName}:${event.version}`);
  },
});
subscription.done.then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
process.on('SIGTERM', () => void subscription.stop());
