import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

/**
 * Every redis-server this process started and has not yet seen exit, and the temp folders to
 * remove, shared through globalThis so a module loaded twice (vitest isolates modules per file)
 * still has one registry and one set of exit hooks.
 */
interface Registry {
  children: Set<ChildProcess>;
  dirs: Set<string>;
  hooked: boolean;
}

const KEY = Symbol.for('@streamkit/testing/processes');
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function registry(): Registry {
  const holder = globalThis as { [KEY]?: Registry };
  holder[KEY] ??= { children: new Set(), dirs: new Set(), hooked: false };
  return holder[KEY];
}

/** Kills every tracked child with SIGKILL, synchronously: safe inside a process `exit` handler. */
function killAllSync(): void {
  const { children, dirs } = registry();
  for (const child of children) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  children.clear();
  if (process.env.STREAMKIT_KEEP_TMP) return;
  for (const dir of dirs) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
    } catch {
      // best effort: the OS temp folder is cleaned eventually
    }
  }
  dirs.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  killAllSync();
  // Our listener replaced Node's default action (terminate). When nobody else handles the
  // signal, restore that default by raising it again without us.
  for (const s of SIGNALS) process.removeListener(s, onSignal);
  registry().hooked = false;
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function hook(): void {
  const reg = registry();
  if (reg.hooked) return;
  reg.hooked = true;
  process.on('exit', killAllSync);
  for (const s of SIGNALS) process.on(s, onSignal);
}

function unhookWhenIdle(): void {
  const reg = registry();
  if (!reg.hooked || reg.children.size > 0 || reg.dirs.size > 0) return;
  reg.hooked = false;
  process.removeListener('exit', killAllSync);
  for (const s of SIGNALS) process.removeListener(s, onSignal);
}

/** Tracks a spawned child so it is SIGKILLed if this process exits first. */
export function trackChild(child: ChildProcess): void {
  hook();
  registry().children.add(child);
  const forget = (): void => {
    registry().children.delete(child);
    unhookWhenIdle();
  };
  child.once('exit', forget);
  // A child that failed to spawn emits 'error' and never 'exit'.
  child.once('error', () => {
    if (child.pid === undefined) forget();
  });
}

/** Registers a temp folder for removal if this process exits before `destroy()`. */
export function trackDir(dir: string): void {
  hook();
  registry().dirs.add(dir);
}

/** Forgets a temp folder (it was removed, or is deliberately kept). */
export function untrackDir(dir: string): void {
  registry().dirs.delete(dir);
  unhookWhenIdle();
}
