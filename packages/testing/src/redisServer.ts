import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { findRedisBinaries } from './binaries.js';
import { freePort, LOOPBACK } from './ports.js';
import { trackChild, trackDir, untrackDir } from './processes.js';

/** Options for {@link startRedis}. */
export interface StartRedisOptions {
  /**
   * Persist every write to the append-only file before replying (`--appendonly yes
   * --appendfsync always`), so the data survives {@link RedisServer.kill} + {@link RedisServer.start}.
   * Default `false`: no persistence at all (`--save ""`, no AOF).
   */
  appendOnly?: boolean;
  /** A fixed port. Default: a free loopback port chosen by the OS. */
  port?: number;
  /** Extra `redis-server` arguments, appended last (so they override the fixture's), e.g. `['--maxmemory', '10mb']`. */
  args?: string[];
  /** How long to wait for the server to answer PING, in ms. Default 10 000. */
  startTimeoutMs?: number;
}

/**
 * A real `redis-server` child process on a loopback port, with its own temporary folder.
 *
 * Fault tests use {@link RedisServer.kill} (SIGKILL) and {@link RedisServer.start} to crash and
 * bring back the same server, on the same port, over the same data folder.
 */
export interface RedisServer {
  /** Always `127.0.0.1`. */
  readonly host: string;
  /** The client port. Stays the same across {@link RedisServer.start} / {@link RedisServer.restart}. */
  readonly port: number;
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  /** The server's working folder: `redis.log`, the AOF folder, `nodes.conf` for cluster nodes. */
  readonly dir: string;
  /** Whether the append-only file is on (see {@link StartRedisOptions.appendOnly}). */
  readonly appendOnly: boolean;
  /** The current process id; `undefined` while the server is not running. Changes on restart. */
  readonly pid: number | undefined;
  /** Whether the process is alive. */
  readonly running: boolean;
  /** Graceful stop: SIGTERM (Redis shuts down; with `--save ""` nothing is saved) and wait for exit. No-op when not running. */
  stop(): Promise<void>;
  /** Crash: SIGKILL and wait for exit. No-op when not running. */
  kill(): Promise<void>;
  /** Starts the server again with the same port, arguments and folder, and waits for PING. No-op when running. */
  start(): Promise<void>;
  /** `kill()` then `start()`. */
  restart(): Promise<void>;
  /**
   * Stops the server if it runs and removes its folder, unless `STREAMKIT_KEEP_TMP` is set
   * (then the folder, with `redis.log`, is left for inspection). Idempotent.
   */
  destroy(): Promise<void>;
  /** The last `lines` lines of the server's log and stdout/stderr, for error messages. */
  logTail(lines?: number): string;
}

/** @internal Launch settings that {@link startCluster} adds. */
export interface LaunchOptions extends StartRedisOptions {
  /** Also pick a free cluster-bus port and pass `--cluster-port` (cluster nodes). */
  clusterBus?: boolean;
}

const STOP_TIMEOUT_MS = 10_000;
const BIND_ATTEMPTS = 5;

/** @internal The process behind a {@link RedisServer}. */
export class RedisServerProcess implements RedisServer {
  readonly host = LOOPBACK;
  #child: ChildProcess | undefined;
  #destroyed = false;

  constructor(
    readonly port: number,
    readonly dir: string,
    readonly appendOnly: boolean,
    readonly busPort: number | undefined,
    private readonly args: readonly string[],
    private readonly startTimeoutMs: number,
  ) {}

  get url(): string {
    return `redis://${this.host}:${this.port}`;
  }

  get pid(): number | undefined {
    return this.running ? this.#child?.pid : undefined;
  }

  get running(): boolean {
    const child = this.#child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  async start(): Promise<void> {
    if (this.#destroyed) throw new Error(`redis-server ${this.url} was destroyed; start a new one`);
    if (this.running) return;
    // A port we held a moment ago is normally still ours (Redis sets SO_REUSEADDR); if another
    // process grabbed it in between, wait a little for it to go rather than moving the server.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.launch();
        return;
      } catch (error) {
        if (!(error instanceof AddressInUseError) || attempt >= BIND_ATTEMPTS) throw error;
        await sleep(200 * attempt);
      }
    }
  }

  /** One spawn + wait for PING. Throws {@link AddressInUseError} when a port was taken. */
  async launch(): Promise<void> {
    const { server } = findRedisBinaries();
    const out = openSync(join(this.dir, 'stdout.log'), 'a');
    let child: ChildProcess;
    try {
      child = spawn(server, [...this.args], { cwd: this.dir, stdio: ['ignore', out, out] });
    } finally {
      closeSync(out);
    }
    this.#child = child;
    trackChild(child);
    // Do not keep the event loop alive for the server alone: a script that forgets destroy()
    // still exits, and the exit hook then kills the server.
    child.unref();
    const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
    spawnError.catch(() => undefined);
    try {
      await Promise.race([this.waitUntilReady(child), spawnError]);
    } catch (error) {
      await this.killChild(child);
      throw error;
    }
  }

  private async waitUntilReady(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + this.startTimeoutMs;
    let last = 'no answer yet';
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        const tail = this.logTail();
        const reason = `redis-server on port ${this.port} exited (${child.exitCode ?? child.signalCode}) while starting`;
        if (/Address already in use|bind: /i.test(tail)) throw new AddressInUseError(`${reason}: port in use\n${tail}`);
        throw new Error(`${reason}. Log (${this.dir}):\n${tail}`);
      }
      last = await pingOnce(this.port);
      if (last === '+PONG') return;
      await sleep(25);
    }
    throw new Error(
      `redis-server on port ${this.port} did not answer PING within ${this.startTimeoutMs} ms (last: ${last}). Log (${this.dir}):\n${this.logTail()}`,
    );
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || !this.running) return;
    child.kill('SIGTERM');
    if (!(await waitForExit(child, STOP_TIMEOUT_MS))) await this.killChild(child);
  }

  async kill(): Promise<void> {
    const child = this.#child;
    if (!child || !this.running) return;
    await this.killChild(child);
  }

  private async killChild(child: ChildProcess): Promise<void> {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await waitForExit(child, STOP_TIMEOUT_MS);
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }

  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    await this.stop();
    untrackDir(this.dir);
    if (!process.env.STREAMKIT_KEEP_TMP) await rm(this.dir, { recursive: true, force: true, maxRetries: 3 });
  }

  logTail(lines = 30): string {
    const read = (name: string): string => {
      try {
        return readFileSync(join(this.dir, name), 'utf8');
      } catch {
        return '';
      }
    };
    const text = [read('stdout.log'), read('redis.log')].filter(Boolean).join('\n');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  }
}

class AddressInUseError extends Error {}

/** Resolves `true` when the child exited within `timeoutMs`, `false` otherwise. */
async function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  return new Promise<boolean>((resolveExit) => {
    const timer = setTimeout(() => {
      child.removeListener('exit', onExit);
      resolveExit(false);
    }, timeoutMs);
    const onExit = (): void => {
      clearTimeout(timer);
      resolveExit(true);
    };
    child.once('exit', onExit);
  });
}

/**
 * Sends one inline `PING` over a fresh TCP connection and returns the first reply line
 * (`+PONG`, `-LOADING ...`) or a short reason. Raw TCP keeps readiness polling free of client
 * reconnect logic and error noise.
 */
function pingOnce(port: number, timeoutMs = 500): Promise<string> {
  return new Promise((resolvePing) => {
    const socket = connectTcp({ host: LOOPBACK, port });
    let buffer = '';
    const done = (answer: string): void => {
      socket.destroy();
      resolvePing(answer);
    };
    socket.setTimeout(timeoutMs, () => done('timeout'));
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      const end = buffer.indexOf('\r\n');
      if (end >= 0) done(buffer.slice(0, end));
    });
  });
}

function serverArgs(port: number, dir: string, options: LaunchOptions, busPort: number | undefined): string[] {
  const args = [
    '--port', String(port),
    '--bind', LOOPBACK,
    '--dir', dir,
    '--save', '',
    '--daemonize', 'no',
    '--logfile', join(dir, 'redis.log'),
    // Replicas would otherwise wait 5 s before their first (diskless) sync.
    '--repl-diskless-sync-delay', '0',
    // DEBUG SLEEP / DEBUG SET-ACTIVE-EXPIRE for fault tests, from loopback only.
    '--enable-debug-command', 'local',
  ];
  if (options.appendOnly) args.push('--appendonly', 'yes', '--appendfsync', 'always');
  if (busPort !== undefined) args.push('--cluster-port', String(busPort));
  args.push(...(options.args ?? []));
  return args;
}

/** @internal {@link startRedis} with the cluster-bus option; used by `startCluster`. */
export async function launchRedis(options: LaunchOptions = {}): Promise<RedisServerProcess> {
  findRedisBinaries(); // fail fast, before making folders
  const dir = await mkdtemp(join(tmpdir(), 'streamkit-redis-'));
  trackDir(dir);
  try {
    for (let attempt = 1; ; attempt++) {
      const port = options.port ?? (await freePort());
      let busPort = options.clusterBus ? await freePort() : undefined;
      while (busPort === port) busPort = await freePort();
      const server = new RedisServerProcess(
        port,
        dir,
        options.appendOnly ?? false,
        busPort,
        serverArgs(port, dir, options, busPort),
        options.startTimeoutMs ?? 10_000,
      );
      try {
        await server.launch();
        return server;
      } catch (error) {
        // Lost the race for an OS-chosen port: pick new ones. A fixed port is the caller's choice.
        if (!(error instanceof AddressInUseError) || options.port !== undefined || attempt >= BIND_ATTEMPTS) throw error;
      }
    }
  } catch (error) {
    untrackDir(dir);
    if (!process.env.STREAMKIT_KEEP_TMP) await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Starts a real `redis-server` on a free loopback port in a fresh temp folder
 * (`<os tmp>/streamkit-redis-*`) and resolves once it answers PING.
 *
 * The server is killed if the test process exits first; call {@link RedisServer.destroy} in
 * `afterAll` to stop it and remove its folder.
 *
 * @throws Error with the tail of the server log when it does not come up within `startTimeoutMs`.
 *
 * @example
 * ```ts
 * const server = await startRedis({ appendOnly: true });
 * const redis = createTestRedis(server.url);
 * await redis.set('k', 'v');
 * await server.kill();  // SIGKILL: a crash
 * await server.start(); // same port, same folder: 'k' is still there
 * ```
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  return launchRedis({ ...options, clusterBus: false });
}
