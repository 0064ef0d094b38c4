import { ConfigError, StreamId } from '@streamkit/core';
import type { EventDefinitions, RecordedEvent } from './types.js';
import type { EventStore } from './eventStore.js';

/** Which events of the global log a reader wants. */
export interface LogFilter {
  /** Only these event types. */
  types?: readonly string[];
  /** Only events of streams whose name starts with this. */
  streamPrefix?: string;
}

/** A checkpoint of the global log: the last entry id read in each partition, comma-separated. */
export function encodeCheckpoint(cursors: readonly string[]): string {
  return cursors.map((id) => (id === '0-0' ? '0' : id)).join(',');
}

/** The cursors of a checkpoint; throws {@link ConfigError} when it does not fit the store. */
export function decodeCheckpoint(checkpoint: string, partitions: number): string[] {
  if (typeof checkpoint !== 'string') throw new ConfigError(`global log: a checkpoint must be a string, got ${typeof checkpoint}`);
  const parts = checkpoint.split(',');
  if (parts.length !== partitions) {
    throw new ConfigError(`global log: checkpoint "${checkpoint.slice(0, 80)}" has ${parts.length} partitions, the store has ${partitions}`);
  }
  return parts.map((part) => (part === '0' ? '0-0' : StreamId.from(part)));
}

/** The checkpoint before the first event. */
export function startCheckpoint(partitions: number): string[] {
  return Array.from({ length: partitions }, () => '0-0');
}

function matches(filter: LogFilter | undefined, fields: Record<string, string>): boolean {
  if (!filter) return true;
  if (filter.types && !filter.types.includes(fields.t ?? '')) return false;
  if (filter.streamPrefix !== undefined && !(fields.s ?? '').startsWith(filter.streamPrefix)) return false;
  return true;
}

/**
 * Merges the partitions of the global log in entry-id (time) order. Each partition is read in
 * pages after its cursor; an event is emitted only once every partition that may hold an
 * earlier one has been read past it, so the merge is exact for the entries present when read.
 */
export class LogMerger<M extends EventDefinitions> {
  readonly cursors: string[];
  private readonly buffers: [string, string[]][][];
  private readonly offsets: number[];
  /** The last page of the partition was short: nothing more there for now. */
  private readonly drained: boolean[];
  private readonly keys: string[];
  private readonly pageSize: number;
  private readonly filter: LogFilter | undefined;

  constructor(
    private readonly store: EventStore<M>,
    cursors: string[],
    options: { pageSize: number; filter?: LogFilter },
  ) {
    this.cursors = [...cursors];
    this.keys = store.logKeys();
    this.buffers = this.keys.map(() => []);
    this.offsets = this.keys.map(() => 0);
    this.drained = this.keys.map(() => false);
    this.pageSize = options.pageSize;
    this.filter = options.filter;
  }

  /** True when every partition was read to its end. */
  get atEnd(): boolean {
    return this.drained.every((drained, p) => drained && this.offsets[p]! >= this.buffers[p]!.length);
  }

  /** Forgets that partitions were read to their end, so the next {@link next} asks again. */
  rewind(): void {
    this.drained.fill(false);
  }

  private async refill(partitions: number[]): Promise<void> {
    await Promise.all(
      partitions.map(async (p) => {
        const key = this.keys[p]!;
        // The buffer's last entry, or the cursor: where the next page starts.
        const buffer = this.buffers[p]!;
        const after = buffer.length > 0 ? buffer[buffer.length - 1]![0] : this.cursors[p]!;
        const page = (await this.store.command('XRANGE', key, () =>
          this.store.redis.call('XRANGE', [key, `(${after}`, '+', 'COUNT', this.pageSize]),
        )) as [string, string[]][];
        this.buffers[p] = page;
        this.offsets[p] = 0;
        this.drained[p] = page.length < this.pageSize;
      }),
    );
  }

  /** Up to `max` events after the cursors, in order; advances the cursors past what it returns (and past filtered-out entries). */
  async next(max: number): Promise<RecordedEvent<any>[]> {
    const out: RecordedEvent<any>[] = [];
    while (out.length < max) {
      const empty: number[] = [];
      for (let p = 0; p < this.keys.length; p++) {
        if (this.offsets[p]! >= this.buffers[p]!.length && !this.drained[p]) empty.push(p);
      }
      if (empty.length > 0) await this.refill(empty);
      let best = -1;
      let bestId = '';
      for (let p = 0; p < this.keys.length; p++) {
        const entry = this.buffers[p]![this.offsets[p]!];
        if (!entry) continue;
        if (best === -1 || StreamId.compare(entry[0], bestId) < 0) {
          best = p;
          bestId = entry[0];
        }
      }
      if (best === -1) break;
      const [id, flat] = this.buffers[best]![this.offsets[best]!]!;
      this.offsets[best]!++;
      this.cursors[best] = id;
      const fields: Record<string, string> = {};
      for (let i = 0; i < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
      if (!matches(this.filter, fields)) continue;
      out.push(this.store.decodeLogEntry(best, this.keys[best]!, id, fields));
    }
    return out;
  }
}
