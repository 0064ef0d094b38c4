import { deepStrictEqual, fail } from 'node:assert/strict';
import type { Decider } from './commandHandler.js';

/** The `then` step of a {@link DeciderSpecification}. */
export interface ThenStep<State, E> {
  /** Asserts the command produced exactly these events (compared on `type` and `data`, in order). */
  then(expected: E | readonly E[]): void;
  /** Asserts the command produced no event. */
  thenNothingHappened(): void;
  /**
   * Asserts `decide` threw: with an error class, an instance of it; with a function, one for
   * which it returns true; with nothing, any error. Returns the error.
   */
  thenThrows(check?: (new (...args: any[]) => Error) | ((error: unknown) => boolean)): unknown;
  /** The state the command was decided in (after the given events). */
  state(): State;
}

/** The `when` step of a {@link DeciderSpecification}. */
export interface WhenStep<State, Command, E> {
  when(command: Command): ThenStep<State, E>;
}

const shape = (event: { type: string; data: unknown }) => ({ type: event.type, data: event.data });

/**
 * Given/when/then tests of a decider, without Redis: `given` past events, `when` a command,
 * `then` the events it must produce (or `thenThrows`). Assertions throw Node's `AssertionError`,
 * so any test runner reports them.
 *
 * @example
 * ```ts
 * const spec = DeciderSpecification.for({ decide, evolve, initialState });
 * spec.given([{ type: 'OrderPlaced', data: { order_id: 'o-1', amount: 10 } }])
 *   .when({ type: 'PayOrder', order_id: 'o-1' })
 *   .then([{ type: 'OrderPaid', data: { order_id: 'o-1' } }]);
 * ```
 */
export const DeciderSpecification = {
  for<State, Command, E extends { type: string; data: unknown }>(decider: Decider<State, Command, E>) {
    return {
      given(events: readonly E[] = []): WhenStep<State, Command, E> {
        return {
          when(command: Command): ThenStep<State, E> {
            const state = events.reduce((current, event) => decider.evolve(current, event), decider.initialState());
            const run = (): { events: E[] } | { error: unknown } => {
              try {
                const decided = decider.decide(command, state);
                return { events: Array.isArray(decided) ? [...(decided as E[])] : [decided as E] };
              } catch (error) {
                return { error };
              }
            };
            const outcome = run();
            const produced = (): E[] => {
              if ('error' in outcome) {
                const error = outcome.error;
                fail(`expected events, but decide threw: ${error instanceof Error ? error.message : String(error)}`);
              }
              return outcome.events;
            };
            return {
              then(expected) {
                const list = (Array.isArray(expected) ? expected : [expected]) as E[];
                deepStrictEqual(produced().map(shape), list.map(shape));
              },
              thenNothingHappened() {
                deepStrictEqual(produced().map(shape), []);
              },
              thenThrows(check) {
                if (!('error' in outcome)) fail(`expected decide to throw, but it produced ${JSON.stringify(outcome.events.map(shape))}`);
                const error = outcome.error;
                if (check) {
                  const isClass = typeof check === 'function' && /^class\s/.test(Function.prototype.toString.call(check));
                  const ok = isClass || (check as { prototype?: unknown }).prototype instanceof Error
                    ? error instanceof (check as new (...args: any[]) => Error)
                    : (check as (error: unknown) => boolean)(error);
                  if (!ok) fail(`decide threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}, which fails the check`);
                }
                return error;
              },
              state: () => state,
            };
          },
        };
      },
    };
  },
};
