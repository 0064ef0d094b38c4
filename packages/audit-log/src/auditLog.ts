import { Readable } from 'node:stream';
import {
  ConfigError,
  RedisCommandError,
  StreamId,
  StreamkitError,
  ValidationError,
  runScript,
  toFieldIssues,
  type IdBound,
  type RedisClient,
  type StreamClient,
} from '@streamkit/core';
import {
  checkpointDigest,
  parseCheckpoint,
  resolveSigner,
  resolveVerifyKeys,
  signCheckpoint,
  type Checkpoint,
  type ResolvedSigner,
  type Signer,
  type VerifyKeys,
} from './checkpoint.js';
import { LegalHoldError } from './errors.js';
import { toCsvRow, CSV_COLUMNS } from './export.js';
import { logKeys, type LogKeys } from './keys.js';
import {
  checkPiiOptions,
  decryptValue,
  encryptValue,
  isEncrypted,
  newSubjectKey,
  parseSubjectKey,
  subjectRef,
  type PiiOptions,
  type SubjectKey,
} from './pii.js';
import { recordInputSchema, ERASED, type AuditEntry, type JsonValue, type RecordInput, type RecordResult, type StoredEntry } from './schema.js';
import { checkpoint as checkpointScript, forgetSubject as forgetScript, guardedTrim, query as queryScript } from './scripts/generated/index.js';
import { verifyLog, type VerifyOptions, type VerifyResult } from './verify.js';
import { ChainWriter, type ChainHead, type PreparedRecord } from './writer.js';

/** Options of {@link createAuditLog}. */
export interface AuditLogOptions {
  /** The core client (its prefix applies to every key of the log). */
  client: StreamClient;
  /** The log's name: part of every key and of every hash. Letters, digits and `._:-`. */
  name: string;
  /** The Ed25519 key that signs checkpoints; needed by {@link AuditLog.checkpoint} and {@link AuditLog.prune}. */
  signer?: Signer;
  /** Public keys (by key id) that checkpoint signatures are checked with; the signer's own is added. */
  verifyKeys?: VerifyKeys;
  /** Fields holding personal data, encrypted per subject so they can be erased. */
  pii?: PiiOptions;
  /** Records sent ahead without waiting for the one before (default 64). */
  maxInFlight?: number;
  /** Compare-and-set conflicts one record may meet before `record` gives up (default 10 000). */
  maxConflicts?: number;
}

/** Options of {@link AuditLog.byActor}, {@link AuditLog.byResource} and {@link AuditLog.range}. */
export interface QueryOptions {
  /** From this id, time in ms or Date (inclusive; `(id` for exclusive). */
  from?: IdBound;
  /** Up to this id, time in ms or Date (inclusive). */
  to?: IdBound;
  /** At most this many entries. */
  limit?: number;
  /** Only these actions. */
  actions?: readonly string[];
  /** Newest first. */
  reverse?: boolean;
}

/** Options of {@link AuditLog.export}. */
export interface ExportOptions {
  from?: IdBound;
  to?: IdBound;
  format: 'jsonl' | 'csv';
  /** Called after each page with how many entries were written out of the log's length. */
  onProgress?: (progress: { done: number; total: number }) => void;
}

type RawEntry = [string, string[]];

const NAME = /^[A-Za-z0-9._:-]{1,128}$/;

function positive(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw new ConfigError(`${what} must be a positive integer, got ${String(value)}`);
  return value;
}

/**
 * A tamper-evident audit trail on Redis Streams. Get one from {@link createAuditLog}.
 *
 * Every record is one entry of the log stream, hashed onto the one before it (a SHA-256 chain,
 * computed here, appended by one compare-and-set script), with an entry of the same id in the
 * actor's and the resource's index streams. {@link AuditLog.verify} checks it all.
 */
export class AuditLog {
  /** The log's name. */
  readonly name: string;
  /** The Redis keys of the log. */
  readonly keys: LogKeys;
  private readonly client: StreamClient;
  private readonly signer: ResolvedSigner | undefined;
  private readonly verifyKeyMap;
  private readonly pii: PiiOptions | undefined;
  private readonly writer: ChainWriter;
  private readonly subjectKeys = new Map<string, SubjectKey>();

  /** @internal use {@link createAuditLog} */
  constructor(options: AuditLogOptions) {
    if (!options || typeof options !== 'object') throw new ConfigError('createAuditLog: options are required');
    if (!options.client || typeof options.client.key !== 'function') throw new ConfigError('createAuditLog: `client` must be a streamkit StreamClient (createStreamClient)');
    if (typeof options.name !== 'string' || !NAME.test(options.name)) {
      throw new ConfigError(`createAuditLog: name ${JSON.stringify(options.name)} must be 1-128 letters, digits or ._:-`);
    }
    this.name = options.name;
    this.client = options.client;
    this.keys = logKeys(options.client.prefix, options.name);
    this.signer = resolveSigner(options.signer, this.name);
    this.verifyKeyMap = resolveVerifyKeys(options.verifyKeys, this.signer, this.name);
    checkPiiOptions(options.pii, this.name);
    this.pii = options.pii;
    this.writer = new ChainWriter(() => this.redis, this.keys, this.name, { refreshKey: (record) => this.refreshKey(record) }, {
      maxInFlight: positive(options.maxInFlight ?? 64, `audit log "${this.name}": maxInFlight`),
      maxConflicts: positive(options.maxConflicts ?? 10_000, `audit log "${this.name}": maxConflicts`),
    });
  }

  private get redis(): RedisClient {
    this.client.assertOpen();
    return this.client.redis;
  }

  private async command<R>(name: string, run: () => Promise<R>): Promise<R> {
    try {
      return await run();
    } catch (error) {
      throw StreamkitError.is(error) ? error : new RedisCommandError({ command: name, stream: this.keys.log, cause: error });
    }
  }

  /**
   * Records who did what to which resource. The input is validated first (a
   * {@link ValidationError} names the field, and nothing is written); then the entry is hashed
   * onto the chain head and appended with its index entries in one script, retried on conflict
   * with other writers. Resolves once the entry is in Redis.
   *
   * @example
   * ```ts
   * const { id, seq } = await log.record({ actor: 'user:123', action: 'document.read', resource: 'document:456', ip: '192.168.1.1' });
   * ```
   */
  async record(input: RecordInput): Promise<RecordResult> {
    const parsed = recordInputSchema.safeParse(input);
    if (!parsed.success) throw new ValidationError({ stream: this.keys.log, issues: toFieldIssues(parsed.error.issues), cause: parsed.error });
    const data = parsed.data;
    const entry: Omit<StoredEntry, 'id' | 'time'> = {
      actor: data.actor,
      action: data.action,
      resource: data.resource,
      outcome: data.outcome ?? 'success',
      ip: data.ip,
      userAgent: data.userAgent,
      requestId: data.requestId,
      details: data.details as Record<string, JsonValue> | undefined,
    };
    let record: PreparedRecord = { entry, actor: data.actor, resource: data.resource, action: data.action };
    if (this.pii) record = await this.command('HGET', () => this.encrypt(record, input, false));
    this.client.assertOpen();
    return this.writer.append(record).catch((error: unknown) => {
      throw StreamkitError.is(error) ? error : new RedisCommandError({ command: 'EVALSHA', stream: this.keys.log, cause: error });
    });
  }

  private subjectOf(input: RecordInput): string {
    const subject = this.pii?.subject ? this.pii.subject(input) : input.actor;
    if (typeof subject !== 'string' || subject.length === 0) {
      throw new ValidationError({ stream: this.keys.log, issues: [{ path: ['subject'], message: 'pii.subject must return a non-empty string' }] });
    }
    return subject;
  }

  private async subjectKey(ref: string, fresh: boolean): Promise<SubjectKey> {
    const cached = this.subjectKeys.get(ref);
    if (cached && !fresh) return cached;
    let key = parseSubjectKey((await this.redis.call('HGET', [this.keys.subjects, ref])) as string | null);
    if (!key) {
      await this.redis.call('HSETNX', [this.keys.subjects, ref, newSubjectKey().stored]);
      key = parseSubjectKey((await this.redis.call('HGET', [this.keys.subjects, ref])) as string | null);
    }
    if (!key) throw new StreamkitError('REDIS', `audit log "${this.name}": could not store the key of a PII subject`);
    this.subjectKeys.set(ref, key);
    return key;
  }

  private async encrypt(record: PreparedRecord, input: RecordInput | undefined, fresh: boolean): Promise<PreparedRecord> {
    const fields = this.pii!.fields;
    const source = record.plain ?? record.entry;
    const wholeDetails = fields.includes('details');
    const present = fields.filter((field) => {
      // With `details` itself listed, its keys are encrypted with it, not one by one as well.
      if (field.startsWith('details.')) return !wholeDetails && source.details?.[field.slice(8)] !== undefined;
      return source[field as 'ip' | 'userAgent' | 'requestId' | 'details'] !== undefined;
    });
    if (present.length === 0) return record;
    const ref = record.subject?.ref ?? subjectRef(this.name, this.subjectOf(input!));
    const key = await this.subjectKey(ref, fresh);
    const entry: Omit<StoredEntry, 'id' | 'time'> = { ...source, details: source.details && { ...source.details }, subject: ref };
    for (const field of present) {
      if (field.startsWith('details.')) {
        const name = field.slice(8);
        entry.details![name] = encryptValue(this.name, ref, field, entry.details![name]!, key);
      } else {
        const name = field as 'ip' | 'userAgent' | 'requestId' | 'details';
        (entry as Record<string, unknown>)[name] = encryptValue(this.name, ref, field, source[name] as JsonValue, key);
      }
    }
    return { ...record, entry, plain: source, subject: { ref, keyId: key.keyId } };
  }

  private refreshKey(record: PreparedRecord): Promise<PreparedRecord> {
    return this.encrypt(record, undefined, true);
  }

  /** Decodes raw log entries, decrypting PII with the subject keys that still exist. */
  private async decode(raw: readonly RawEntry[], keyCache = new Map<string, SubjectKey | undefined>()): Promise<AuditEntry[]> {
    const stored: { id: string; fields: Record<string, string>; entry: StoredEntry }[] = [];
    const wanted = new Set<string>();
    for (const [id, flat] of raw) {
      const fields: Record<string, string> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
      let entry: StoredEntry;
      try {
        entry = JSON.parse(fields.entry ?? '') as StoredEntry;
      } catch {
        continue; // not an audit entry: verify() reports it
      }
      if (entry.subject && !keyCache.has(entry.subject)) wanted.add(entry.subject);
      stored.push({ id, fields, entry });
    }
    if (wanted.size > 0) {
      const refs = [...wanted];
      const values = (await this.redis.call('HMGET', [this.keys.subjects, ...refs])) as (string | null)[];
      refs.forEach((ref, i) => keyCache.set(ref, parseSubjectKey(values[i])));
    }
    return stored.map(({ id, fields, entry }) => {
      const out: AuditEntry = {
        id,
        seq: Number(fields.seq),
        hash: fields.hash ?? '',
        prev: fields.prev ?? '',
        time: new Date(typeof entry.time === 'number' ? entry.time : StreamId.toTime(id)),
        actor: entry.actor,
        action: entry.action,
        resource: entry.resource,
        outcome: entry.outcome,
      };
      const erased: string[] = [];
      const key = entry.subject ? keyCache.get(entry.subject) : undefined;
      const open = (field: string, value: unknown): unknown => {
        if (!isEncrypted(value) || !entry.subject) return value;
        const plain = decryptValue(this.name, entry.subject, field, value, key);
        if (plain === ERASED) erased.push(field);
        return plain;
      };
      for (const field of ['ip', 'userAgent', 'requestId'] as const) {
        if (entry[field] !== undefined) out[field] = open(field, entry[field]) as string;
      }
      if (entry.details !== undefined) {
        const details = open('details', entry.details);
        if (details && typeof details === 'object' && !Array.isArray(details)) {
          const copy: Record<string, JsonValue> = {};
          for (const [name, value] of Object.entries(details as Record<string, JsonValue>)) copy[name] = open(`details.${name}`, value) as JsonValue;
          out.details = copy;
        } else {
          out.details = details as Record<string, JsonValue>;
        }
      }
      if (erased.length > 0) out.erased = erased;
      return out;
    });
  }

  private async queryIndex(indexKey: string, options: QueryOptions): Promise<AuditEntry[]> {
    const limit = options.limit === undefined ? Infinity : positive(options.limit, `audit log "${this.name}": limit`);
    const reverse = options.reverse === true;
    let low = StreamId.bound(options.from ?? '-', 'start');
    let high = StreamId.bound(options.to ?? '+', 'end');
    const actions = options.actions ?? [];
    const out: AuditEntry[] = [];
    const keyCache = new Map<string, SubjectKey | undefined>();
    const walk = 2000;
    while (out.length < limit) {
      const want = Math.min(limit - out.length, 500);
      const [last, walked, entries] = await this.command('EVALSHA', () =>
        runScript<[string, number, RawEntry[]]>(this.redis, queryScript, [indexKey, this.keys.log], [
          reverse ? high : low,
          reverse ? low : high,
          walk,
          want,
          reverse ? '1' : '0',
          ...actions,
        ]),
      );
      out.push(...(await this.decode(entries, keyCache)));
      if (Number(walked) === 0 || last === '' || (Number(walked) < walk && entries.length < want)) break;
      if (reverse) high = `(${last}`;
      else low = `(${last}`;
    }
    return out;
  }

  /**
   * What one actor did, in time order (newest first with `reverse`), answered from the actor's
   * index stream: the cost follows the result, not the size of the log.
   */
  byActor(actor: string, options: QueryOptions = {}): Promise<AuditEntry[]> {
    if (typeof actor !== 'string' || actor.length === 0) throw new ConfigError(`audit log "${this.name}": byActor needs an actor`);
    return this.queryIndex(this.keys.actor(actor), options);
  }

  /** What was done to one resource, in time order, answered from the resource's index stream. */
  byResource(resource: string, options: QueryOptions = {}): Promise<AuditEntry[]> {
    if (typeof resource !== 'string' || resource.length === 0) throw new ConfigError(`audit log "${this.name}": byResource needs a resource`);
    return this.queryIndex(this.keys.resource(resource), options);
  }

  /** Every entry between two bounds (ids, times in ms or Dates), in time order; the log itself is the time index. */
  async range(from: IdBound = '-', to: IdBound = '+', options: Omit<QueryOptions, 'from' | 'to'> = {}): Promise<AuditEntry[]> {
    const limit = options.limit === undefined ? Infinity : positive(options.limit, `audit log "${this.name}": limit`);
    const out: AuditEntry[] = [];
    for await (const entry of this.entries({ from, to, reverse: options.reverse })) {
      if (options.actions && !options.actions.includes(entry.action)) continue;
      out.push(entry);
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Every entry between two bounds, paged, as an async iterator. */
  async *entries(options: { from?: IdBound; to?: IdBound; reverse?: boolean; pageSize?: number } = {}): AsyncGenerator<AuditEntry, void, undefined> {
    const pageSize = positive(options.pageSize ?? 1000, `audit log "${this.name}": pageSize`);
    let low = StreamId.bound(options.from ?? '-', 'start');
    let high = StreamId.bound(options.to ?? '+', 'end');
    const keyCache = new Map<string, SubjectKey | undefined>();
    for (;;) {
      const raw = (await this.command(options.reverse ? 'XREVRANGE' : 'XRANGE', () =>
        this.redis.call(options.reverse ? 'XREVRANGE' : 'XRANGE', options.reverse ? [this.keys.log, high, low, 'COUNT', pageSize] : [this.keys.log, low, high, 'COUNT', pageSize]),
      )) as RawEntry[];
      for (const entry of await this.decode(raw, keyCache)) yield entry;
      if (raw.length < pageSize) return;
      const last = raw[raw.length - 1]![0];
      if (options.reverse) high = `(${last}`;
      else low = `(${last}`;
    }
  }

  /** The chain head: the newest entry's seq, hash and id (`seq` 0 for an empty log). */
  async head(): Promise<ChainHead> {
    const [hash, seq, id] = (await this.command('HMGET', () => this.redis.call('HMGET', [this.keys.head, 'hash', 'seq', 'id']))) as (string | null)[];
    return { hash: hash ?? '0'.repeat(64), seq: seq ? Number(seq) : 0, id: id ?? '0-0' };
  }

  /** How many entries the log holds (XLEN; pruned entries are gone). */
  length(): Promise<number> {
    return this.command('XLEN', () => this.redis.xlen(this.keys.log));
  }

  /**
   * Checks the whole log (or a range): every hash, every link, every signed checkpoint (stored
   * and `trusted`), the stream's own counters and the indexes. Resolves with `ok: false` and
   * the problems found; it does not throw on tampering.
   */
  verify(options: VerifyOptions = {}): Promise<VerifyResult> {
    return this.command('XRANGE', () => verifyLog({ redis: this.redis, keys: this.keys, name: this.name, verifyKeys: this.verifyKeyMap }, options));
  }

  /** The checkpoints stored in Redis, oldest first (unverified: {@link AuditLog.verify} checks them). */
  async checkpoints(): Promise<Checkpoint[]> {
    const raw = (await this.command('XRANGE', () => this.redis.call('XRANGE', [this.keys.checkpoints, '-', '+']))) as RawEntry[];
    const out: Checkpoint[] = [];
    for (const [, flat] of raw) {
      const at = flat.indexOf('checkpoint');
      const checkpoint = parseCheckpoint(at >= 0 ? flat[at + 1] : undefined);
      if (checkpoint) out.push(checkpoint);
    }
    return out;
  }

  private requireSigner(operation: string): ResolvedSigner {
    if (!this.signer) throw new ConfigError(`audit log "${this.name}": ${operation} needs a signer (createAuditLog({ signer: { keyId, privateKey } }))`);
    return this.signer;
  }

  private async storeCheckpoint(make: (previous: string | null) => Checkpoint, prune: boolean): Promise<Checkpoint> {
    for (let attempt = 0; attempt < 100; attempt++) {
      const newest = (await this.redis.call('XREVRANGE', [this.keys.checkpoints, '+', '-', 'COUNT', 1])) as RawEntry[];
      const flat = newest[0]?.[1];
      const at = flat ? flat.indexOf('digest') : -1;
      const previous = flat && at >= 0 ? flat[at + 1]! : null;
      const checkpoint = make(previous);
      const reply = await runScript<string[]>(this.redis, checkpointScript, [this.keys.checkpoints, this.keys.meta], [
        previous ?? '',
        checkpointDigest(checkpoint),
        JSON.stringify(checkpoint),
        prune ? '1' : '0',
      ]);
      if (reply[0] === 'OK') return checkpoint;
      if (reply[0] === 'HOLD') throw new LegalHoldError(this.name, 'prune');
    }
    throw new StreamkitError('CONCURRENCY', `audit log "${this.name}": could not store a checkpoint after 100 conflicts`);
  }

  /**
   * Signs the current head, `{ size, head, time, keyId, previous, signature }`, stores it in
   * Redis chained to the one before, and returns it: keep a copy outside Redis and pass it to
   * `verify({ trusted })` to prove later that the log was not cut short or rewritten.
   */
  async checkpoint(): Promise<Checkpoint> {
    const signer = this.requireSigner('checkpoint()');
    const head = await this.head();
    return this.command('EVALSHA', () =>
      this.storeCheckpoint(
        (previous) =>
          signCheckpoint({ log: this.name, kind: 'checkpoint', size: head.seq, head: head.hash, headId: head.id, time: new Date().toISOString(), previous }, signer),
        false,
      ),
    );
  }

  /**
   * Removes the entries recorded before `before` (an id, a time in ms or a Date), after writing a
   * signed prune checkpoint naming the newest removed entry, so verification goes on from it
   * (entries that land below `before` after the checkpoint was made are kept).
   * Refused with {@link LegalHoldError} under legal hold. Returns how many log entries were removed.
   */
  async prune(options: { before: IdBound }): Promise<{ removed: number; checkpoint: Checkpoint | null }> {
    const signer = this.requireSigner('prune()');
    if (!options || options.before === undefined) throw new ConfigError(`audit log "${this.name}": prune needs { before }`);
    const bound = StreamId.bound(options.before, 'start');
    if (bound === '-' || bound === '+' || bound.startsWith('(')) throw new ConfigError(`audit log "${this.name}": prune({ before }) takes an id, a time or a Date`);
    return this.command('XTRIM', async () => {
      if ((await this.redis.call('HGET', [this.keys.meta, 'legalHold'])) === '1') throw new LegalHoldError(this.name, 'prune');
      const newest = (await this.redis.call('XREVRANGE', [this.keys.log, `(${bound}`, '-', 'COUNT', 1])) as RawEntry[];
      const last = newest[0];
      if (!last) return { removed: 0, checkpoint: null };
      const fields: Record<string, string> = {};
      for (let i = 0; i + 1 < last[1].length; i += 2) fields[last[1][i]!] = last[1][i + 1]!;
      const checkpoint = await this.storeCheckpoint(
        (previous) =>
          signCheckpoint(
            { log: this.name, kind: 'prune', size: Number(fields.seq), head: fields.hash ?? '', headId: last[0], time: new Date().toISOString(), previous },
            signer,
          ),
        true,
      );
      // Trim through the entry the checkpoint names, not up to `before`: a record that lands
      // meanwhile below `before` (a bound in the future, another host's clock) is not covered by it.
      const [ms, seq] = last[0].split('-') as [string, string];
      const through = seq === '18446744073709551615' ? `${BigInt(ms) + 1n}-0` : `${ms}-${BigInt(seq) + 1n}`;
      const trim = async (key: string) => {
        const reply = await runScript<number | string[]>(this.redis, guardedTrim, [this.keys.meta, key], [through]);
        if (Array.isArray(reply)) throw new LegalHoldError(this.name, 'prune');
        return Number(reply);
      };
      const removed = await trim(this.keys.log);
      let cursor = '0';
      do {
        const [next, batch] = (await this.redis.call('SSCAN', [this.keys.indexes, cursor, 'COUNT', 500])) as [string, string[]];
        cursor = next;
        await Promise.all(batch.map(trim));
      } while (cursor !== '0');
      return { removed, checkpoint };
    });
  }

  /** Turns legal hold on or off: while on, {@link AuditLog.prune} and {@link AuditLog.forgetSubject} are refused. */
  async setLegalHold(on: boolean): Promise<void> {
    if (typeof on !== 'boolean') throw new ConfigError(`audit log "${this.name}": setLegalHold takes true or false`);
    await this.command('HSET', () => this.redis.call('HSET', [this.keys.meta, 'legalHold', on ? '1' : '0']));
  }

  /** Whether the log is under legal hold. */
  async legalHold(): Promise<boolean> {
    return (await this.command('HGET', () => this.redis.call('HGET', [this.keys.meta, 'legalHold']))) === '1';
  }

  /**
   * Erases a subject's personal data by deleting its encryption key: the PII fields of its
   * entries then read as {@link ERASED}, while the entries, their hashes and the chain stay as
   * they were, so the log still verifies. Refused with {@link LegalHoldError} under legal hold.
   * Returns whether there was a key to delete.
   */
  async forgetSubject(subject: string): Promise<boolean> {
    if (typeof subject !== 'string' || subject.length === 0) throw new ConfigError(`audit log "${this.name}": forgetSubject needs a subject`);
    const ref = subjectRef(this.name, subject);
    const reply = await this.command('EVALSHA', () => runScript<number | string[]>(this.redis, forgetScript, [this.keys.meta, this.keys.subjects], [ref]));
    if (Array.isArray(reply)) throw new LegalHoldError(this.name, 'forgetSubject');
    this.subjectKeys.delete(ref);
    return Number(reply) === 1;
  }

  /**
   * The log (or a range of it) for auditors, as a Node readable stream of JSON lines or CSV
   * (a header row, then one row per entry; `details` as JSON). PII reads as decrypted or erased.
   */
  export(options: ExportOptions): Readable {
    if (!options || (options.format !== 'jsonl' && options.format !== 'csv')) throw new ConfigError(`audit log "${this.name}": export format must be "jsonl" or "csv"`);
    return Readable.from(this.exportLines(options), { objectMode: false });
  }

  private async *exportLines(options: ExportOptions): AsyncGenerator<string> {
    const { format, onProgress } = options;
    const total = onProgress ? await this.length() : 0;
    let done = 0;
    if (format === 'csv') yield `${CSV_COLUMNS.join(',')}\r\n`;
    let chunk = '';
    for await (const entry of this.entries({ from: options.from, to: options.to })) {
      chunk += format === 'csv' ? toCsvRow(entry) : `${JSON.stringify({ ...entry, time: entry.time.toISOString() })}\n`;
      if (++done % 1000 === 0) {
        yield chunk;
        chunk = '';
        onProgress?.({ done, total });
      }
    }
    if (chunk) yield chunk;
    onProgress?.({ done, total });
  }

  /** Deletes every key of the log: entries, indexes, head, checkpoints, subject keys. Refused under legal hold. */
  async destroy(): Promise<void> {
    if (await this.legalHold()) throw new LegalHoldError(this.name, 'destroy');
    await this.command('DEL', async () => {
      let cursor = '0';
      do {
        const [next, batch] = (await this.redis.call('SSCAN', [this.keys.indexes, cursor, 'COUNT', 500])) as [string, string[]];
        cursor = next;
        if (batch.length > 0) await Promise.all(batch.map((key) => this.redis.call('DEL', [key])));
      } while (cursor !== '0');
      const { log, head, indexes, checkpoints, subjects, meta } = this.keys;
      await Promise.all([log, head, indexes, checkpoints, subjects, meta].map((key) => this.redis.call('DEL', [key])));
    });
  }
}

/**
 * Creates an {@link AuditLog} on a core client.
 *
 * @example
 * ```ts
 * import { generateKeyPairSync } from 'node:crypto';
 * const { privateKey } = generateKeyPairSync('ed25519');
 * const log = createAuditLog({ client, name: 'compliance', signer: { keyId: 'k1', privateKey } });
 * await log.record({ actor: 'user:123', action: 'document.read', resource: 'document:456' });
 * const { ok, problems } = await log.verify();
 * ```
 */
export function createAuditLog(options: AuditLogOptions): AuditLog {
  return new AuditLog(options);
}
