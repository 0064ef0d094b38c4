import type { Entry, FlatFields } from './codec.js';

/** The counters XINFO STREAM reports in both its plain and its FULL form. */
export interface StreamCounters {
  length: number;
  radixTreeKeys: number;
  radixTreeNodes: number;
  lastGeneratedId: string;
  /** Redis ≥ 7.0: the largest id ever deleted (`0-0` when none). */
  maxDeletedEntryId: string;
  /** Redis ≥ 7.0: how many entries were ever added, counting deleted and trimmed ones. */
  entriesAdded: number;
  /** Redis ≥ 7.0: the id of the first entry the stream still holds (`0-0` when empty). */
  recordedFirstEntryId: string;
}

/** Typed XINFO STREAM. */
export interface StreamInfo<T = Record<string, string>> extends StreamCounters {
  /** Number of consumer groups (`groups` with `full: true` lists them). */
  groupCount: number;
  firstEntry: Entry<T> | null;
  lastEntry: Entry<T> | null;
}

/** Typed XINFO STREAM FULL: every entry (up to the count asked) and every group with its PEL. */
export interface StreamInfoFull<T = Record<string, string>> extends StreamCounters {
  entries: Entry<T>[];
  groups: StreamGroupFull[];
}

/** A group in XINFO STREAM FULL. */
export interface StreamGroupFull {
  name: string;
  lastDeliveredId: string;
  entriesRead: number | null;
  lag: number | null;
  pelCount: number;
  pending: { id: string; consumer: string; deliveryTime: number; deliveryCount: number }[];
  consumers: { name: string; seenTime: number; pelCount: number; pending: { id: string; deliveryTime: number; deliveryCount: number }[] }[];
}

/** Typed XINFO GROUPS row. `lag` is null when Redis cannot tell (after deletions or trims past the group). */
export interface GroupInfo {
  name: string;
  consumers: number;
  pending: number;
  lastDeliveredId: string;
  entriesRead: number | null;
  lag: number | null;
}

/** Typed XINFO CONSUMERS row. `inactiveMs` needs Redis ≥ 7.2 and is null before. */
export interface ConsumerInfo {
  name: string;
  pending: number;
  idleMs: number;
  inactiveMs: number | null;
}

type Raw = unknown[];

/**
 * A RESP3 map reply as ioredis hands it over with `replyMapping: 'resp3'`: a plain object (or a
 * Map), where the default mapping and RESP2 give a flat `[k1, v1, k2, v2…]` list.
 */
function isMapReply(raw: unknown): raw is Record<string, unknown> | Map<unknown, unknown> {
  return raw !== null && typeof raw === 'object' && !Array.isArray(raw) && !Buffer.isBuffer(raw);
}

/** `[k1, v1, k2, v2…]` (or a RESP3 map, see {@link isMapReply}) → a Map. */
export function pairs(raw: unknown): Map<string, unknown> {
  const map = new Map<string, unknown>();
  if (isMapReply(raw)) {
    for (const [key, value] of raw instanceof Map ? raw : Object.entries(raw)) map.set(String(key), value);
    return map;
  }
  const list = raw as Raw;
  for (let i = 0; i + 1 < list.length; i += 2) map.set(String(list[i]), list[i + 1]);
  return map;
}

const num = (value: unknown): number => Number(value ?? 0);
const numOrNull = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));
const str = (value: unknown, fallback = '0-0'): string => (value === null || value === undefined ? fallback : String(value));

type Decode<T> = (id: string, fields: FlatFields) => T;

function entryOf<T>(raw: unknown, decode: Decode<T>): Entry<T> | null {
  if (!Array.isArray(raw)) return null;
  const [id, fields] = raw as [string, FlatFields];
  return { id, data: decode(id, fields ?? []) };
}

function countersOf(map: Map<string, unknown>): StreamCounters {
  return {
    length: num(map.get('length')),
    radixTreeKeys: num(map.get('radix-tree-keys')),
    radixTreeNodes: num(map.get('radix-tree-nodes')),
    lastGeneratedId: str(map.get('last-generated-id')),
    maxDeletedEntryId: str(map.get('max-deleted-entry-id')),
    entriesAdded: num(map.get('entries-added')),
    recordedFirstEntryId: str(map.get('recorded-first-entry-id')),
  };
}

export function parseStreamInfo<T>(raw: unknown, decode: Decode<T>): StreamInfo<T> {
  const map = pairs(raw);
  return {
    ...countersOf(map),
    groupCount: num(map.get('groups')),
    firstEntry: entryOf(map.get('first-entry'), decode),
    lastEntry: entryOf(map.get('last-entry'), decode),
  };
}

export function parseStreamInfoFull<T>(raw: unknown, decode: Decode<T>): StreamInfoFull<T> {
  const map = pairs(raw);
  const groups = ((map.get('groups') as Raw | null) ?? []).map((g) => {
    const group = pairs(g);
    return {
      name: String(group.get('name')),
      lastDeliveredId: str(group.get('last-delivered-id')),
      entriesRead: numOrNull(group.get('entries-read')),
      lag: numOrNull(group.get('lag')),
      pelCount: num(group.get('pel-count')),
      pending: ((group.get('pending') as Raw[] | null) ?? []).map(([id, consumer, time, count]) => ({
        id: String(id),
        consumer: String(consumer),
        deliveryTime: num(time),
        deliveryCount: num(count),
      })),
      consumers: ((group.get('consumers') as Raw | null) ?? []).map((c) => {
        const consumer = pairs(c);
        return {
          name: String(consumer.get('name')),
          seenTime: num(consumer.get('seen-time')),
          pelCount: num(consumer.get('pel-count')),
          pending: ((consumer.get('pending') as Raw[] | null) ?? []).map(([id, time, count]) => ({
            id: String(id),
            deliveryTime: num(time),
            deliveryCount: num(count),
          })),
        };
      }),
    };
  });
  return {
    ...countersOf(map),
    entries: ((map.get('entries') as Raw | null) ?? []).map((e) => entryOf(e, decode)!).filter(Boolean),
    groups,
  };
}

export function parseGroups(raw: unknown): GroupInfo[] {
  return (raw as Raw).map((row) => {
    const map = pairs(row);
    return {
      name: String(map.get('name')),
      consumers: num(map.get('consumers')),
      pending: num(map.get('pending')),
      lastDeliveredId: str(map.get('last-delivered-id')),
      entriesRead: numOrNull(map.get('entries-read')),
      lag: numOrNull(map.get('lag')),
    };
  });
}

export function parseConsumers(raw: unknown): ConsumerInfo[] {
  return (raw as Raw).map((row) => {
    const map = pairs(row);
    return {
      name: String(map.get('name')),
      pending: num(map.get('pending')),
      idleMs: num(map.get('idle')),
      inactiveMs: numOrNull(map.get('inactive')),
    };
  });
}

/**
 * XREAD/XREADGROUP replies as `[key, entries]` pairs. RESP2 sends an array of pairs; RESP3 (the
 * ioredis 6 default) sends a map, which ioredis hands over as a flat `[key, entries, …]` list,
 * or as an object with `replyMapping: 'resp3'`.
 */
export function streamsReply<E>(reply: unknown): [string, E[]][] {
  if (isMapReply(reply)) return [...pairs(reply)] as [string, E[]][];
  if (!Array.isArray(reply) || reply.length === 0) return [];
  if (Array.isArray(reply[0])) return reply as [string, E[]][];
  const streams: [string, E[]][] = [];
  for (let i = 0; i + 1 < reply.length; i += 2) streams.push([String(reply[i]), reply[i + 1] as E[]]);
  return streams;
}

/** The entries of a single-stream XREAD/XREADGROUP reply. */
export function singleStreamReply<E>(reply: unknown): E[] {
  return streamsReply<E>(reply)[0]?.[1] ?? [];
}
