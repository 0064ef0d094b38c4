import { isConnectionError, pack, runScript, type RedisClient } from '@streamkit/core';
import { canonicalWithIdAndTime } from './canonical.js';
import { entryHash, GENESIS_HASH } from './chain.js';
import { AppendConflictError, ChainHeadError } from './errors.js';
import type { LogKeys } from './keys.js';
import { append as appendScript } from './scripts/generated/index.js';
import type { RecordResult, StoredEntry } from './schema.js';

/** The chain head: the newest entry's seq, hash and id. */
export interface ChainHead {
  seq: number;
  hash: string;
  id: string;
}

/** A record ready to append, but for its place in the chain (id, seq, previous hash). */
export interface PreparedRecord {
  entry: Omit<StoredEntry, 'id' | 'time'>;
  actor: string;
  resource: string;
  action: string;
  /** The entry before PII encryption, kept to encrypt again when the subject key changes. */
  plain?: Omit<StoredEntry, 'id' | 'time'>;
  /** The PII subject reference and key id, when the entry holds ciphertext. */
  subject?: { ref: string; keyId: string };
}

/** Records per script call: the append script has 4 + 2 × 16 keys. */
export const BATCH_SIZE = 16;

interface Placed {
  seq: number;
  id: string;
  hash: string;
}

interface Pending {
  record: PreparedRecord;
  /** The canonical JSON of the record for an id and a time (built once per record version). */
  canonical?: (id: string, time: number) => string;
  /** Its actor's and resource's index keys. */
  indexKeys: [string, string];
  resolve(result: RecordResult): void;
  reject(error: unknown): void;
  conflicts: number;
  /** Where it went in a batch that ended with a connection error: it may or may not be in the log. */
  uncertain?: Placed;
}

interface Batch {
  epoch: number;
  records: Pending[];
  placed: Placed[];
  prev: string;
}

type Reply = ['OK'] | ['CONFLICT', string, string, string] | ['DUP'] | ['KEY', number];

/** Hooks the writer calls back into the log for. */
export interface WriterHooks {
  /** Re-encrypts a record whose subject key changed (the script answered KEY). */
  refreshKey(record: PreparedRecord): Promise<PreparedRecord>;
}

function idParts(id: string): [number, number] {
  const dash = id.indexOf('-');
  return [Number(id.slice(0, dash)), Number(id.slice(dash + 1))];
}

/**
 * Appends records to the chain with optimistic, pipelined compare-and-set. Queued records are
 * hashed in batches of up to {@link BATCH_SIZE} on top of the predicted head and sent at once,
 * several batches in flight, without waiting for the one before. When the server says the head
 * moved (another writer won), the batch and every one after it are hashed again on top of the
 * real head and sent again, in order. Replies arrive in order on one connection, so a record is
 * never hashed against a head other than the newest the writer knew.
 */
export class ChainWriter {
  private queue: Pending[] = [];
  private inflight: Batch[] = [];
  private tip: ChainHead | undefined;
  private epoch = 0;
  private loading = false;
  private busy = false;
  /** Conflicts in a row; resets on success. Backs the writer off a little under contention. */
  private streak = 0;

  constructor(
    private readonly redis: () => RedisClient,
    private readonly keys: LogKeys,
    private readonly name: string,
    private readonly hooks: WriterHooks,
    private readonly options: { maxInFlight: number; maxConflicts: number },
  ) {}

  append(record: PreparedRecord): Promise<RecordResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ record, resolve, reject, conflicts: 0, indexKeys: [this.keys.actor(record.actor), this.keys.resource(record.resource)] });
      // Let the callers of this tick queue theirs too, so they share a batch.
      if (this.queue.length === 1) queueMicrotask(() => this.pump());
    });
  }

  private inflightRecords(): number {
    let n = 0;
    for (const batch of this.inflight) n += batch.records.length;
    return n;
  }

  private pump(): void {
    if (this.busy) return;
    if (!this.tip) {
      if (this.queue.length > 0 && !this.loading) void this.loadHead();
      return;
    }
    while (this.queue.length > 0 && (this.inflight.length === 0 || this.inflightRecords() < this.options.maxInFlight)) {
      this.send(this.queue.splice(0, BATCH_SIZE));
    }
  }

  /** Reads the head from Redis, first settling records that may already be in the log. */
  private async loadHead(): Promise<void> {
    this.loading = true;
    try {
      const uncertain = this.queue.filter((p) => p.uncertain);
      if (uncertain.length > 0) {
        const found = await Promise.all(
          uncertain.map((p) => this.redis().call('XRANGE', [this.keys.log, p.uncertain!.id, p.uncertain!.id]) as Promise<[string, string[]][]>),
        );
        uncertain.forEach((p, i) => {
          const fields = found[i]?.[0]?.[1];
          const hashAt = fields ? fields.indexOf('hash') : -1;
          const placed = p.uncertain!;
          p.uncertain = undefined;
          if (fields && hashAt >= 0 && fields[hashAt + 1] === placed.hash) {
            this.queue.splice(this.queue.indexOf(p), 1);
            p.resolve({ id: placed.id, seq: placed.seq, hash: placed.hash });
          }
        });
      }
      const [hash, seq, id] = (await this.redis().call('HMGET', [this.keys.head, 'hash', 'seq', 'id'])) as (string | null)[];
      this.tip = { hash: hash ?? GENESIS_HASH, seq: seq ? Number(seq) : 0, id: id ?? '0-0' };
    } catch (error) {
      const failed = this.queue;
      this.queue = [];
      for (const p of failed) p.reject(error);
    } finally {
      this.loading = false;
    }
    this.pump();
  }

  private send(records: Pending[]): void {
    let tip = this.tip!;
    const prev = tip.hash;
    const placed: Placed[] = [];
    const keys: string[] = [this.keys.log, this.keys.head, this.keys.indexes, this.keys.subjects];
    const entries: string[][] = [];
    const now = Date.now();
    for (const p of records) {
      const [tipMs, tipSeq] = idParts(tip.id);
      const id = now > tipMs ? `${now}-0` : `${tipMs}-${tipSeq + 1}`;
      const time = now > tipMs ? now : tipMs;
      const seq = tip.seq + 1;
      p.canonical ??= canonicalWithIdAndTime(p.record.entry as Record<string, unknown>);
      const canonical = p.canonical(id, time);
      const hash = entryHash(this.name, seq, tip.hash, canonical);
      placed.push({ seq, id, hash });
      keys.push(p.indexKeys[0], p.indexKeys[1]);
      entries.push([String(seq), id, hash, canonical, p.record.action, p.record.subject?.ref ?? '', p.record.subject?.keyId ?? '']);
      tip = { seq, hash, id };
    }
    const lastActor = keys[keys.length - 2]!;
    const lastResource = keys[keys.length - 1]!;
    while (keys.length < 4 + 2 * BATCH_SIZE) keys.push(lastActor, lastResource);
    this.tip = tip;
    const batch: Batch = { epoch: this.epoch, records, placed, prev };
    this.inflight.push(batch);
    const first = placed[0]!;
    runScript<Reply>(this.redis(), appendScript, keys, [prev, first.seq, first.id, first.hash, pack(entries)]).then(
      (reply) => this.onReply(batch, reply),
      (error: unknown) => this.onError(batch, error),
    );
  }

  /** Ends the epoch: this batch and every later one in flight are doomed (they chain to hashes that will not be the head). */
  private restart(from: Batch, tip: ChainHead | undefined): Pending[] {
    const at = this.inflight.indexOf(from);
    const doomed = at >= 0 ? this.inflight.slice(at) : [from];
    this.inflight = at >= 0 ? this.inflight.slice(0, at) : this.inflight;
    this.epoch++;
    const records = doomed.flatMap((batch) => batch.records);
    this.queue = [...records, ...this.queue];
    this.tip = tip;
    return records;
  }

  private current(batch: Batch): boolean {
    return batch.epoch === this.epoch && this.inflight.includes(batch);
  }

  private onReply(batch: Batch, reply: Reply): void {
    if (!this.current(batch)) return;
    const status = reply[0];
    if (status === 'OK' || status === 'DUP') {
      this.streak = 0;
      this.inflight.splice(this.inflight.indexOf(batch), 1);
      batch.records.forEach((p, i) => p.resolve({ ...batch.placed[i]! }));
      this.pump();
      return;
    }
    if (status === 'CONFLICT') {
      const [, seq, hash, id] = reply as ['CONFLICT', string, string, string];
      this.restart(batch, { seq: Number(seq), hash, id });
      for (const p of batch.records) {
        if (++p.conflicts > this.options.maxConflicts) {
          this.queue.splice(this.queue.indexOf(p), 1);
          p.reject(new AppendConflictError(this.name, p.conflicts));
        }
      }
      // Another writer is appending: give it a moment (random, growing with the streak) rather
      // than sending a batch that will most likely lose again, so records gather into fuller batches.
      if (++this.streak > 1) {
        this.busy = true;
        setTimeout(() => {
          this.busy = false;
          this.pump();
        }, Math.random() * Math.min(this.streak - 1, 4));
        return;
      }
      this.pump();
      return;
    }
    // KEY: a subject key was forgotten or replaced; encrypt again with the current one, then read
    // the head again (nothing was written, but other writers may have moved it).
    const stale = batch.records[Number(reply[1]) - 1]!;
    this.restart(batch, undefined);
    this.busy = true;
    this.hooks.refreshKey(stale.record).then(
      (record) => {
        stale.record = record;
        stale.canonical = undefined;
        this.busy = false;
        this.pump();
      },
      (error: unknown) => {
        this.busy = false;
        this.queue.splice(this.queue.indexOf(stale), 1);
        stale.reject(error);
        this.pump();
      },
    );
  }

  private onError(batch: Batch, error: unknown): void {
    if (!this.current(batch)) return;
    const message = error instanceof Error ? error.message : String(error);
    if (isConnectionError(error)) {
      // The script may or may not have run: find out before sending again.
      const at = this.inflight.indexOf(batch);
      for (const doomed of this.inflight.slice(at)) doomed.records.forEach((p, i) => (p.uncertain = doomed.placed[i]));
      this.restart(batch, undefined);
      this.pump();
      return;
    }
    this.restart(batch, undefined);
    const failure = /SK_LOG_AHEAD|SK_BAD_SEQ/.test(message) ? new ChainHeadError(this.name, message.replace(/^ERR /, '')) : error;
    for (const p of batch.records) {
      this.queue.splice(this.queue.indexOf(p), 1);
      p.reject(failure);
    }
    this.pump();
  }
}
