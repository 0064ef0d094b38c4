/**
 * Key layout. Every key of one aggregate stream lives under the hash tag of its partition,
 * `{es:<store>:p<n>}`, so the append script (stream, version, idempotency ids, global-log partition)
 * runs in one slot on a cluster. The partition is FNV-1a of the stream name modulo `partitions`.
 */

/** FNV-1a (32 bit) of a string's UTF-8 bytes. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** The partition of a stream name. */
export function partitionOf(streamName: string, partitions: number): number {
  return fnv1a(streamName) % partitions;
}

/** Key names (without the client's prefix) of one store. */
export class KeyLayout {
  constructor(
    readonly store: string,
    readonly partitions: number,
  ) {}

  tag(partition: number): string {
    return `{es:${this.store}:p${partition}}`;
  }

  /** The partition of the global log. */
  log(partition: number): string {
    return `${this.tag(partition)}:log`;
  }

  forStream(streamName: string): StreamKeys {
    const partition = partitionOf(streamName, this.partitions);
    const tag = this.tag(partition);
    return {
      partition,
      stream: `${tag}:s:${streamName}`,
      version: `${tag}:v:${streamName}`,
      ids: `${tag}:ids:${streamName}`,
      snapshot: `${tag}:snap:${streamName}`,
      log: `${tag}:log`,
      archive: (suffix: string) => `${tag}:deleted:${streamName}:${suffix}`,
    };
  }

  /** The checkpoint key of a named subscription. */
  subscription(name: string): string {
    return `es:${this.store}:sub:${name}`;
  }

  /** The per-partition checkpoint hash of a projection (in the partition's slot). */
  projection(name: string, partition: number): string {
    return `${this.tag(partition)}:proj:${name}`;
  }
}

/** The keys of one aggregate stream. */
export interface StreamKeys {
  partition: number;
  stream: string;
  version: string;
  ids: string;
  snapshot: string;
  log: string;
  archive(suffix: string): string;
}
