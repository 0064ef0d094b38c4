import type { RedisClient } from './connection.js';

/** A server-side script as the build's generator emits it from `name-<numberOfKeys>.lua`. */
export interface LuaScript {
  readonly name: string;
  /** `null` for a script whose number of keys varies per call (`name-n.lua`). */
  readonly numberOfKeys: number | null;
  readonly lua: string;
}

type WithCommands = Record<string, unknown> & {
  defineCommand(name: string, definition: { numberOfKeys?: number; lua: string }): void;
};

const commandName = (script: LuaScript) => `streamkit_${script.name}`;

/**
 * Runs a script with EVALSHA, registered once per connection with ioredis `defineCommand`, so it
 * falls back to EVAL when the server has lost its script cache (a restart, a failover). Every key
 * the script touches must be in `keys`, and on a cluster they must share a hash slot. A variadic
 * script (`numberOfKeys: null`) takes any number of keys.
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
  if (script.numberOfKeys !== null && keys.length !== script.numberOfKeys) {
    throw new TypeError(`script ${script.name} takes ${script.numberOfKeys} keys, got ${keys.length}`);
  }
  const command = (redis as unknown as WithCommands)[defineScript(redis, script)] as (...a: unknown[]) => Promise<T>;
  return script.numberOfKeys === null ? command.call(redis, keys.length, ...keys, ...args) : command.call(redis, ...keys, ...args);
}

/**
 * Registers a script on a connection (once) and returns its ioredis command name, for use in a
 * `pipeline()` or `multi()`. A variadic script's command takes the number of keys first.
 */
export function defineScript(redis: RedisClient, script: LuaScript): string {
  const name = commandName(script);
  const commands = redis as unknown as WithCommands;
  if (typeof commands[name] !== 'function') {
    commands.defineCommand(name, script.numberOfKeys === null ? { lua: script.lua } : { numberOfKeys: script.numberOfKeys, lua: script.lua });
  }
  return name;
}
