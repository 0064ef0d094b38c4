import type { LuaScript, RedisClient } from '@streamkit/core';

type WithCommands = Record<string, unknown> & {
  defineCommand(name: string, definition: { lua: string }): void;
};

/**
 * Runs a script whose number of keys varies from call to call (core's `runScript` takes a fixed
 * count). Registered once per connection with ioredis `defineCommand` and no `numberOfKeys`, so
 * EVALSHA falls back to EVAL after a restart; the key count goes first. Every key must be in `keys`.
 */
export function runVariadicScript<T>(redis: RedisClient, script: LuaScript, keys: readonly string[], args: readonly (string | number)[]): Promise<T> {
  const name = defineVariadic(redis, script);
  return ((redis as unknown as WithCommands)[name] as (...a: unknown[]) => Promise<T>)(keys.length, ...keys, ...args);
}

/** Registers the script on the connection (once) and returns its command name, for pipelines. */
export function defineVariadic(redis: RedisClient, script: LuaScript): string {
  const name = `streamkit_es_${script.name}`;
  const target = redis as unknown as WithCommands;
  if (typeof target[name] !== 'function') target.defineCommand(name, { lua: script.lua });
  return name;
}
