import { isConnectionError, runScript, type RedisClient } from '@streamkit/core';
import { canonicalJson } from './canonical.js';
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

interface Sent {
  epoch: number;
  seq: number;
  id: string;
  hash: string;
  prev: string;
}

interface Pending {
  record: PreparedRecord;
  resolve(result: RecordResult): void;
  reject(error: unknown): void;
  conflicts: number;
  sent?: Sent;
  /** Sent in an epoch that ended with an error: it may or may not be in the log. */
  uncertain?: Sent;
}

type Reply = ['OK'] | ['CONFLICT', string, string, string] | ['DUP'] | ['KEY'];

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
 * Appends records to the chain with optimistic, pipelined compare-and-set: each record is hashed
 * on top of the predicted head and sent at once, without waiting for the one before. When the
 * server says the head moved (another writer won), every record from that one on is hashed again
 * on top of the real head and sent again, in order. Replies arrive in order on one connection,
 * so a record is never hashed against a head that was not the newest the writer knew.
 */
export class ChainWriter {
  private queue: Pending[] = [];
  private inflight: Pending[] = [];
  private tip: ChainHead | undefined;
  private epoch = 0;
  private loading = false;
  private busy = false;

  constructor(
    private readonly redis: () => RedisClient,
    private readonly keys: LogKeys,
    private readonly name: string,
    private readonly hooks: WriterHooks,
    private readonly options: { maxInFlight: number; maxConflicts: number },
  ) {}

  append(record: PreparedRecord): Promise<RecordResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ record, resolve, reject, conflicts: 0 });
      this.pump();
    });
  }

  private pump(): void {
    if (this.busy) return;
    if (!this.tip) {
      if (this.queue.length > 0 && !this.loading) void this.loadHead();
      return;
    }
    while (this.queue.length > 0 && this.inflight.length < this.options.maxInFlight) this.send(this.queue.shift()!);
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
          const sent = p.uncertain!;
          p.uncertain = undefined;
          if (fields && hashAt >= 0 && fields[hashAt + 1] === sent.hash) {
            this.queue.splice(this.queue.indexOf(p), 1);
            p.resolve({ id: sent.id, seq: sent.seq, hash: sent.hash });
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

  private send(p: Pending): void {
    const tip = this.tip!;
    const [tipMs, tipSeq] = idParts(tip.id);
    const now = Date.now();
    const id = now > tipMs ? `${now}-0` : `${tipMs}-${tipSeq + 1}`;
    const seq = tip.seq + 1;
    const time = now > tipMs ? now : tipMs;
    const canonical = canonicalJson({ ...p.record.entry, id, time });
    const hash = entryHash(this.name, seq, tip.hash, canonical);
    const sent: Sent = { epoch: this.epoch, seq, id, hash, prev: tip.hash };
    p.sent = sent;
    this.tip = { seq, hash, id };
    this.inflight.push(p);
    const subject = p.record.subject;
    runScript<Reply>(
      this.redis(),
      appendScript,
      [this.keys.log, this.keys.head, this.keys.indexes, this.keys.actor(p.record.actor), this.keys.resource(p.record.resource), this.keys.subjects],
      [tip.hash, seq, id, hash, canonical, p.record.action, subject?.ref ?? '', subject?.keyId ?? ''],
    ).then(
      (reply) => this.onReply(p, sent, reply),
      (error: unknown) => this.onError(p, sent, error),
    );
  }

  /** Ends the epoch: every record in flight is doomed (it chains to a hash that will not be the head). */
  private restart(from: Pending, tip: ChainHead | undefined): void {
    const at = this.inflight.indexOf(from);
    const doomed = at >= 0 ? this.inflight.slice(at) : [from];
    const settledBefore = at >= 0 ? this.inflight.slice(0, at) : [];
    this.inflight = settledBefore;
    this.epoch++;
    for (const p of doomed) p.sent = undefined;
    this.queue = [...doomed, ...this.queue];
    this.tip = tip;
  }

  private onReply(p: Pending, sent: Sent, reply: Reply): void {
    if (sent.epoch !== this.epoch || p.sent !== sent) return;
    const status = reply[0];
    if (status === 'OK' || status === 'DUP') {
      this.inflight.splice(this.inflight.indexOf(p), 1);
      p.resolve({ id: sent.id, seq: sent.seq, hash: sent.hash });
      this.pump();
      return;
    }
    if (status === 'CONFLICT') {
      const [, seq, hash, id] = reply as ['CONFLICT', string, string, string];
      this.restart(p, { seq: Number(seq), hash, id });
      if (++p.conflicts > this.options.maxConflicts) {
        this.queue.splice(this.queue.indexOf(p), 1);
        p.reject(new AppendConflictError(this.name, p.conflicts));
      }
      this.pump();
      return;
    }
    // KEY: the subject key was forgotten or replaced; encrypt again with the current one, then
    // read the head again (nothing was written, but other writers may have moved it).
    this.restart(p, undefined);
    this.busy = true;
    this.hooks.refreshKey(p.record).then(
      (record) => {
        p.record = record;
        this.busy = false;
        this.pump();
      },
      (error: unknown) => {
        this.busy = false;
        this.queue.splice(this.queue.indexOf(p), 1);
        p.reject(error);
        this.pump();
      },
    );
  }

  private onError(p: Pending, sent: Sent, error: unknown): void {
    if (sent.epoch !== this.epoch || p.sent !== sent) return;
    const message = error instanceof Error ? error.message : String(error);
    if (isConnectionError(error)) {
      // The script may or may not have run: find out before sending it again.
      const at = this.inflight.indexOf(p);
      const doomed = at >= 0 ? this.inflight.slice(at) : [p];
      for (const d of doomed) if (d.sent) d.uncertain = d.sent;
      this.restart(p, undefined);
      this.pump();
      return;
    }
    this.restart(p, undefined);
    this.queue.splice(this.queue.indexOf(p), 1);
    p.reject(/SK_LOG_AHEAD|SK_BAD_SEQ/.test(message) ? new ChainHeadError(this.name, message.replace(/^ERR /, '')) : error);
    this.pump();
  }
}
