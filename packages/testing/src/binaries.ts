import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

/** Absolute paths of the Redis executables the fixtures run. */
export interface RedisBinaries {
  /** Path of `redis-server`. */
  server: string;
  /** Path of `redis-cli` (used for `redis-cli --cluster create`). */
  cli: string;
}

/** The oldest Redis the fixtures support: `--cluster-port` and `CLUSTER SHARDS` arrived in 7.0. */
const MIN_MAJOR = 7;
const MIN_MINOR = 0;

const INSTALL_HINT =
  'Install Redis >= 7.0 (Debian/Ubuntu: `sudo apt-get install redis-server`, which also brings redis-cli; ' +
  'macOS: `brew install redis`), or point STREAMKIT_REDIS_SERVER and STREAMKIT_REDIS_CLI at the executables.';

const cache = new Map<string, RedisBinaries>();

/**
 * Finds `redis-server` and `redis-cli` and checks that both are Redis 7.0 or newer.
 *
 * `STREAMKIT_REDIS_SERVER` / `STREAMKIT_REDIS_CLI` win when set (a path, or a name looked up on
 * `PATH`); otherwise both are looked up on `PATH`. The answer is cached per value of those variables.
 *
 * @throws Error naming the missing executable and how to install it, or the version found when
 * it is older than 7.0.
 *
 * @example
 * ```ts
 * const { server, cli } = findRedisBinaries();
 * ```
 */
export function findRedisBinaries(): RedisBinaries {
  const cacheKey = [process.env.STREAMKIT_REDIS_SERVER, process.env.STREAMKIT_REDIS_CLI, process.env.PATH].join('\0');
  const cached = cache.get(cacheKey);
  if (cached) return cached;
  const server = locate('redis-server', process.env.STREAMKIT_REDIS_SERVER, 'STREAMKIT_REDIS_SERVER');
  const cli = locate('redis-cli', process.env.STREAMKIT_REDIS_CLI, 'STREAMKIT_REDIS_CLI');
  checkVersion(server, runVersion(server), /\bv=(\d+)\.(\d+)\.(\d+)/);
  checkVersion(cli, runVersion(cli), /(\d+)\.(\d+)\.(\d+)/);
  const found = { server, cli };
  cache.set(cacheKey, found);
  return found;
}

function locate(name: string, fromEnv: string | undefined, envName: string): string {
  const wanted = fromEnv?.trim();
  if (wanted) {
    if (wanted.includes('/')) {
      const path = resolve(wanted);
      if (isExecutable(path)) return path;
      throw new Error(`${envName}="${wanted}" is not an executable file. ${INSTALL_HINT}`);
    }
    const found = onPath(wanted);
    if (found) return found;
    throw new Error(`${envName}="${wanted}" was not found on PATH. ${INSTALL_HINT}`);
  }
  const found = onPath(name);
  if (found) return found;
  throw new Error(`${name} was not found on PATH. ${INSTALL_HINT}`);
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir || !isAbsolute(dir)) continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function runVersion(path: string): string {
  try {
    return execFileSync(path, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  } catch (cause) {
    throw new Error(`"${path} --version" failed. ${INSTALL_HINT}`, { cause });
  }
}

function checkVersion(path: string, output: string, pattern: RegExp): void {
  const match = pattern.exec(output);
  if (!match) throw new Error(`cannot read the version of ${path} from "${output.trim()}". ${INSTALL_HINT}`);
  const major = Number(match[1]);
  const minor = Number(match[2]);
  if (major < MIN_MAJOR || (major === MIN_MAJOR && minor < MIN_MINOR)) {
    throw new Error(
      `${path} is Redis ${match[1]}.${match[2]}.${match[3]}; streamkit's tests need ${MIN_MAJOR}.${MIN_MINOR} or newer. ${INSTALL_HINT}`,
    );
  }
}
