export { createStreamClient, StreamClient } from './client.js';
export type { StreamClientOptions, ReadManyOptions } from './client.js';
export { Stream, trimArguments } from './stream.js';
export type {
  AddManyOptions,
  AddOptions,
  DecodeOptions,
  IterateOptions,
  OnInvalid,
  ReadOptions,
  StreamContext,
  StreamOptions,
  TailOptions,
  TrimOptions,
} from './stream.js';
export { StreamId } from './streamId.js';
export type { IdBound, StreamIdParts } from './streamId.js';
export { createCodec, fieldSpec } from './codec.js';
export type { Codec, Entry, FieldKind, FlatFields } from './codec.js';
export {
  ClientClosedError,
  ConfigError,
  DecodeError,
  InvalidStreamIdError,
  RedisCommandError,
  StreamkitError,
  ValidationError,
  toFieldIssues,
} from './errors.js';
export type { FieldIssue, StreamkitErrorCode } from './errors.js';
export type { ConsumerInfo, GroupInfo, StreamCounters, StreamGroupFull, StreamInfo, StreamInfoFull } from './info.js';
export { hashTag, hashedPart, keySlot, taggedKey } from './keys.js';
export { isCluster, isConnectionError, sleep } from './connection.js';
export type { RedisClient } from './connection.js';
export { defineScript, runScript } from './scripts.js';
export type { LuaScript } from './scripts.js';
export { pack } from './msgpack.js';
export type { Packable } from './msgpack.js';
export { ConsumerGroup } from './group/consumerGroup.js';
export type {
  AutoClaimResult,
  GroupReadOptions,
  PendingEntriesOptions,
  PendingEntry,
  PendingSummary,
  RawGroupEntry,
} from './group/consumerGroup.js';
export { defaultConsumerName } from './group/worker.js';
export type { BatchHandler, Handler, HandlerContext, RetryOptions, Worker, WorkerEvents, WorkerOptions, WorkerStats } from './group/worker.js';
