import { ConfigError, sleep } from '@streamkit/core';
import { ConcurrencyError } from './errors.js';
import type { EventStore, SnapshotOptions } from './eventStore.js';
import type { EventDefinitions, EventInput, Metadata } from './types.js';

/** An event as a decider produces it. */
export interface DecidedEvent {
  type: string;
  data: unknown;
  metadata?: Metadata;
  id?: string;
}

/** A decider: what the state of an aggregate is, and which events a command produces. */
export interface Decider<State, Command, E extends { type: string; data: unknown }> {
  /** The events a command produces in a state (none, one or many). Throw to refuse the command. */
  decide: (command: Command, state: State) => E | readonly E[];
  /** The state after an event. */
  evolve: (state: State, event: E) => State;
  initialState: () => State;
}

/** Options of {@link CommandHandler}. */
export interface CommandHandlerOptions<State, Command, E extends { type: string; data: unknown }> extends Decider<State, Command, E> {
  /** Attempts after a {@link ConcurrencyError} before it is thrown (default 100). */
  maxRetries?: number;
  /** Most the random backoff between attempts grows to (default 50 ms); it starts at 1 ms and doubles. */
  maxBackoffMs?: number;
  /** Snapshots of this aggregate (default: the store's). A snapshot is stored after an append crosses a multiple of `every`. */
  snapshots?: SnapshotOptions<State> | false;
}

/** What a command handler returns. */
export interface CommandResult<State, E> {
  /** The state after the new events. */
  newState: State;
  /** The events appended (empty when the command decided nothing). */
  newEvents: E[];
  /** The stream's version after the append. */
  nextExpectedVersion: number;
  createdNewStream: boolean;
  /** How many times the command was decided (1 without conflicts). */
  attempts: number;
}

/** Runs a command against an aggregate stream. See {@link CommandHandler}. */
export type HandleCommand<State, Command, E> = <M extends EventDefinitions>(
  store: EventStore<M>,
  streamName: string,
  command: Command,
) => Promise<CommandResult<State, E>>;

/**
 * Turns a decider into a command handler: load the aggregate, decide, append with the loaded
 * version as the expected version; on a {@link ConcurrencyError} catch up on the events that
 * won the race (only those are read), decide again and retry, with a small random backoff.
 *
 * @example
 * ```ts
 * const handle = CommandHandler({ decide, evolve, initialState });
 * const { newState } = await handle(store, 'order-1', { type: 'PayOrder', order_id: 'order-1' });
 * ```
 */
export function CommandHandler<State, Command, E extends { type: string; data: unknown }>(
  options: CommandHandlerOptions<State, Command, E>,
): HandleCommand<State, Command, E> {
  if (!options || typeof options.decide !== 'function' || typeof options.evolve !== 'function' || typeof options.initialState !== 'function') {
    throw new ConfigError('CommandHandler: decide, evolve and initialState functions are required');
  }
  const maxRetries = options.maxRetries ?? 100;
  if (!Number.isSafeInteger(maxRetries) || maxRetries < 0) throw new ConfigError(`CommandHandler: maxRetries must be a non-negative integer, got ${String(maxRetries)}`);
  const maxBackoffMs = options.maxBackoffMs ?? 50;

  return async (store, streamName, command) => {
    const snapshots = options.snapshots === false ? undefined : (options.snapshots ?? store.snapshotDefaults);
    const evolve = options.evolve as (state: State, event: any) => State;
    const loaded = await store.aggregateStream(streamName, {
      evolve,
      initialState: options.initialState,
      snapshots: snapshots ?? false,
    });
    let state = loaded.state;
    let version = loaded.version;
    let position = loaded.position;
    for (let attempt = 1; ; attempt++) {
      const decided = options.decide(command, state);
      const newEvents = (Array.isArray(decided) ? [...decided] : [decided]) as E[];
      if (newEvents.length === 0) {
        return { newState: state, newEvents, nextExpectedVersion: version, createdNewStream: false, attempts: attempt };
      }
      try {
        const result = await store.appendToStream(streamName, newEvents as unknown as EventInput<any>[], {
          expectedVersion: version === -1 ? 'no_stream' : version,
        });
        let newState = state;
        if (result.nextExpectedVersion !== version + newEvents.length) {
          // Some of the events were in the stream already (their ids had been appended, as by an
          // earlier run of this command): they are in the state or after it, so do not apply them
          // again; fold in what the stream holds after the loaded version instead.
          let streamVersion = version;
          for (const event of await store.readStream(streamName, { from: version + 1 })) {
            newState = evolve(newState, event);
            streamVersion = event.version;
          }
          return { newState, newEvents, nextExpectedVersion: streamVersion, createdNewStream: result.createdNewStream, attempts: attempt };
        }
        for (const event of newEvents) newState = evolve(newState, event);
        if (snapshots && Math.floor(result.nextExpectedVersion / snapshots.every) > Math.floor(version / snapshots.every)) {
          await store
            .saveSnapshot(streamName, { state: newState, version: result.nextExpectedVersion, position: result.positions[result.positions.length - 1]! }, snapshots)
            .catch(() => false);
        }
        return { newState, newEvents, nextExpectedVersion: result.nextExpectedVersion, createdNewStream: result.createdNewStream, attempts: attempt };
      } catch (error) {
        if (!ConcurrencyError.is(error) || attempt > maxRetries) throw error;
        // Another writer won. Back off first, then fold in only the events that won, and decide
        // again at once: the state is as fresh as it can be when the next append goes out.
        await sleep(Math.random() * Math.min(maxBackoffMs, 2 ** Math.min(attempt, 10)));
        // Read from the last event folded in, to check it is still there: when it is not, the
        // stream was deleted and started again (maybe longer than before): rebuild from scratch.
        let won = await store.readStream(streamName, { from: Math.max(version, 0) });
        if (version >= 0) {
          if (won[0]?.position === position) won = won.slice(1);
          else {
            state = options.initialState();
            version = -1;
            won = await store.readStream(streamName);
          }
        }
        for (const event of won) {
          state = evolve(state, event);
          version = event.version;
          position = event.position;
        }
      }
    }
  };
}
