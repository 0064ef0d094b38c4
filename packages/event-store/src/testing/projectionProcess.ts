// A projection in its own process, for the crash tests: it records every event it handles by
// RPUSHing `<stream>:<version>` to a list, under a fixed consumer name, so a restarted process
// takes over what the killed one had pending. The test SIGKILLs it mid-stream and starts it again.
// Environment: ES_REDIS_URL or ES_CLUSTER_NODES (JSON [{host, port}]), ES_PREFIX, ES_PARTITIONS.
import { createStreamClient } from '@streamkit/core';
import { createTestCluster, createTestRedis } from '@streamkit/testing';
import { z } from 'zod';
import { createEventStore } from '../index.js';

const prefix = process.env.ES_PREFIX!;
const redis = process.env.ES_CLUSTER_NODES ? createTestCluster(JSON.parse(process.env.ES_CLUSTER_NODES)) : createTestRedis(process.env.ES_REDIS_URL!);
const client = createStreamClient({ redis, prefix });
const store = createEventStore({ client, events: { Counted: z.object({ n: z.number() }) }, partitions: Number(process.env.ES_PARTITIONS ?? 4) });

const projection = store.projection({
  name: 'crash-test',
  consumer: 'projector-1',
  blockMs: 200,
  handle: async (event) => {
    await redis.rpush(`${prefix}projected`, `${event.streamName}:${event.version}`);
  },
});
await projection.start();
process.on('SIGTERM', () => void projection.stop().then(() => process.exit(0)));
