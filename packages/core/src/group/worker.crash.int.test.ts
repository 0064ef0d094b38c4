import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { redisTargets, useRedis } from '@streamkit/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createStreamClient, type StreamClient } from '../client.js';
import { waitFor } from './fixtures/helpers.js';

const fixture = fileURLToPath(new URL('./fixtures/crashWorker.ts', import.meta.url));
const packageRoot = fileURLToPath(new URL('../..', import.meta.url));

describe.each(redisTargets())('a worker SIGKILLed mid-batch on %s', (target) => {
  const ctx = useRedis(target);
  let child: ChildProcess | undefined;
  let client: StreamClient | undefined;
  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    child = undefined;
    await client?.close();
  });

  it('another worker reclaims its entries: every entry processed, only those in flight at the kill twice', async () => {
    client = createStreamClient({ redis: ctx.redis, prefix: ctx.prefix });
    const stream = client.stream('jobs');
    const group = stream.group('g');
    await group.create({ from: '0' });
    const produced = await stream.addMany(Array.from({ length: 150 }, (_, n) => ({ n: String(n) })));
    const started = ctx.key('started');
    const done = ctx.key('done');

    child = spawn(process.execPath, ['--conditions=@streamkit/source', '--import', 'tsx', fixture], {
      cwd: packageRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        ...process.env,
        SK_CRASH_WORKER: JSON.stringify({
          url: target.url,
          nodes: target.startupNodes,
          prefix: ctx.prefix,
          stream: 'jobs',
          group: 'g',
          consumer: 'victim',
          started,
          done,
          handlerMs: 40,
          concurrency: 4,
          count: 8,
        }),
      },
    });
    const exited = once(child, 'exit');
    let out = '';
    child.stdout!.on('data', (chunk) => (out += String(chunk)));
    await waitFor('the child worker to start', () => out.includes('ready'), 20_000);
    await waitFor('the child to finish 20 entries', async () => (await ctx.redis.llen(done)) >= 20);

    // A second worker shares the group from here on, and takes over what the victim leaves idle.
    const rescued = new Map<string, number>();
    const rescuer = group.consume((entry) => void rescued.set(entry.id, (rescued.get(entry.id) ?? 0) + 1), {
      consumer: 'rescuer',
      claimIdleMs: 1000,
      concurrency: 4,
      count: 10,
      blockMs: 300,
    });
    try {
      // Kill while handlers are running: some entries started and not done.
      await waitFor('handlers in flight in the child', async () => (await ctx.redis.llen(started)) > (await ctx.redis.llen(done)));
      child.kill('SIGKILL');
      await exited;

      const childStarted = new Set(await ctx.redis.lrange(started, 0, -1));
      const childDone = new Set(await ctx.redis.lrange(done, 0, -1));
      // What the victim had not acked, as Redis tells it: in flight, finished but not yet acked, or delivered and not started.
      const left = new Set((await group.pendingEntries({ consumer: 'victim', count: 1000 })).map((p) => p.id));
      const inFlight = [...childStarted].filter((id) => left.has(id));
      expect([...childStarted].filter((id) => !childDone.has(id)).every((id) => left.has(id))).toBe(true);
      expect(inFlight.length).toBeGreaterThan(0);

      await waitFor('every entry processed and the pending list empty', async () => {
        const all = produced.every((id) => childDone.has(id) || rescued.has(id));
        return all && (await group.pending()).count === 0;
      });

      // The handler ran twice for exactly the entries in flight at the kill (started, not acked).
      const startedTwice = [...childStarted].filter((id) => rescued.has(id));
      expect(startedTwice.sort()).toEqual(inFlight.sort());
      const twice = [...childDone].filter((id) => rescued.has(id));
      expect(twice.every((id) => left.has(id))).toBe(true);
      // Each entry the victim left is processed by the rescuer, once.
      expect([...left].every((id) => rescued.get(id) === 1)).toBe(true);
      // Nothing the victim acked was processed again; the rescuer processed nothing twice.
      expect([...childDone].filter((id) => !left.has(id)).some((id) => rescued.has(id))).toBe(false);
      expect([...rescued.values()].every((times) => times === 1)).toBe(true);
      expect(rescuer.stats().claimed).toBe(left.size);
      expect(twice.length).toBeLessThanOrEqual(inFlight.length);
    } finally {
      await rescuer.stop();
    }
  });
});
