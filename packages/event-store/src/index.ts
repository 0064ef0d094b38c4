export { createEventStore, EventStore } from './eventStore.js';
export type {
  AggregateOptions,
  AggregateResult,
  AppendOptions,
  AppendResult,
  EventStoreOptions,
  ReadAllOptions,
  ReadAllResult,
  ReadStreamOptions,
  SnapshotOptions,
} from './eventStore.js';
export { ConcurrencyError } from './errors.js';
export type { ExpectedVersion } from './errors.js';
export type { EventDefinitions, EventInput, EventOf, EventTypeDefinition, Metadata, RecordedEvent, RecordedFields, SchemaOf } from './types.js';
export type { LogFilter } from './log.js';
export { Subscription } from './subscription.js';
export type { SubscribeOptions, SubscriptionContext } from './subscription.js';
export { Projection } from './projection.js';
export type { ProjectionContext, ProjectionOptions } from './projection.js';
export { CommandHandler } from './commandHandler.js';
export type { CommandHandlerOptions, CommandResult, Decider, DecidedEvent, HandleCommand } from './commandHandler.js';
export { DeciderSpecification } from './deciderSpecification.js';
export type { ThenStep, WhenStep } from './deciderSpecification.js';
export { fnv1a, partitionOf } from './keys.js';
