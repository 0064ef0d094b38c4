import { describe, expect, it } from 'vitest';
import { pagedIterator, type PagedSource } from './pagedIterator.js';

/** A paged source over fixed pages, recording what it was asked. */
function pages(data: number[][], overrides: Partial<PagedSource<number, number>> = {}) {
  const log: string[] = [];
  let at = 0;
  const load = (): Promise<number[]> => {
    log.push(`load ${at}`);
    return Promise.resolve(data[at++] ?? []);
  };
  const source: PagedSource<number, number> = {
    start: load,
    after: (page) => (at < data.length && page.length > 0 ? load() : undefined),
    map: (n) => n,
    stopped: () => false,
    ...overrides,
  };
  return { iterator: pagedIterator(source), log };
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

describe('pagedIterator', () => {
  it('yields every item of every page in order, asking for the next page when one arrives', async () => {
    const { iterator, log } = pages([[1, 2, 3], [4, 5], [6]]);
    expect(await collect(iterator)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(log).toEqual(['load 0', 'load 1', 'load 2']);
  });

  it('does nothing before the first next(), like an async generator', async () => {
    let started = 0;
    const { iterator } = pages([[1]], {
      start: () => {
        started++;
        return Promise.resolve([1]);
      },
      after: () => undefined,
    });
    expect(started).toBe(0);
    expect(await iterator.next()).toEqual({ value: 1, done: false });
    expect(started).toBe(1);
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
  });

  it('rejects the first next() when start throws, then is done', async () => {
    const { iterator } = pages([], {
      start: () => {
        throw new RangeError('bad option');
      },
    });
    await expect(iterator.next()).rejects.toThrow('bad option');
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
  });

  it('skips items mapped to null and ends at an item whose map throws, after the ones before it', async () => {
    const { iterator } = pages([[1, 2, 3, 4, 5]], {
      map: (n) => {
        if (n === 4) throw new Error('bad 4');
        return n === 2 ? null : n * 10;
      },
    });
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const n of iterator) seen.push(n);
      })(),
    ).rejects.toThrow('bad 4');
    expect(seen).toEqual([10, 30]);
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
  });

  it('passes a rejected page on and is done after it', async () => {
    const { iterator } = pages([[1]], { after: () => Promise.reject(new Error('connection lost')) });
    expect(await iterator.next()).toEqual({ value: 1, done: false });
    await expect(iterator.next()).rejects.toThrow('connection lost');
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
  });

  it('ends when stopped() turns true, before the next item', async () => {
    let stop = false;
    const { iterator } = pages([[1, 2, 3]], { stopped: () => stop });
    expect((await iterator.next()).value).toBe(1);
    stop = true;
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
  });

  it('return() ends it at once, also while a page is awaited (a for-await break)', async () => {
    const { iterator, log } = pages([[1, 2], [3, 4], [5]]);
    for await (const n of iterator) if (n === 2) break;
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
    expect(log).toEqual(['load 0', 'load 1']); // the prefetch of page 2, never read

    let release!: (page: number[]) => void;
    const slow = pagedIterator<number, number>({
      start: () => new Promise((resolve) => (release = resolve)),
      after: () => undefined,
      map: (n) => n,
      stopped: () => false,
    });
    const first = slow.next();
    expect(await slow.return()).toEqual({ value: undefined, done: true });
    release([1]);
    expect(await first).toEqual({ value: undefined, done: true });
  });

  it('answers next() calls made without waiting in order, each item once', async () => {
    const { iterator } = pages([[1, 2], [3], [4, 5]]);
    const results = await Promise.all(Array.from({ length: 7 }, () => iterator.next()));
    expect(results.map((r) => (r.done ? 'done' : r.value))).toEqual([1, 2, 3, 4, 5, 'done', 'done']);
  });

  it('passes for an async generator', async () => {
    const { iterator } = pages([[1]]);
    expect(Object.prototype.toString.call(iterator)).toBe('[object AsyncGenerator]');
    expect(iterator[Symbol.asyncIterator]()).toBe(iterator);
    await expect(iterator.throw(new Error('stop'))).rejects.toThrow('stop');
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
  });
});
