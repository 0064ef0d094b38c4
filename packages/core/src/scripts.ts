import type { RedisClient } from './connection.js';

/** A server-side script as the build's generator emits it from `name-<numberOfKeys>.lua`. */
export interface LuaScript {
  readonly name: string;
  readonly numberOfKeys: number;
  readonly lua: string;
}

type WithCommands = Record<string, unknown> & {
  defineCommand(name: string, definition: { numberOfKeys: number; lua: string }): void;
};

const commandName = (script: LuaScript) => `streamkit_${script.name}`;

/**
 * Runs a script with EVALSHA, registered once per connection with ioredis `defineCommand`, so it
 * falls back to EVAL when the server has lost its script cache (a restart, a failover). Every key
 * the script touches must be in `keys`, and on a cluster they must share a hash slot.
 *
 * @example
 * ```ts
 * import { runScript } from '@streamkit/core';
 * import { appendEvents } from './scripts/generated/index.js';
 * const reply = await runScript(redis, appendEvents, [streamKey, versionKey], [payload]);
 * ```
 */
export function runScript<T = unknown>(
  redis: RedisClient,
  script: LuaScript,
  keys: readonly string[],
  args: readonly (string | Buffer | number)[],
): Promise<T> {
  if (keys.length !== script.numberOfKeys) {
    throw new TypeError(`script ${script.name} takes ${script.numberOfKeys} keys, got ${keys.length}`);
  }
  const name = commandName(script);
  const target = redis as unknown as WithCommands;
  if (typeof target[name] !== 'function') target.defineCommand(name, { numberOfKeys: script.numberOfKeys, lua: script.lua });
  return (target[name] as (...a: unknown[]) => Promise<T>)(...keys, ...args);
}
