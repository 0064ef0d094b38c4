// A projection in its own process, for the crash tests: it records every event it handles by
// RPUSHing `<stream>:<version>` to a list, under a fixed consumer name (so a restarted process
// takes over what the killed one had pending), or with ES_DEFAULT_CONSUMER=1 under the default
// per-process name (the restarted process claims the killed one's pending events once idle).
// The test SIGKILLs it mid-stream and starts it again.
// Environment: ES_REDIS_URL or ES_CLUSTER_NODES (JSON [{host, port}]), ES_PREFIX, ES_PARTITIONS, ES_DEFAULT_CONSUMER.
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
  ...(process.env.ES_DEFAULT_CONSUMER ? { claimIdleMs: 1500 } : { consumer: 'projector-1' }),
  blockMs: 200,
  handle: async (event) => {
    await redis.rpush(`${prefix}projected`, `${event.streamName}:${event.version}`);
  },
});
await projection.start();
process.on('SIGTERM', () => void projection.stop().then(() => process.exit(0)));
