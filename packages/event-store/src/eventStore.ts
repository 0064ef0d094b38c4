import { randomBytes, randomUUID } from 'node:crypto';
import {
  ConfigError,
  DecodeError,
  RedisCommandError,
  StreamId,
  StreamkitError,
  ValidationError,
  runScript,
  toFieldIssues,
  type FieldIssue,
  type StreamClient,
} from '@streamkit/core';
import type { z } from 'zod';
import { ConcurrencyError, type ExpectedVersion } from './errors.js';
import { KeyLayout, type StreamKeys } from './keys.js';
import { LogMerger, decodeCheckpoint, encodeCheckpoint, startCheckpoint, type LogFilter } from './log.js';
import { GroupCommit } from './groupCommit.js';
import { deleteStream as deleteScript, saveSnapshot as saveSnapshotScript } from './scripts/generated/index.js';
import type { EventDefinitions, EventInput, EventOf, EventTypeDefinition, Metadata, RecordedEvent } from './types.js';
import { Subscription, type SubscribeOptions } from './subscription.js';
import { Projection, type ProjectionOptions } from './projection.js';

/** How snapshots are taken and which ones are used. */
export interface SnapshotOptions<State = unknown> {
  /** Store a snapshot when an aggregation has replayed at least this many events past the last one. */
  every: number;
  /**
   * The version of the state's shape. A snapshot stored under another schema version is ignored
   * (the aggregate is replayed from its events), so bump it whenever `evolve` or the state changes.
   */
  schemaVersion: number | string;
  /** State → JSON-able value (default: the state itself, through `JSON.stringify`). */
  serialize?: (state: State) => unknown;
  /** The reverse of `serialize` (default: the parsed JSON). */
  deserialize?: (value: unknown) => State;
}

/** Options of {@link createEventStore}. */
export interface EventStoreOptions<M extends EventDefinitions> {
  /** A core stream client; its prefix applies to every key of the store. */
  client: StreamClient;
  /** Event type → data schema (or {@link EventTypeDefinition} for versioned shapes). */
  events: M;
  /**
   * Number of partitions of the global log (default 16). A stream belongs to partition
   * `fnv1a(streamName) % partitions`; never change it for a store that holds data.
   */
  partitions?: number;
  /** Name of the store, part of every key (default `main`): several stores can share one Redis. */
  name?: string;
  /** Default snapshot policy of {@link EventStore.aggregateStream}. */
  snapshots?: SnapshotOptions<any>;
}

/** Options of {@link EventStore.appendToStream}. */
export interface AppendOptions {
  /**
   * `'any'` (default): no check. `'no_stream'`: the stream must not exist. `'stream_exists'`: it
   * must. A number: the version of the stream's last event (the first event has version 0;
   * `-1` means no stream). A mismatch throws {@link ConcurrencyError} and writes nothing.
   */
  expectedVersion?: ExpectedVersion;
}

/** What {@link EventStore.appendToStream} returns. */
export interface AppendResult {
  /** The stream's version after the append: pass it as `expectedVersion` of the next one. */
  nextExpectedVersion: number;
  /** True when this append created the stream. */
  createdNewStream: boolean;
  /** The global-log position of each event, in order (for a skipped duplicate, where it was stored). */
  positions: string[];
}

/** Options of {@link EventStore.readStream}. */
export interface ReadStreamOptions {
  /** First version to read (default 0; going backward, the newest). Inclusive. */
  from?: number;
  /** Last version to read (default: the end; going backward, 0). Inclusive. */
  to?: number;
  maxCount?: number;
  direction?: 'forward' | 'backward';
}

/** Options of {@link EventStore.aggregateStream}. */
export interface AggregateOptions<State, E extends { type: string; data: unknown }> {
  evolve: (state: State, event: RecordedEvent<E>) => State;
  initialState: () => State;
  /**
   * Replay up to and including this version (a number), this global position (a `<ms>-<seq>`
   * string) or this time (a Date). Snapshots newer than the bound are not used.
   */
  upTo?: number | string | Date;
  /** Snapshot policy of this call (default: the store's); `false` to replay every event. */
  snapshots?: SnapshotOptions<State> | false;
}

/** What {@link EventStore.aggregateStream} returns. */
export interface AggregateResult<State> {
  state: State;
  /** The version of the last event applied; `-1` when the stream has none. */
  version: number;
  streamExists: boolean;
  /** True when a snapshot was loaded. */
  fromSnapshot: boolean;
  /** The global-log position of the last event applied (of the snapshot's, when none came after it); undefined when none. */
  position?: string;
}

/** Options of {@link EventStore.readAll}. */
export interface ReadAllOptions {
  /** `'start'` (default) or a checkpoint from an earlier {@link ReadAllResult}. */
  from?: 'start' | string;
  /** At most this many events (default 1000). */
  maxCount?: number;
  filter?: LogFilter;
}

/** What {@link EventStore.readAll} returns. */
export interface ReadAllResult<E extends { type: string; data: unknown }> {
  events: RecordedEvent<E>[];
  /** Pass it as `from` to read on after the last event returned. */
  checkpoint: string;
  /** True when every partition was read to its end. */
  isEnd: boolean;
}

/** @internal The decoded form of a definition. */
interface TypeInfo {
  schema: z.ZodType;
  version: number;
  upcast: ((data: unknown, fromVersion: number) => unknown) | undefined;
}

const MAX_BATCH = 1000;
const STORE_NAME = /^[A-Za-z0-9_.-]+$/;

function checkStreamName(streamName: unknown): asserts streamName is string {
  if (typeof streamName !== 'string' || streamName.length === 0 || streamName.length > 512) {
    throw new ConfigError(`event store: a stream name must be a non-empty string of at most 512 characters, got ${JSON.stringify(streamName)}`);
  }
}

function checkVersion(value: unknown, what: string, streamName: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new ConfigError(`stream "${streamName}": ${what} must be a non-negative integer version, got ${String(value)}`);
  }
  return value;
}

const entryId = (version: number) => `0-${version + 1}`;
const versionOfEntry = (id: string) => Number(id.slice(2)) - 1;

function fieldsToRecord(fields: readonly string[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (let i = 0; i < fields.length; i += 2) record[fields[i]!] = fields[i + 1]!;
  return record;
}

/**
 * An event store on Redis Streams. Get one from {@link createEventStore}.
 *
 * Each aggregate stream is a Redis stream whose entry ids encode the version (`0-<version+1>`), with
 * its version in its own key, an idempotency hash of the event ids it holds, and a copy of every
 * event in its partition of the global log; all four share one hash slot.
 */
export class EventStore<M extends EventDefinitions> {
  /** The core client the store runs on (its prefix applies to every key). */
  readonly client: StreamClient;
  /** The number of partitions of the global log. */
  readonly partitions: number;
  /** The store's name, part of every key. */
  readonly name: string;
  /** @internal */
  readonly keys: KeyLayout;
  /** @internal */
  readonly snapshotDefaults: SnapshotOptions<any> | undefined;
  private readonly types = new Map<string, TypeInfo>();
  private readonly keyCache = new Map<string, StreamKeys>();
  private readonly appends = new GroupCommit(() => this.redis);
  /** Mergers of recent readAll calls, by the checkpoint they stopped at: paging on reuses their read-ahead. */
  private readonly readAllCache = new Map<string, LogMerger<M>>();

  constructor(options: EventStoreOptions<M>) {
    if (!options || typeof options !== 'object') throw new ConfigError('createEventStore: options are required');
    if (!options.client || typeof options.client.key !== 'function') {
      throw new ConfigError('createEventStore: `client` must be a stream client from createStreamClient()');
    }
    if (!options.events || typeof options.events !== 'object' || Object.keys(options.events).length === 0) {
      throw new ConfigError('createEventStore: `events` must map at least one event type to its zod schema');
    }
    const partitions = options.partitions ?? 16;
    if (!Number.isSafeInteger(partitions) || partitions < 1 || partitions > 1024) {
      throw new ConfigError(`createEventStore: partitions must be an integer from 1 to 1024, got ${String(partitions)}`);
    }
    const name = options.name ?? 'main';
    if (typeof name !== 'string' || !STORE_NAME.test(name)) {
      throw new ConfigError(`createEventStore: name must be letters, digits, "_", "." or "-", got ${JSON.stringify(name)}`);
    }
    for (const [type, definition] of Object.entries(options.events)) {
      const info = toTypeInfo(type, definition);
      this.types.set(type, info);
    }
    if (options.snapshots) checkSnapshotOptions(options.snapshots);
    this.client = options.client;
    this.partitions = partitions;
    this.name = name;
    this.keys = new KeyLayout(name, partitions);
    this.snapshotDefaults = options.snapshots;
  }

  /** @internal */
  get redis() {
    this.client.assertOpen();
    return this.client.redis;
  }

  /** @internal The full keys (client prefix included) of a stream. */
  streamKeys(streamName: string): StreamKeys {
    const cached = this.keyCache.get(streamName);
    if (cached) return cached;
    const keys = this.keys.forStream(streamName);
    const key = (name: string) => this.client.key(name);
    const full: StreamKeys = {
      partition: keys.partition,
      stream: key(keys.stream),
      version: key(keys.version),
      ids: key(keys.ids),
      snapshot: key(keys.snapshot),
      log: key(keys.log),
      archive: (suffix) => key(keys.archive(suffix)),
    };
    if (this.keyCache.size >= 10_000) this.keyCache.clear();
    this.keyCache.set(streamName, full);
    return full;
  }

  /** @internal */
  async command<R>(name: string, stream: string, run: () => Promise<R>): Promise<R> {
    try {
      return await run();
    } catch (error) {
      throw StreamkitError.is(error) ? error : new RedisCommandError({ command: name, stream, cause: error });
    }
  }

  /** Validates one event for append and pushes its six script arguments onto `args`. */
  private encodeEvent(streamName: string, event: unknown, index: number, seen: Set<string> | undefined, args: string[]): void {
    const fail = (issues: FieldIssue[]): never => {
      throw new ValidationError({ stream: streamName, index, issues });
    };
    if (event === null || typeof event !== 'object' || Array.isArray(event)) fail([{ path: [], message: 'expected an event { type, data, metadata?, id? }' }]);
    const { type, data, metadata, id } = event as { type?: unknown; data?: unknown; metadata?: unknown; id?: unknown };
    if (typeof type !== 'string') return fail([{ path: ['type'], message: `expected an event type, got ${typeof type}` }]);
    const info = this.types.get(type);
    if (!info) fail([{ path: ['type'], message: `unknown event type "${type}" (known: ${[...this.types.keys()].join(', ')})` }]);
    const parsed = info!.schema.safeParse(data);
    if (!parsed.success) fail(toFieldIssues(parsed.error.issues).map((issue) => ({ ...issue, path: ['data', ...issue.path] })));
    let dataJson: string | undefined;
    try {
      dataJson = JSON.stringify(data);
    } catch (error) {
      fail([{ path: ['data'], message: `not JSON-serializable: ${error instanceof Error ? error.message : String(error)}` }]);
    }
    if (dataJson === undefined) fail([{ path: ['data'], message: 'not JSON-serializable' }]);
    let metaJson = '';
    if (metadata !== undefined) {
      if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) fail([{ path: ['metadata'], message: 'expected an object' }]);
      try {
        metaJson = JSON.stringify(metadata);
      } catch (error) {
        fail([{ path: ['metadata'], message: `not JSON-serializable: ${error instanceof Error ? error.message : String(error)}` }]);
      }
    }
    let eventId: string;
    if (id === undefined) eventId = randomUUID();
    else if (typeof id !== 'string' || id.length === 0 || id.length > 256) return fail([{ path: ['id'], message: 'expected a non-empty string of at most 256 characters' }]);
    else eventId = id;
    if (seen) {
      if (seen.has(eventId)) fail([{ path: ['id'], message: `event id "${eventId}" appears twice in this append` }]);
      seen.add(eventId);
    }
    args.push(eventId, type, dataJson!, metaJson, info!.version === 1 ? '' : String(info!.version), id === undefined ? '' : '1');
  }

  /**
   * Appends events to a stream in one round trip and one server-side script: the expected version
   * is checked, events whose `id` the stream already holds are skipped (a retried append writes
   * nothing twice), the rest are added to the stream and its partition of the global log, and the
   * version advances. All or nothing. Appends to streams of one partition made in the same tick
   * share the script call (a group commit); each is still checked and applied on its own.
   *
   * Every event is validated first: bad data throws {@link ValidationError} (naming the stream,
   * the event's index and the field) and nothing is written. A version mismatch throws
   * {@link ConcurrencyError}.
   *
   * @example
   * ```ts
   * const { nextExpectedVersion } = await store.appendToStream('order-1', [
   *   { type: 'OrderPlaced', data: { order_id: 'order-1', amount: 42 } },
   * ], { expectedVersion: 'no_stream' });
   * ```
   */
  async appendToStream(streamName: string, events: readonly EventInput<M>[], options: AppendOptions = {}): Promise<AppendResult> {
    checkStreamName(streamName);
    const expected = options.expectedVersion ?? 'any';
    let expectedArg: string;
    if (expected === 'any' || expected === 'no_stream' || expected === 'stream_exists') expectedArg = expected;
    else if (expected === -1) expectedArg = 'no_stream';
    else expectedArg = String(checkVersion(expected, 'expectedVersion', streamName));
    if (!Array.isArray(events) || events.length === 0) {
      throw new ValidationError({ stream: streamName, issues: [{ path: [], message: 'expected a non-empty array of events' }] });
    }
    if (events.length > MAX_BATCH) throw new ConfigError(`stream "${streamName}": at most ${MAX_BATCH} events per append, got ${events.length}`);
    const seen = events.length > 1 ? new Set<string>() : undefined;
    const args: string[] = [expectedArg, streamName, String(events.length)];
    for (let i = 0; i < events.length; i++) this.encodeEvent(streamName, events[i], i, seen, args);
    const keys = this.streamKeys(streamName);
    this.client.assertOpen();
    const reply = await this.appends.submit(keys, args);
    if (Number(reply[0]) === 0) throw new ConcurrencyError({ streamName, expected, actual: Number(reply[1]) });
    return {
      nextExpectedVersion: Number(reply[1]),
      createdNewStream: Number(reply[2]) === 1,
      positions: reply.slice(3).map(String),
    };
  }

  /** @internal Decodes the data of a stored event, upcasting old shapes. */
  decodeData(fields: Record<string, string>, where: { stream: string; entryId: string }): { type: string; data: unknown } {
    const type = fields.t;
    const fail = (issues: FieldIssue[], cause?: unknown): never => {
      throw new DecodeError({ stream: where.stream, entryId: where.entryId, issues, fields, cause });
    };
    if (type === undefined || fields.d === undefined) return fail([{ path: [], message: 'not an event entry (no type or data)' }]);
    const info = this.types.get(type);
    if (!info) return fail([{ path: ['type'], message: `unknown event type "${type}"; add it to the store's events` }]);
    let data: unknown;
    try {
      data = JSON.parse(fields.d);
    } catch (error) {
      fail([{ path: ['data'], message: 'stored data is not JSON' }], error);
    }
    const stored = fields.sv === undefined ? 1 : Number(fields.sv);
    if (stored < info.version) {
      if (!info.upcast) fail([{ path: ['data'], message: `stored as version ${stored} of "${type}", current is ${info.version}, and the type has no upcast` }]);
      try {
        data = info.upcast!(data, stored);
      } catch (error) {
        fail([{ path: ['data'], message: `upcast from version ${stored} failed: ${error instanceof Error ? error.message : String(error)}` }], error);
      }
    }
    const parsed = info.schema.safeParse(data);
    if (!parsed.success) fail(toFieldIssues(parsed.error.issues).map((issue) => ({ ...issue, path: ['data', ...issue.path] })), parsed.error);
    return { type, data: parsed.data };
  }

  /** @internal An aggregate-stream entry as a recorded event. */
  decodeStreamEntry(streamName: string, partition: number, key: string, id: string, fields: readonly string[]): RecordedEvent<EventOf<M>> {
    const record = fieldsToRecord(fields);
    return this.recorded(record, key, id, { streamName, version: versionOfEntry(id), position: record.g ?? '0-0', partition });
  }

  /** @internal A global-log entry as a recorded event. */
  decodeLogEntry(partition: number, key: string, id: string, record: Record<string, string>): RecordedEvent<EventOf<M>> {
    return this.recorded(record, key, id, { streamName: record.s ?? '', version: Number(record.v), position: id, partition });
  }

  /** A stored event (of an aggregate stream or the global log) with where it is recorded. */
  private recorded(
    record: Record<string, string>,
    key: string,
    entryId: string,
    at: { streamName: string; version: number; position: string; partition: number },
  ): RecordedEvent<EventOf<M>> {
    const { type, data } = this.decodeData(record, { stream: key, entryId });
    let metadata: Metadata | undefined;
    if (record.m !== undefined) {
      try {
        metadata = JSON.parse(record.m) as Metadata;
      } catch (error) {
        throw new DecodeError({ stream: key, entryId, issues: [{ path: ['metadata'], message: 'stored metadata is not JSON' }], fields: record, cause: error });
      }
    }
    return { type, data, metadata, id: record.id ?? '', ...at, recordedAt: new Date(StreamId.toTime(at.position)) } as RecordedEvent<EventOf<M>>;
  }

  /**
   * The events of a stream, oldest first (or newest first with `direction: 'backward'`), between
   * two versions. A stream that does not exist, or was deleted, has no events.
   */
  async readStream(streamName: string, options: ReadStreamOptions = {}): Promise<RecordedEvent<EventOf<M>>[]> {
    checkStreamName(streamName);
    const backward = options.direction === 'backward';
    if (options.direction !== undefined && options.direction !== 'forward' && !backward) {
      throw new ConfigError(`stream "${streamName}": direction must be 'forward' or 'backward', got ${String(options.direction)}`);
    }
    const from = options.from === undefined ? undefined : checkVersion(options.from, 'from', streamName);
    const to = options.to === undefined ? undefined : checkVersion(options.to, 'to', streamName);
    const maxCount = options.maxCount === undefined ? undefined : checkVersion(options.maxCount, 'maxCount', streamName);
    if (maxCount === 0) return [];
    const keys = this.streamKeys(streamName);
    // Forward: from..to; backward: from (the upper bound)..to (the lower bound).
    const low = backward ? (to === undefined ? '-' : entryId(to)) : entryId(from ?? 0);
    const high = backward ? (from === undefined ? '+' : entryId(from)) : to === undefined ? '+' : entryId(to);
    const events: RecordedEvent<EventOf<M>>[] = [];
    for await (const raw of this.rawRange(keys.stream, low, high, backward, maxCount)) {
      events.push(this.decodeStreamEntry(streamName, keys.partition, keys.stream, raw[0], raw[1]));
      if (maxCount !== undefined && events.length >= maxCount) break;
    }
    return events;
  }

  /** @internal Pages through a stream's raw entries with XRANGE/XREVRANGE, fetching the next page while one is consumed. */
  async *rawRange(key: string, low: string, high: string, backward: boolean, maxCount?: number): AsyncGenerator<[string, string[]]> {
    const pageSize = Math.min(maxCount ?? 1000, 1000);
    let start = low;
    let end = high;
    const fetch = () => {
      const page = this.command(backward ? 'XREVRANGE' : 'XRANGE', key, () =>
        this.redis.call(backward ? 'XREVRANGE' : 'XRANGE', backward ? [key, end, start, 'COUNT', pageSize] : [key, start, end, 'COUNT', pageSize]) as Promise<
          [string, string[]][]
        >,
      );
      page.catch(() => undefined);
      return page;
    };
    let pending: Promise<[string, string[]][]> | undefined = fetch();
    while (pending) {
      const page = await pending;
      pending = undefined;
      if (page.length === pageSize) {
        const last = page[page.length - 1]![0];
        if (backward) end = `(${last}`;
        else start = `(${last}`;
        pending = fetch();
      }
      yield* page;
    }
  }

  /** The version of the stream's last event, or `-1` when the stream does not exist (or was deleted). */
  async streamVersion(streamName: string): Promise<number> {
    checkStreamName(streamName);
    const keys = this.streamKeys(streamName);
    const value = await this.command('GET', keys.version, () => this.redis.get(keys.version));
    return value === null ? -1 : Number(value);
  }

  /** True when the stream exists (has events and was not deleted). */
  async streamExists(streamName: string): Promise<boolean> {
    return (await this.streamVersion(streamName)) >= 0;
  }

  /**
   * Soft-deletes a stream: readers see it as gone, `streamVersion` is `-1`, and a later append
   * (with `'no_stream'` or `'any'`) starts a fresh stream at version 0. The events stay in the
   * global log (and in an archive key). Returns false when there was no stream.
   */
  async deleteStream(streamName: string, options: { expectedVersion?: Exclude<ExpectedVersion, 'no_stream'> } = {}): Promise<boolean> {
    checkStreamName(streamName);
    const expected = options.expectedVersion ?? 'any';
    const expectedArg = expected === 'any' || expected === 'stream_exists' ? expected : String(checkVersion(expected, 'expectedVersion', streamName));
    const keys = this.streamKeys(streamName);
    const archive = keys.archive(`${Date.now()}-${randomBytes(4).toString('hex')}`);
    const reply = await this.command('EVALSHA deleteStream', keys.stream, () =>
      runScript<number[]>(this.redis, deleteScript, [keys.stream, keys.version, keys.ids, keys.snapshot, archive], [expectedArg]),
    );
    if (Number(reply[0]) === 0) throw new ConcurrencyError({ streamName, expected, actual: Number(reply[1]) });
    if (Number(reply[0]) === -1) {
      if (expected === 'stream_exists') throw new ConcurrencyError({ streamName, expected, actual: -1 });
      return false;
    }
    return true;
  }

  /**
   * Folds a stream's events into a state. With snapshots (the store's policy, or this call's) the
   * latest snapshot of the same `schemaVersion` is loaded and only the events after it replayed,
   * and a new snapshot is stored once `every` events have been replayed past it.
   *
   * @example
   * ```ts
   * const { state, version } = await store.aggregateStream('order-1', { evolve, initialState: () => ({ status: 'none' }) });
   * ```
   */
  async aggregateStream<State>(streamName: string, options: AggregateOptions<State, EventOf<M>>): Promise<AggregateResult<State>> {
    checkStreamName(streamName);
    if (!options || typeof options.evolve !== 'function' || typeof options.initialState !== 'function') {
      throw new ConfigError(`stream "${streamName}": aggregateStream needs evolve and initialState functions`);
    }
    const snapshots = options.snapshots === false ? undefined : (options.snapshots ?? this.snapshotDefaults);
    if (options.snapshots) checkSnapshotOptions(options.snapshots);
    const { upTo } = options;
    let maxVersion: number | undefined;
    let maxPosition: string | undefined;
    if (typeof upTo === 'number') maxVersion = checkVersion(upTo, 'upTo', streamName);
    else if (typeof upTo === 'string') maxPosition = StreamId.from(upTo);
    else if (upTo instanceof Date) maxPosition = `${StreamId.fromTime(upTo).split('-')[0]}-18446744073709551615`;
    else if (upTo !== undefined) throw new ConfigError(`stream "${streamName}": upTo must be a version, a position or a Date`);

    const keys = this.streamKeys(streamName);
    let state = options.initialState();
    let version = -1;
    let fromSnapshot = false;
    let snapshotVersion = -1;
    let lastPosition: string | undefined;
    let replayed = 0;
    if (snapshots) {
      const snap = await this.loadSnapshot<State>(keys.snapshot, snapshots);
      if (snap) {
        snapshotVersion = snap.version;
        const usable = (maxVersion === undefined || snap.version <= maxVersion) && (maxPosition === undefined || StreamId.compare(snap.position, maxPosition) <= 0);
        if (usable) {
          state = snap.state;
          version = snap.version;
          lastPosition = snap.position;
          fromSnapshot = true;
        }
      }
    }
    const high = maxVersion === undefined ? '+' : entryId(maxVersion);
    // From a snapshot, the range starts at the snapshot's own event, read again to check that it is
    // still there with the same global position: otherwise the stream was deleted (and maybe
    // started again) after the snapshot was read, and the snapshot is not the stream's.
    let snapshotChecked = !fromSnapshot;
    for await (const [id, fields] of this.rawRange(keys.stream, entryId(fromSnapshot ? version : version + 1), high, false)) {
      if (!snapshotChecked) {
        if (id !== entryId(version) || fieldsToRecord(fields).g !== lastPosition) break;
        snapshotChecked = true;
        continue;
      }
      const event = this.decodeStreamEntry(streamName, keys.partition, keys.stream, id, fields);
      if (maxPosition !== undefined && StreamId.compare(event.position, maxPosition) > 0) break;
      state = options.evolve(state, event);
      version = event.version;
      lastPosition = event.position;
      replayed++;
    }
    if (!snapshotChecked) return this.aggregateStream(streamName, { ...options, snapshots: false });
    const streamExists = version >= 0;
    if (snapshots && upTo === undefined && replayed > 0 && version - Math.max(snapshotVersion, -1) >= snapshots.every) {
      await this.saveSnapshot(streamName, { state, version, position: lastPosition! }, snapshots).catch(() => false);
    }
    return { state, version, streamExists, fromSnapshot, position: lastPosition };
  }

  /** @internal */
  async loadSnapshot<State>(key: string, snapshots: SnapshotOptions<State>): Promise<{ state: State; version: number; position: string } | null> {
    const raw = await this.command('HGETALL', key, () => this.redis.hgetall(key));
    if (!raw || raw.v === undefined || raw.s === undefined || raw.sv !== String(snapshots.schemaVersion)) return null;
    try {
      const value = JSON.parse(raw.s) as unknown;
      return { state: snapshots.deserialize ? snapshots.deserialize(value) : (value as State), version: Number(raw.v), position: raw.g ?? '0-0' };
    } catch {
      return null;
    }
  }

  /**
   * Stores a snapshot of a stream's state at `version` (whose event has global `position`), when it
   * is newer than the stored one and the stream still holds that event. Returns true when stored.
   * {@link aggregateStream} and {@link CommandHandler} call it for you.
   */
  async saveSnapshot<State>(
    streamName: string,
    snapshot: { state: State; version: number; position: string },
    options: SnapshotOptions<State> | undefined = this.snapshotDefaults,
  ): Promise<boolean> {
    checkStreamName(streamName);
    if (!options) throw new ConfigError(`stream "${streamName}": saveSnapshot needs snapshot options (schemaVersion)`);
    const keys = this.streamKeys(streamName);
    const value = options.serialize ? options.serialize(snapshot.state) : snapshot.state;
    const json = JSON.stringify(value);
    if (json === undefined) throw new ConfigError(`stream "${streamName}": the snapshot state is not JSON-serializable`);
    const stored = await this.command('EVALSHA saveSnapshot', keys.snapshot, () =>
      runScript<number>(this.redis, saveSnapshotScript, [keys.snapshot, keys.stream, keys.version], [
        String(snapshot.version),
        snapshot.position,
        String(options.schemaVersion),
        json,
      ]),
    );
    return Number(stored) === 1;
  }

  /** @internal The full key of each partition of the global log. */
  logKeys(): string[] {
    return Array.from({ length: this.partitions }, (_, p) => this.client.key(this.keys.log(p)));
  }

  /**
   * Reads the global log: the events of every stream, the partitions merged in time order (ties
   * broken by partition), up to `maxCount`, after a checkpoint. Loop with the returned checkpoint
   * until `isEnd`.
   */
  async readAll(options: ReadAllOptions = {}): Promise<ReadAllResult<EventOf<M>>> {
    const maxCount = options.maxCount ?? 1000;
    if (!Number.isSafeInteger(maxCount) || maxCount < 1) throw new ConfigError(`readAll: maxCount must be a positive integer, got ${String(maxCount)}`);
    const from = options.from === undefined || options.from === 'start' ? undefined : options.from;
    const cursors = from === undefined ? startCheckpoint(this.partitions) : decodeCheckpoint(from, this.partitions);
    const pageSize = Math.min(maxCount, Math.ceil(maxCount / this.partitions) + 16);
    const filterKey = options.filter ? JSON.stringify([options.filter.types ?? null, options.filter.streamPrefix ?? null]) : '';
    const cacheKey = (checkpoint: string) => `${checkpoint}|${pageSize}|${filterKey}`;
    // Paging on from the checkpoint the last call returned: its merger still holds the entries it
    // read ahead (log entries never change), so nothing is read twice.
    let merger = from === undefined ? undefined : this.readAllCache.get(cacheKey(encodeCheckpoint(cursors)));
    if (merger) {
      this.readAllCache.delete(cacheKey(encodeCheckpoint(cursors)));
      merger.rewind();
    } else {
      merger = new LogMerger(this, cursors, { pageSize, filter: options.filter });
    }
    const events = await merger.next(maxCount);
    const checkpoint = encodeCheckpoint(merger.cursors);
    if (this.readAllCache.size >= 8) this.readAllCache.delete(this.readAllCache.keys().next().value!);
    this.readAllCache.set(cacheKey(checkpoint), merger);
    return { events, checkpoint, isEnd: merger.atEnd };
  }

  /** The checkpoint of the current end of the global log: reading from it returns only later events. */
  async endCheckpoint(): Promise<string> {
    const keys = this.logKeys();
    const ids = await Promise.all(
      keys.map(async (key) => {
        const raw = (await this.command('XREVRANGE', key, () => this.redis.call('XREVRANGE', [key, '+', '-', 'COUNT', 1]))) as [string, string[]][];
        return raw[0]?.[0] ?? '0-0';
      }),
    );
    return encodeCheckpoint(ids);
  }

  /**
   * Delivers the global log's events to a handler: catches up from `from` (or the checkpoint a
   * named subscription saved), then goes live. See {@link SubscribeOptions}.
   */
  subscribe(options: SubscribeOptions<RecordedEvent<EventOf<M>>>): Subscription<RecordedEvent<EventOf<M>>> {
    return new Subscription(this, options);
  }

  /**
   * A projection: a named consumer group on every partition of the global log, running `handle`
   * for each event at least once, in order per partition, with a checkpoint so a redelivered event
   * that was already handled is skipped. Call `start()`; `rebuild()` replays it from the start.
   */
  projection(options: ProjectionOptions<RecordedEvent<EventOf<M>>>): Projection<RecordedEvent<EventOf<M>>> {
    return new Projection(this, options);
  }
}

function toTypeInfo(type: string, definition: z.ZodType | EventTypeDefinition): TypeInfo {
  const isSchema = (value: unknown): value is z.ZodType => typeof (value as z.ZodType)?.safeParse === 'function';
  if (isSchema(definition)) return { schema: definition, version: 1, upcast: undefined };
  if (!definition || !isSchema(definition.schema)) throw new ConfigError(`createEventStore: event type "${type}" needs a zod schema`);
  const version = definition.version ?? 1;
  if (!Number.isSafeInteger(version) || version < 1) throw new ConfigError(`createEventStore: event type "${type}": version must be a positive integer`);
  if (version > 1 && typeof definition.upcast !== 'function') {
    throw new ConfigError(`createEventStore: event type "${type}" is at version ${version} and needs an upcast for older data`);
  }
  return { schema: definition.schema, version, upcast: definition.upcast };
}

function checkSnapshotOptions(options: SnapshotOptions<any>): void {
  if (!Number.isSafeInteger(options.every) || options.every < 1) throw new ConfigError(`snapshots: every must be a positive integer, got ${String(options.every)}`);
  if (typeof options.schemaVersion !== 'number' && typeof options.schemaVersion !== 'string') {
    throw new ConfigError('snapshots: schemaVersion (a number or string) is required');
  }
}

/**
 * Creates an {@link EventStore}.
 *
 * @example
 * ```ts
 * import { createStreamClient } from '@streamkit/core';
 * import { createEventStore } from '@streamkit/event-store';
 * import { z } from 'zod';
 *
 * const client = createStreamClient({ redis: 'redis://127.0.0.1:6379' });
 * const store = createEventStore({
 *   client,
 *   events: {
 *     OrderPlaced: z.object({ order_id: z.string(), amount: z.number().positive() }),
 *     OrderPaid: z.object({ order_id: z.string() }),
 *   },
 * });
 * ```
 */
export function createEventStore<M extends EventDefinitions>(options: EventStoreOptions<M>): EventStore<M> {
  return new EventStore(options);
}
