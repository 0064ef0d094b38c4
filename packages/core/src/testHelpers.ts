/**
 * Helpers for this package's integration tests (not exported). They observe the real client;
 * nothing here stands in for Redis.
 */
import { createTestCluster, createTestRedis, type RedisTarget } from '@streamkit/testing';
import type { Cluster, Redis } from 'ioredis';
import type { RedisClient } from './connection.js';

/** One command as the client handed it to its connection. */
export interface SentCommand {
  name: string;
  args: string[];
}

/**
 * Records every command `redis` sends until `stop()`: the name (upper case) and the arguments
 * as text. It wraps the client's own `sendCommand`, which still sends everything to Redis.
 */
export function recordCommands(redis: RedisClient): { commands: SentCommand[]; names(): string[]; stop(): void } {
  const commands: SentCommand[] = [];
  const target = redis as unknown as { sendCommand: (command: { name: string; args: unknown[] }, ...rest: unknown[]) => unknown };
  const original = target.sendCommand;
  target.sendCommand = function (this: unknown, command, ...rest) {
    commands.push({ name: command.name.toUpperCase(), args: command.args.map((arg) => (Buffer.isBuffer(arg) ? `<${arg.length} bytes>` : String(arg))) });
    return original.call(this, command, ...rest);
  };
  return {
    commands,
    names: () => commands.map((command) => command.name),
    stop: () => {
      target.sendCommand = original;
    },
  };
}

/** The master nodes of a cluster (after a slot map refresh, so replicas are not counted), or the standalone client itself. */
export async function mastersOf(redis: Redis | Cluster): Promise<Redis[]> {
  if (!redis.isCluster) return [redis as Redis];
  const cluster = redis as Cluster;
  await new Promise<void>((resolve, reject) => cluster.refreshSlotsCache((error) => (error ? reject(error) : resolve())));
  return cluster.nodes('master');
}

/** Kills (CLIENT KILL ID) every connection named `name` on every master; returns how many. */
export async function killConnectionsNamed(redis: Redis | Cluster, name: string): Promise<number> {
  let killed = 0;
  for (const node of await mastersOf(redis)) {
    for (const client of await clientsNamed(node, name)) {
      killed += Number(await node.call('CLIENT', ['KILL', 'ID', client.id!]));
    }
  }
  return killed;
}

/** Resolves once `check` returns true, polling every `everyMs`; throws after `timeoutMs`. */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000, everyMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Settles within `ms`: 'pending' when the promise has not settled by then. */
export async function stateWithin<T>(promise: Promise<T>, ms: number): Promise<'pending' | 'settled'> {
  let timer: NodeJS.Timeout | undefined;
  const pending = new Promise<'pending'>((resolve) => (timer = setTimeout(() => resolve('pending'), ms)));
  const settled = promise.then(
    () => 'settled' as const,
    () => 'settled' as const,
  );
  try {
    return await Promise.race([settled, pending]);
  } finally {
    clearTimeout(timer);
  }
}

/** The clients named `name` on every master, as CLIENT LIST fields. */
export async function clientsNamed(redis: Redis | Cluster, name: string): Promise<Record<string, string>[]> {
  const found: Record<string, string>[] = [];
  for (const node of await mastersOf(redis)) {
    const list = (await node.call('CLIENT', ['LIST', 'TYPE', 'normal'])) as string;
    for (const line of list.split('\n')) {
      const fields = Object.fromEntries(
        line
          .trim()
          .split(' ')
          .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)] as const),
      );
      if (fields.name === name) found.push(fields);
    }
  }
  return found;
}

/** Resolves once a client named `name` is blocked in a command (CLIENT LIST flag `b`). */
export function waitBlocked(redis: Redis | Cluster, name: string, what = `a blocked client named ${name}`): Promise<void> {
  return waitFor(async () => (await clientsNamed(redis, name)).some((client) => client.flags?.includes('b')), what);
}

/** A new client for `target` whose connections carry CLIENT SETNAME `name` (blocking duplicates: `<name>:blocking`). */
export function connectNamed(target: RedisTarget, name: string): Redis | Cluster {
  return target.name === 'cluster'
    ? createTestCluster(target.startupNodes!, { redisOptions: { connectionName: name } })
    : createTestRedis(target.url!, { connectionName: name });
}
