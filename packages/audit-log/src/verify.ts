import { runScript, StreamId, type IdBound, type RedisClient } from '@streamkit/core';
import type { KeyObject } from 'node:crypto';
import { entryHash, GENESIS_HASH } from './chain.js';
import { checkpointDigest, checkSignature, parseCheckpoint, type Checkpoint } from './checkpoint.js';
import type { LogKeys } from './keys.js';
import { indexCounts, indexDigest } from './scripts/generated/index.js';

/** What kind of tampering (or damage) a problem is. */
export type ProblemKind = 'modified' | 'missing' | 'inserted' | 'reordered' | 'truncated' | 'bad-signature' | 'index-mismatch';

/** One thing {@link AuditLog.verify} found wrong. */
export interface VerifyProblem {
  kind: ProblemKind;
  /** The log entry id it concerns (for a checkpoint: the id of the entry the checkpoint names). */
  id: string;
  /** The entry's seq, when known. */
  seq?: number;
  /** For a checkpoint problem: the id of the checkpoint in the checkpoint stream. */
  checkpointId?: string;
  /** For an index problem: the index stream key. */
  index?: string;
  message: string;
}

/** Options of {@link AuditLog.verify}. */
export interface VerifyOptions {
  /** Verify from this entry on (its `prev` is taken on trust); default: from the start or the last prune checkpoint. */
  from?: IdBound;
  /** Verify up to this entry; default: the newest. */
  to?: IdBound;
  /** Checkpoints you kept elsewhere. The log must reach each one with the same hash, or it was cut short or rewritten. */
  trusted?: Checkpoint | readonly Checkpoint[];
  /** Called after each page with how many entries were checked out of the log's length. */
  onProgress?: (progress: { checked: number; total: number }) => void;
  /**
   * Check the per-actor and per-resource indexes against the log (only for a whole-log verify).
   * `true` (the default) compares each index stream's length and newest id with the log's, and
   * folds the entries of the streams that differ or changed meanwhile; `'full'` folds every index
   * entry (id and seq) on the server, which also finds entries changed in place; `false` skips it.
   */
  indexes?: boolean | 'full';
  /** Entries per XRANGE page (default 1000). */
  pageSize?: number;
}

/** What {@link AuditLog.verify} found. */
export interface VerifyResult {
  /** True when there is no problem. */
  ok: boolean;
  /** How many log entries were checked. */
  checked: number;
  problems: VerifyProblem[];
  /** The newest entry checked: its seq and hash (what a checkpoint would say). */
  head: { seq: number; hash: string; id: string } | null;
  /** How many signed checkpoints were checked against the log (stored and trusted). */
  checkpoints: number;
}

interface Item {
  id: string;
  seq: number;
  prev: string;
  hash: string;
  recomputed: string;
  contentOk: boolean;
  idOk: boolean;
  actor: string | undefined;
  resource: string | undefined;
}

type RawEntry = [string, string[]];

/** What verify needs from the log. */
export interface VerifyContext {
  redis: RedisClient;
  keys: LogKeys;
  name: string;
  verifyKeys: Map<string, KeyObject>;
}

/**
 * Order-dependent 32-bit digest of (id, seq) pairs, folded exactly as index-digest-1.lua folds
 * an index stream on the server: h = rol(h, 5) xor seq xor ms xor (idSeq << 16).
 */
export class Fingerprint {
  count = 0;
  h = 0;
  /** The newest id added. */
  last = '';
  add(id: string, seq: number): void {
    this.addFolded(id, seq, Fingerprint.idPart(id));
  }
  /** The id's share of the fold, `ms xor (idSeq << 16)`: computed once per entry for both its indexes. */
  static idPart(id: string): number {
    const dash = id.indexOf('-');
    return (Number(id.slice(0, dash)) | 0) ^ ((Number(id.slice(dash + 1)) | 0) << 16);
  }
  addFolded(id: string, seq: number, idPart: number): void {
    this.last = id;
    this.count++;
    this.h = (((this.h << 5) | (this.h >>> 27)) ^ (seq | 0) ^ idPart) | 0;
  }
  equals(other: { count: number; h: number } | undefined): boolean {
    return other !== undefined && other.count === this.count && (other.h | 0) === this.h;
  }
}

function fieldsOf(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}

function parseItem(name: string, id: string, flat: string[]): Item | undefined {
  let seqText: string | undefined, prev: string | undefined, hash: string | undefined, json: string | undefined;
  if (flat.length === 8 && flat[0] === 'seq' && flat[2] === 'prev' && flat[4] === 'hash' && flat[6] === 'entry') {
    seqText = flat[1];
    prev = flat[3];
    hash = flat[5];
    json = flat[7];
  } else {
    const f = fieldsOf(flat);
    seqText = f.seq;
    prev = f.prev;
    hash = f.hash;
    json = f.entry;
  }
  const seq = Number(seqText);
  if (!Number.isSafeInteger(seq) || seq < 1 || prev === undefined || hash === undefined || json === undefined) return undefined;
  const recomputed = entryHash(name, seq, prev, json);
  const contentOk = recomputed === hash;
  // Canonical JSON (what the writer hashed) has its keys sorted: "actor" is the second top-level
  // key and "resource" the last one that may be followed by another object, so their values can
  // be read without parsing the entry; anything unusual (an escape, a missing key) is parsed.
  let actor = contentOk ? plainString(json, '"actor":"', false) : undefined;
  let resource = actor === undefined ? undefined : plainString(json, '"resource":"', true);
  let idOk = contentOk && json.lastIndexOf(`"id":"${id}"`) >= 0;
  if (resource === undefined || !idOk) {
    try {
      const parsed = JSON.parse(json) as Record<string, unknown>;
      actor = typeof parsed.actor === 'string' ? parsed.actor : undefined;
      resource = typeof parsed.resource === 'string' ? parsed.resource : undefined;
      idOk = parsed.id === id;
    } catch {
      // unparseable content: the hash check fails, or the entry was forged with a valid hash of junk
      actor = resource = undefined;
      idOk = false;
    }
  }
  return { id, seq, prev, hash, recomputed, contentOk, idOk, actor, resource };
}

/** The string value after `marker` (first or last occurrence), when it has no escapes. */
function plainString(json: string, marker: string, last: boolean): string | undefined {
  const at = last ? json.lastIndexOf(marker) : json.indexOf(marker);
  if (at < 0) return undefined;
  const start = at + marker.length;
  const end = json.indexOf('"', start);
  if (end < 0) return undefined;
  const value = json.slice(start, end);
  return value.includes('\\') ? undefined : value;
}

async function xinfo(redis: RedisClient, key: string): Promise<Record<string, unknown> | undefined> {
  try {
    const raw = (await redis.call('XINFO', ['STREAM', key])) as unknown;
    if (Array.isArray(raw)) {
      const out: Record<string, unknown> = {};
      for (let i = 0; i + 1 < raw.length; i += 2) out[String(raw[i])] = raw[i + 1];
      return out;
    }
    if (raw && typeof raw === 'object') return raw as Record<string, unknown>;
    return undefined;
  } catch (error) {
    if (/no such key/i.test(error instanceof Error ? error.message : '')) return undefined;
    throw error;
  }
}

/** Pages through a stream with XRANGE, the next page requested while this one is processed. */
async function* pages(redis: RedisClient, key: string, from: string, to: string, pageSize: number): AsyncGenerator<RawEntry[]> {
  let start = from;
  const fetch = (s: string) => {
    const page = redis.call('XRANGE', [key, s, to, 'COUNT', pageSize]) as Promise<RawEntry[]>;
    page.catch(() => undefined);
    return page;
  };
  let pending: Promise<RawEntry[]> | undefined = fetch(start);
  while (pending) {
    const page: RawEntry[] = await pending;
    pending = undefined;
    if (page.length === pageSize) {
      start = `(${page[page.length - 1]![0]}`;
      pending = fetch(start);
    }
    if (page.length > 0) yield page;
  }
}

/** Checks the hash chain, the signed checkpoints, the stream's counters and the indexes. */
export async function verifyLog(ctx: VerifyContext, options: VerifyOptions = {}): Promise<VerifyResult> {
  const { redis, keys, name } = ctx;
  const pageSize = options.pageSize ?? 1000;
  const whole = options.from === undefined && options.to === undefined;
  const problems: VerifyProblem[] = [];
  const reported = new Set<string>();
  const report = (problem: VerifyProblem) => {
    const tag = `${problem.kind}\0${problem.id}\0${problem.checkpointId ?? ''}`;
    if (reported.has(tag)) return;
    reported.add(tag);
    problems.push(problem);
  };
  const problemIds = new Set<string>();

  const [info, headRaw, storedRaw] = await Promise.all([
    xinfo(redis, keys.log),
    redis.call('HMGET', [keys.head, 'hash', 'seq', 'id']) as Promise<(string | null)[]>,
    redis.call('XRANGE', [keys.checkpoints, '-', '+']) as Promise<RawEntry[]>,
  ]);
  const total = info ? Number(info.length) : 0;
  const head = headRaw[0] ? { hash: headRaw[0], seq: Number(headRaw[1]), id: headRaw[2] ?? '0-0' } : undefined;

  // Signed checkpoints: stored ones must chain and carry valid signatures; trusted ones must be valid.
  const checkpoints: { checkpoint: Checkpoint; checkpointId?: string }[] = [];
  let previousDigest: string | null = null;
  for (const [checkpointId, flat] of storedRaw) {
    const fields = fieldsOf(flat);
    const checkpoint = parseCheckpoint(fields.checkpoint);
    if (!checkpoint) {
      report({ kind: 'inserted', id: '0-0', checkpointId, message: `checkpoint ${checkpointId} is not a checkpoint` });
      continue;
    }
    const where = `checkpoint ${checkpointId} (size ${checkpoint.size})`;
    const digest = checkpointDigest(checkpoint);
    if (!checkSignature(checkpoint, ctx.verifyKeys) || checkpoint.log !== name) {
      const why = ctx.verifyKeys.has(checkpoint.keyId) ? 'the signature does not match' : `no verify key "${checkpoint.keyId}"`;
      report({ kind: 'bad-signature', id: checkpoint.headId, seq: checkpoint.size, checkpointId, message: `${where}: ${checkpoint.log !== name ? `signed for log "${checkpoint.log}"` : why}` });
    } else {
      if (fields.digest !== digest) report({ kind: 'modified', id: checkpoint.headId, checkpointId, message: `${where}: stored digest does not match its content` });
      if (checkpoint.previous !== previousDigest) {
        report({ kind: 'missing', id: checkpoint.headId, seq: checkpoint.size, checkpointId, message: `${where}: does not chain to the checkpoint stored before it (a checkpoint was removed or replaced)` });
      }
      checkpoints.push({ checkpoint, checkpointId });
    }
    previousDigest = digest;
  }
  const trustedList = options.trusted === undefined ? [] : Array.isArray(options.trusted) ? options.trusted : [options.trusted as Checkpoint];
  for (const checkpoint of trustedList) {
    if (!checkSignature(checkpoint, ctx.verifyKeys) || checkpoint.log !== name) {
      report({ kind: 'bad-signature', id: checkpoint.headId, seq: checkpoint.size, message: `trusted checkpoint (size ${checkpoint.size}): the signature does not check out` });
      continue;
    }
    checkpoints.push({ checkpoint });
  }

  // Where the chain starts: genesis, or the newest signed prune checkpoint.
  let prune: Checkpoint | undefined;
  for (const { checkpoint } of checkpoints) if (checkpoint.kind === 'prune' && (!prune || checkpoint.size > prune.size)) prune = checkpoint;
  const bySize = new Map<number, { checkpoint: Checkpoint; checkpointId?: string }[]>();
  for (const c of checkpoints) {
    if (c.checkpoint.kind !== 'checkpoint' || (prune && c.checkpoint.size <= prune.size)) continue;
    bySize.set(c.checkpoint.size, [...(bySize.get(c.checkpoint.size) ?? []), c]);
  }

  let expected: number | undefined = options.from === undefined ? (prune ? prune.size + 1 : 1) : undefined;
  let links: string[] = options.from === undefined ? [prune ? prune.head : GENESIS_HASH] : [];
  const held = new Map<number, Item>();
  const missingSeqs = new Map<number, string>();
  let checked = 0;
  let last: Item | undefined;
  // By actor and by resource name while reading (no key strings built per entry); keyed by index key afterwards.
  const actorPrints = new Map<string, Fingerprint>();
  const resourcePrints = new Map<string, Fingerprint>();
  const printOf = (map: Map<string, Fingerprint>, name: string) => {
    let print = map.get(name);
    if (!print) map.set(name, (print = new Fingerprint()));
    return print;
  };
  const checkIndexes = whole && options.indexes !== false;
  // Indexes are compared up to the head as it was when verify started, so records written
  // meanwhile do not count as drift.
  const indexStart = prune ? `(${prune.headId}` : '-';
  const indexEnd = head ? head.id : '0-0';
  const indexMode = options.indexes === 'full' ? 'full' : true;
  // The quick pass runs while the log is read: the server has time to spare while the client hashes.
  const quick = checkIndexes && head
    ? indexMembers(ctx).then(async (members) => ({ members, counts: indexMode === 'full' ? undefined : await countIndexes(ctx, members) }))
    : Promise.resolve({ members: [] as string[], counts: undefined });
  quick.catch(() => undefined); // awaited after the scan

  const flag = (item: Item, kind: ProblemKind, message: string) => {
    problemIds.add(item.id);
    report({ kind, id: item.id, seq: item.seq, message: `entry ${item.id} (seq ${item.seq}): ${message}` });
  };

  const accept = (item: Item) => {
    if (!item.contentOk) flag(item, 'modified', 'its content does not hash to its stored hash');
    else if (!item.idOk) flag(item, 'reordered', 'its content was written at another id');
    for (const { checkpoint, checkpointId } of bySize.get(item.seq) ?? []) {
      if (checkpoint.head !== item.hash || checkpoint.headId !== item.id) {
        problemIds.add(item.id);
        report({
          kind: 'modified',
          id: item.id,
          seq: item.seq,
          checkpointId,
          message: `entry ${item.id} (seq ${item.seq}): differs from the signed checkpoint of size ${checkpoint.size} (the chain was rewritten up to here)`,
        });
      }
    }
    links = item.contentOk ? [item.hash] : [item.hash, item.recomputed];
    expected = item.seq + 1;
    last = item;
    if (checkIndexes && item.contentOk && item.actor !== undefined && item.resource !== undefined && head && StreamId.compare(item.id, head.id) <= 0) {
      const idPart = Fingerprint.idPart(item.id);
      printOf(actorPrints, item.actor).addFolded(item.id, item.seq, idPart);
      printOf(resourcePrints, item.resource).addFolded(item.id, item.seq, idPart);
    }
    const early = held.get(expected);
    if (early && links.includes(early.prev)) {
      held.delete(expected);
      flag(early, 'reordered', `it comes before seq ${early.seq - 1} in the log`);
      accept(early);
    }
  };

  const linked = (item: Item | undefined) => item !== undefined && links.includes(item.prev);

  const process = (item: Item, next: Item | undefined, after: Item | undefined) => {
    if (prune && item.seq <= prune.size && StreamId.compare(item.id, prune.headId) <= 0) return; // pruned, trim not finished
    if (expected === undefined) {
      expected = item.seq;
      links = [item.prev];
    }
    if (item.seq === expected && linked(item)) {
      if (next && next.seq === item.seq && linked(next)) {
        // Two entries claim the same place: the one the chain goes on from is the real one.
        const nextLinks = [next.hash, next.recomputed];
        const itemLinks = [item.hash, item.recomputed];
        const nextWins = after !== undefined && nextLinks.includes(after.prev) && !itemLinks.includes(after.prev);
        const itemWins = after !== undefined && itemLinks.includes(after.prev);
        if (nextWins || (!itemWins && !item.contentOk && next.contentOk)) {
          flag(item, 'inserted', `a second entry for seq ${item.seq} that the chain does not go on from`);
          return;
        }
      }
      accept(item);
      return;
    }
    if (item.seq === expected) {
      if (next && next.seq === expected && linked(next)) {
        flag(item, 'inserted', `its previous hash does not link to seq ${expected - 1}, and the next entry takes its place`);
        return;
      }
      flag(item, 'modified', `its previous hash does not link to seq ${expected - 1}`);
      accept(item);
      return;
    }
    if (item.seq > expected) {
      if (next && next.seq === expected && linked(next)) {
        held.set(item.seq, item);
        return;
      }
      if (!item.contentOk && linked(item)) {
        flag(item, 'modified', `its seq was changed (expected ${expected})`);
        accept({ ...item, seq: expected });
        return;
      }
      const from = expected;
      for (let s = from; s < item.seq; s++) if (missingSeqs.size < 100_000) missingSeqs.set(s, item.id);
      const count = item.seq - from;
      problemIds.add(item.id);
      report({
        kind: 'missing',
        id: item.id,
        seq: item.seq,
        message: `${count} entr${count === 1 ? 'y' : 'ies'} (seq ${from}${count > 1 ? `…${item.seq - 1}` : ''}) missing before entry ${item.id}`,
      });
      accept(item);
      return;
    }
    if (missingSeqs.has(item.seq)) {
      const before = missingSeqs.get(item.seq);
      missingSeqs.delete(item.seq);
      flag(item, 'reordered', `it belongs before entry ${before}`);
      return;
    }
    flag(item, 'inserted', `seq ${item.seq} comes after seq ${expected - 1}: not part of the chain`);
  };

  const window: Item[] = [];
  const start = options.from === undefined ? '-' : StreamId.bound(options.from, 'start');
  const end = options.to === undefined ? '+' : StreamId.bound(options.to, 'end');
  for await (const page of pages(redis, keys.log, start, end, pageSize)) {
    for (const [id, flat] of page) {
      checked++;
      const item = parseItem(name, id, flat);
      if (!item) {
        problemIds.add(id);
        report({ kind: 'modified', id, message: `entry ${id}: not an audit entry (fields ${flat.filter((_, i) => i % 2 === 0).join(', ')})` });
        continue;
      }
      window.push(item);
      if (window.length === 3) {
        process(window[0]!, window[1], window[2]);
        window.shift();
      }
    }
    options.onProgress?.({ checked, total });
  }
  while (window.length > 0) {
    process(window[0]!, window[1], window[2]);
    window.shift();
  }
  for (const item of held.values()) flag(item, 'inserted', `seq ${item.seq} never fits into the chain`);

  const lastSeq = last?.seq ?? (prune ? prune.size : 0);
  if (options.to === undefined) {
    for (const { checkpoint, checkpointId } of checkpoints) {
      if (checkpoint.kind === 'checkpoint' && checkpoint.size > lastSeq) {
        report({
          kind: 'truncated',
          id: checkpoint.headId,
          seq: checkpoint.size,
          checkpointId,
          message: `a signed checkpoint says the log had ${checkpoint.size} entries (up to ${checkpoint.headId}); it ends at seq ${lastSeq}`,
        });
      }
    }
    // Records may have been appended while verify ran: the head now is the one to compare with.
    const headRaw = whole && last && head && last.seq > head.seq ? ((await redis.call('HMGET', [keys.head, 'hash', 'seq', 'id'])) as (string | null)[]) : undefined;
    const headNow = headRaw?.[0] ? { hash: headRaw[0], seq: Number(headRaw[1]), id: headRaw[2] ?? '0-0' } : head;
    if (!head && whole && last) {
      report({ kind: 'missing', id: last.id, seq: last.seq, message: 'the chain head key is missing (it is written with every record)' });
    }
    if (head && headNow && whole) {
      if (head.seq > lastSeq) {
        report({ kind: 'truncated', id: head.id, seq: head.seq, message: `the chain head says ${head.seq} entries (up to ${head.id}); the log ends at seq ${lastSeq}` });
      } else if (last && headNow.seq < last.seq) {
        const head = headNow;
        // Entries after the head were not written by the append script.
        for (const problem of problems) {
          if (problem.seq !== undefined && problem.seq > head.seq && problem.kind === 'modified' && !problem.checkpointId) problem.kind = 'inserted';
        }
        if (last.contentOk && last.seq > head.seq && !problemIds.has(last.id)) {
          flag(last, 'inserted', `it is after the chain head (seq ${head.seq}): not written by the append script`);
        }
        await flagAfterHead(ctx, head, flag, problemIds, pageSize);
      }
    }
  }

  if (whole && info) {
    // The stream's own counters: only XTRIM (prune) may remove entries, and it leaves max-deleted-entry-id alone.
    const maxDeleted = String(info['max-deleted-entry-id'] ?? '0-0');
    const entriesAdded = Number(info['entries-added'] ?? NaN);
    const pruned = prune ? prune.size : 0;
    const lastGenerated = String(info['last-generated-id'] ?? '0-0');
    if (last && options.to === undefined && StreamId.compare(lastGenerated, last.id) > 0) {
      report({ kind: 'truncated', id: lastGenerated, message: `the stream generated ids up to ${lastGenerated} but ends at ${last.id} (its newest entries were removed)` });
    }
    if (maxDeleted !== '0-0') {
      report({ kind: 'missing', id: maxDeleted, message: `entry ${maxDeleted} was deleted with XDEL (the stream's max-deleted-entry-id)` });
    }
    if (Number.isFinite(entriesAdded)) {
      if (entriesAdded > total + pruned) {
        const gone = entriesAdded - total - pruned;
        report({
          kind: 'missing',
          id: maxDeleted !== '0-0' ? maxDeleted : (last?.id ?? '0-0'),
          message: `${gone} entr${gone === 1 ? 'y was' : 'ies were'} removed outside pruning (entries-added ${entriesAdded}, length ${total}, pruned ${pruned})`,
        });
      } else if (entriesAdded < total + pruned) {
        report({
          kind: 'modified',
          id: String(info['recorded-first-entry-id'] ?? '0-0'),
          message: `the log stream was recreated (entries-added ${entriesAdded} is less than length ${total} plus pruned ${pruned})`,
        });
      }
    }
  }

  if (checkIndexes) {
    const logPrints = new Map<string, Fingerprint>();
    for (const [actor, print] of actorPrints) logPrints.set(keys.actor(actor), print);
    for (const [resource, print] of resourcePrints) logPrints.set(keys.resource(resource), print);
    await compareIndexes(ctx, indexMode, quick, logPrints, indexStart, indexEnd, report, problemIds, pageSize);
  }

  return {
    ok: problems.length === 0,
    checked,
    problems,
    head: last ? { seq: last.seq, hash: last.hash, id: last.id } : null,
    checkpoints: checkpoints.length,
  };
}

/** Flags every entry after the head (they were not written by the append script). */
async function flagAfterHead(
  ctx: VerifyContext,
  head: { id: string; seq: number },
  flag: (item: Item, kind: ProblemKind, message: string) => void,
  problemIds: Set<string>,
  pageSize: number,
): Promise<void> {
  for await (const page of pages(ctx.redis, ctx.keys.log, `(${head.id}`, '+', pageSize)) {
    for (const [id, flat] of page) {
      if (problemIds.has(id)) continue;
      const item = parseItem(ctx.name, id, flat);
      if (item) flag(item, 'inserted', `it is after the chain head (seq ${head.seq}): not written by the append script`);
    }
  }
}

interface IndexDigest {
  key: string;
  count: number;
  h: number;
  /** The index stream's newest id. */
  top: string;
}

async function indexMembers(ctx: VerifyContext): Promise<string[]> {
  const members = new Set<string>();
  let cursor = '0';
  do {
    const [next, batch] = (await ctx.redis.call('SSCAN', [ctx.keys.indexes, cursor, 'COUNT', 1000])) as [string, string[]];
    cursor = next;
    for (const key of batch) members.add(key);
  } while (cursor !== '0');
  return [...members];
}

/** Runs a 32-key script over many keys: groups of 32 (the last slot repeated), a few calls in flight. */
async function inGroups<R>(keys: readonly string[], call: (group: string[], padded: string[]) => Promise<R[]>, onReply: (key: string, reply: R) => void): Promise<void> {
  const width = 32;
  const calls: Promise<void>[] = [];
  for (let i = 0; i < keys.length; i += width) {
    const group = keys.slice(i, i + width);
    const padded = [...group];
    while (padded.length < width) padded.push(group[group.length - 1]!);
    calls.push(call(group, padded).then((replies) => group.forEach((key, k) => onReply(key, replies[k]!))));
    if (calls.length >= 4) await Promise.all(calls.splice(0));
  }
  await Promise.all(calls);
}

/**
 * Folds index streams (from `start` up to `end`) on the server, 32 streams per script call; a
 * stream longer than a page goes on in the next round from where it stopped.
 */
async function foldIndexes(ctx: VerifyContext, keys: readonly string[], start: string, end: string): Promise<IndexDigest[]> {
  const digestPage = 5_000;
  type Task = IndexDigest & { from: string };
  const done: IndexDigest[] = [];
  const byKey = new Map<string, Task>(keys.map((key) => [key, { key, from: start, count: 0, h: 0, top: '' }]));
  let pending = [...keys];
  while (pending.length > 0) {
    const unfinished: string[] = [];
    await inGroups<[number, number, string, string]>(
      pending,
      (group, padded) => {
        const args: (string | number)[] = [digestPage, group.length, end];
        for (const key of group) args.push(byKey.get(key)!.from, byKey.get(key)!.h);
        return runScript(ctx.redis, indexDigest, padded, args);
      },
      (key, [n, folded, more, newest]) => {
        const t = byKey.get(key)!;
        if (newest) t.top = newest;
        t.count += Number(n);
        t.h = Number(folded) | 0;
        if (more) {
          t.from = `(${more}`;
          unfinished.push(key);
        } else done.push({ key, count: t.count, h: t.h, top: t.top });
      },
    );
    pending = unfinished;
  }
  return done;
}

/** The quick pass: each index stream's length and newest id (O(1) each, on the server). */
async function countIndexes(ctx: VerifyContext, keys: readonly string[]): Promise<Map<string, { length: number; top: string }>> {
  const out = new Map<string, { length: number; top: string }>();
  await inGroups<[number, string]>(
    keys,
    (group, padded) => runScript(ctx.redis, indexCounts, padded, [group.length]),
    (key, [length, top]) => out.set(key, { length: Number(length), top }),
  );
  return out;
}

/**
 * Compares the index streams with what the log scan saw. Streams that differ in the quick pass
 * (or all of them, in `full` mode) are folded up to the head verify started from; the ones whose
 * fold still differs are explained entry by entry.
 */
async function compareIndexes(
  ctx: VerifyContext,
  mode: true | 'full',
  quick: Promise<{ members: string[]; counts: Map<string, { length: number; top: string }> | undefined }>,
  logPrints: Map<string, Fingerprint>,
  start: string,
  end: string,
  report: (problem: VerifyProblem) => void,
  problemIds: Set<string>,
  pageSize: number,
): Promise<void> {
  const { members, counts } = await quick;
  const all = new Set([...members, ...logPrints.keys()]);
  const toFold: string[] = [];
  for (const key of all) {
    const fromLog = logPrints.get(key);
    const seen = counts?.get(key);
    if (mode === 'full' || !seen || !fromLog) {
      toFold.push(key);
      continue;
    }
    if (seen.length === fromLog.count && seen.top === fromLog.last) continue;
    toFold.push(key); // differs, or was written to after verify started: fold it up to the head
  }
  const mismatched: string[] = [];
  const folded = await foldIndexes(ctx, toFold, start, end);
  // Read after the folds: every index entry a record wrote is at or before the head now.
  const headNow = ((await ctx.redis.call('HGET', [ctx.keys.head, 'id'])) as string | null) ?? end;
  for (const digest of folded) {
    if (!(logPrints.get(digest.key) ?? new Fingerprint()).equals(digest)) mismatched.push(digest.key);
    else if (digest.top && StreamId.compare(digest.top, headNow) > 0) {
      // Past the head as it is now: no record wrote this index entry.
      report({ kind: 'index-mismatch', id: digest.top, index: digest.key, message: `index ${digest.key} has entry ${digest.top}, after the chain head ${headNow}` });
    }
  }
  await explainIndexes(ctx, mismatched, start, end, report, problemIds, pageSize);
}

/** Names the entries where the mismatched index streams and the log disagree: one pass over the log for all of them. */
async function explainIndexes(
  ctx: VerifyContext,
  mismatched: readonly string[],
  start: string,
  end: string,
  report: (problem: VerifyProblem) => void,
  problemIds: Set<string>,
  pageSize: number,
): Promise<void> {
  if (mismatched.length === 0) return;
  const { redis, keys, name } = ctx;
  const wanted = new Map<string, { indexed: Map<string, number>; inLog: Map<string, number> }>();
  for (const key of mismatched) {
    const indexed = new Map<string, number>();
    for await (const page of pages(redis, key, start, end, pageSize)) {
      for (const [id, flat] of page) indexed.set(id, Number(fieldsOf(flat).s));
    }
    wanted.set(key, { indexed, inLog: new Map() });
  }
  for await (const page of pages(redis, keys.log, start, end, pageSize)) {
    for (const [id, flat] of page) {
      const item = parseItem(name, id, flat);
      if (!item || !item.contentOk || item.actor === undefined || item.resource === undefined) continue;
      wanted.get(keys.actor(item.actor))?.inLog.set(id, item.seq);
      wanted.get(keys.resource(item.resource))?.inLog.set(id, item.seq);
    }
  }
  for (const [key, { indexed, inLog }] of wanted) {
    const isActor = key.startsWith(keys.actor(''));
    const what = `${isActor ? 'actor' : 'resource'} index "${key.slice((isActor ? keys.actor('') : keys.resource('')).length)}"`;
    for (const [id, seq] of indexed) {
      if (problemIds.has(id)) continue;
      if (inLog.get(id) !== seq) {
        report({ kind: 'index-mismatch', id, seq, index: key, message: `${what} has entry ${id} (seq ${seq}) that the log does not match` });
      }
    }
    for (const [id, seq] of inLog) {
      if (!indexed.has(id)) report({ kind: 'index-mismatch', id, seq, index: key, message: `${what} lacks log entry ${id} (seq ${seq})` });
    }
  }
}
