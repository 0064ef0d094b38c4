/**
 * A cheaper async generator for paged reads. An `async function*` costs several promise jobs per
 * `yield`, which for a read of small entries is more than decoding them; this iterator hands out
 * the entries of a page it already holds as resolved promises, one job each, and awaits only
 * between pages. It behaves as the generator it replaces: nothing runs before the first `next()`,
 * items are produced (and may throw) one at a time in order, a throw ends it, and `return()` ends
 * it at once.
 */

/** %AsyncGeneratorPrototype%, so the result passes for an async generator (`Symbol.asyncIterator`, `Symbol.toStringTag`, `Symbol.asyncDispose` where Node has it). */
const asyncGeneratorPrototype: object = Object.getPrototypeOf(Object.getPrototypeOf((async function* () {})()));

/** What {@link pagedIterator} asks of a paged read. */
export interface PagedSource<R, T> {
  /** Called once, on the first `next()`: the first page (its promise may be a prefetch). */
  start(): Promise<R[]>;
  /** Called with each page as it arrives: the promise of the following page, or `undefined` after the last. */
  after(page: R[]): Promise<R[]> | undefined;
  /** Turns one raw item into an item to yield, `null` to skip it; may throw, which ends the iteration. */
  map(raw: R): T | null;
  /** Checked before each item: true ends the iteration. */
  stopped(): boolean;
}

/** An `AsyncGenerator` over the items of a paged read, see the file comment. */
export function pagedIterator<R, T>(source: PagedSource<R, T>): AsyncGenerator<T, void, undefined> {
  let page: R[] = [];
  let index = 0;
  let pending: Promise<R[]> | undefined;
  let started = false;
  let done = false;
  let busy: Promise<IteratorResult<T, void>> | undefined;
  const finished: IteratorResult<T, void> = { value: undefined, done: true };

  const finish = (): void => {
    done = true;
    page = [];
    pending = undefined;
  };

  /** The next item of the page held, `undefined` when it is used up; throws what `map` throws. */
  const fromPage = (): IteratorResult<T, void> | undefined => {
    while (index < page.length) {
      if (source.stopped()) {
        finish();
        return finished;
      }
      const value = source.map(page[index++]!);
      if (value !== null) return { value, done: false };
    }
    return undefined;
  };

  const step = (): Promise<IteratorResult<T, void>> => {
    if (done) return Promise.resolve(finished);
    try {
      const result = fromPage();
      if (result) return Promise.resolve(result);
      if (!started) {
        started = true;
        pending = source.start();
      }
    } catch (error) {
      finish();
      return Promise.reject(error);
    }
    if (!pending) {
      finish();
      return Promise.resolve(finished);
    }
    // Between pages: wait for the next one (and ask for the one after), then go on.
    const waiting = pending;
    busy = waiting.then(
      (next) => {
        busy = undefined;
        if (done) return finished;
        page = next;
        index = 0;
        pending = source.after(next);
        return step();
      },
      (error: unknown) => {
        busy = undefined;
        finish();
        throw error;
      },
    );
    return busy;
  };

  // Calls made while one waits for a page run after it, in order, as a generator queues them.
  const next = (): Promise<IteratorResult<T, void>> => (busy ? busy.then(next, next) : step());

  const iterator = Object.create(asyncGeneratorPrototype) as AsyncGenerator<T, void, undefined>;
  Object.defineProperties(iterator, {
    next: { value: next, writable: true, configurable: true },
    return: {
      value: (value?: void) => {
        finish();
        return Promise.resolve({ value, done: true });
      },
      writable: true,
      configurable: true,
    },
    throw: {
      value: (error: unknown) => {
        finish();
        return Promise.reject(error);
      },
      writable: true,
      configurable: true,
    },
  });
  return iterator;
}
