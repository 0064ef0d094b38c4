import { RedisCommandError, StreamkitError, runScript, type RedisClient } from '@streamkit/core';
import type { StreamKeys } from './keys.js';
import { appendBatch } from './scripts/generated/index.js';

/** Most appends, and script arguments, one group-commit call carries. */
const GROUP_REQUESTS = 64;
const GROUP_ARGS = 4096;

/** One append's reply from the append script (see `append-batch-n.lua`). */
export type AppendReply = (number | string)[];

/** An append waiting for the group commit of its partition. */
interface PendingAppend {
  keys: StreamKeys;
  /** expected version, stream name, event count, 6 arguments per event */
  args: string[];
  resolve: (reply: AppendReply) => void;
  reject: (error: unknown) => void;
}

/**
 * @internal The group commit of appends: the appends of one partition of the global log made in
 * the same tick of the event loop go to Redis in one call of the append script (at most
 * {@link GROUP_REQUESTS} appends and about {@link GROUP_ARGS} arguments a call), in the order they
 * were made; the script still checks and applies each on its own.
 */
export class GroupCommit {
  private readonly queues = new Map<number, PendingAppend[]>();
  private flushScheduled = false;

  /** `redis` gives the connection when a group goes out (and throws when the client is closed). */
  constructor(private readonly redis: () => RedisClient) {}

  /** Queues one append; resolves with its part of the script's reply. */
  submit(keys: StreamKeys, args: string[]): Promise<AppendReply> {
    return new Promise((resolve, reject) => {
      let queue = this.queues.get(keys.partition);
      if (!queue) this.queues.set(keys.partition, (queue = []));
      queue.push({ keys, args, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const queues = [...this.queues.values()];
    this.queues.clear();
    const chunks: PendingAppend[][] = [];
    for (const queue of queues) {
      let i = 0;
      while (i < queue.length) {
        const chunk: PendingAppend[] = [];
        let size = 0;
        while (i < queue.length && chunk.length < GROUP_REQUESTS && (chunk.length === 0 || size + queue[i]!.args.length <= GROUP_ARGS)) {
          size += queue[i]!.args.length;
          chunk.push(queue[i++]!);
        }
        chunks.push(chunk);
      }
    }
    const fail = (chunk: PendingAppend[], error: unknown) => {
      for (const request of chunk) {
        request.reject(StreamkitError.is(error) ? error : new RedisCommandError({ command: 'EVALSHA appendBatch', stream: request.keys.stream, cause: error }));
      }
    };
    let redis: RedisClient;
    try {
      redis = this.redis();
    } catch (error) {
      for (const chunk of chunks) fail(chunk, error);
      return;
    }
    for (const chunk of chunks) {
      const keys = [chunk[0]!.keys.log];
      const args = [String(chunk.length)];
      for (const request of chunk) {
        keys.push(request.keys.stream, request.keys.version, request.keys.ids);
        for (const arg of request.args) args.push(arg);
      }
      let call: Promise<AppendReply[]>;
      try {
        call = runScript<AppendReply[]>(redis, appendBatch, keys, args);
      } catch (error) {
        fail(chunk, error);
        continue;
      }
      call.then(
        (replies) => chunk.forEach((request, k) => request.resolve(replies[k]!)),
        (error: unknown) => fail(chunk, error),
      );
    }
  }
}
