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

/** One partition's unread entries, with their ids parsed for cheap comparison. */
interface Buffer {
  entries: [string, string[]][];
  ms: number[];
  seq: number[];
  offset: number;
}

const EMPTY: Buffer = { entries: [], ms: [], seq: [], offset: 0 };

function toBuffer(entries: [string, string[]][], from?: Buffer): Buffer {
  const rest = from ? from.entries.slice(from.offset) : [];
  const ms = from ? from.ms.slice(from.offset) : [];
  const seq = from ? from.seq.slice(from.offset) : [];
  for (const entry of entries) {
    const id = entry[0];
    const dash = id.indexOf('-');
    // ms fits a double exactly; so does any sequence number below 2^53
    ms.push(Number(id.slice(0, dash)));
    seq.push(Number(id.slice(dash + 1)));
    rest.push(entry);
  }
  return { entries: rest, ms, seq, offset: 0 };
}

/**
 * Merges the partitions of the global log in entry-id (time) order. Each partition is read in
 * pages after its cursor; an event is emitted only once every partition that may hold an
 * earlier one has been read past it, so the merge is exact for the entries present when read.
 * When one partition needs its next page, every partition running low is topped up in the same
 * round trip.
 */
export class LogMerger<M extends EventDefinitions> {
  readonly cursors: string[];
  private buffers: Buffer[];
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
    this.buffers = this.keys.map(() => EMPTY);
    this.drained = this.keys.map(() => false);
    this.pageSize = options.pageSize;
    this.filter = options.filter;
  }

  /** True when every partition was read to its end. */
  get atEnd(): boolean {
    return this.drained.every((drained, p) => drained && this.buffers[p]!.offset >= this.buffers[p]!.entries.length);
  }

  /** Forgets that partitions were read to their end, so the next {@link next} asks again. */
  rewind(): void {
    this.drained.fill(false);
  }

  private remaining(p: number): number {
    const buffer = this.buffers[p]!;
    return buffer.entries.length - buffer.offset;
  }

  private async refill(partitions: number[]): Promise<void> {
    await Promise.all(
      partitions.map(async (p) => {
        const key = this.keys[p]!;
        const buffer = this.buffers[p]!;
        // After the buffer's last entry, or the cursor: where the next page starts.
        const after = buffer.entries.length > buffer.offset ? buffer.entries[buffer.entries.length - 1]![0] : this.cursors[p]!;
        const page = (await this.store.command('XRANGE', key, () =>
          this.store.redis.call('XRANGE', [key, `(${after}`, '+', 'COUNT', this.pageSize]),
        )) as [string, string[]][];
        this.buffers[p] = toBuffer(page, this.remaining(p) > 0 ? buffer : undefined);
        this.drained[p] = page.length < this.pageSize;
      }),
    );
  }

  /** Up to `max` events after the cursors, in order; advances the cursors past what it returns (and past filtered-out entries). */
  async next(max: number): Promise<RecordedEvent<any>[]> {
    const out: RecordedEvent<any>[] = [];
    const partitions = this.keys.length;
    const low = Math.max(1, this.pageSize >> 2);
    while (out.length < max) {
      let needed = false;
      for (let p = 0; p < partitions; p++) {
        if (this.remaining(p) === 0 && !this.drained[p]) {
          needed = true;
          break;
        }
      }
      if (needed) {
        const refill: number[] = [];
        for (let p = 0; p < partitions; p++) if (!this.drained[p] && this.remaining(p) < low) refill.push(p);
        await this.refill(refill);
      }
      // Emit in order until some partition that may hold more runs dry.
      while (out.length < max) {
        let best = -1;
        let bestMs = 0;
        let bestSeq = 0;
        let dry = false;
        for (let p = 0; p < partitions; p++) {
          const buffer = this.buffers[p]!;
          if (buffer.offset >= buffer.entries.length) {
            if (!this.drained[p]) dry = true;
            continue;
          }
          const ms = buffer.ms[buffer.offset]!;
          const seq = buffer.seq[buffer.offset]!;
          if (best === -1 || ms < bestMs || (ms === bestMs && seq < bestSeq)) {
            best = p;
            bestMs = ms;
            bestSeq = seq;
          }
        }
        if (dry || best === -1) break;
        const buffer = this.buffers[best]!;
        const [id, flat] = buffer.entries[buffer.offset++]!;
        this.cursors[best] = id;
        const fields: Record<string, string> = {};
        for (let i = 0; i < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
        if (!matches(this.filter, fields)) continue;
        out.push(this.store.decodeLogEntry(best, this.keys[best]!, id, fields));
      }
      if (this.atEnd) break;
    }
    return out;
  }
}
