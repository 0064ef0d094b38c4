import { InvalidStreamIdError } from './errors.js';

/**
 * A complete Redis stream id, `<ms>-<seq>`, such as `1702301234567-0`. A branded string: every
 * id streamkit returns is one, and {@link StreamId.parse} makes one from user input.
 */
export type StreamId = string & { readonly __brand: 'StreamId' };

/** The two parts of a stream id. Both are unsigned 64-bit integers. */
export interface StreamIdParts {
  ms: bigint;
  seq: bigint;
}

/** A range bound: a stream id (complete, incomplete or exclusive `(id`), `-`/`+`, a time in ms or a Date. */
export type IdBound = string | number | Date;

const U64_MAX = '18446744073709551615';
const U64_MAX_BIG = 18446744073709551615n;
const DIGITS = /^\d+$/;

function isU64(text: string): boolean {
  if (!DIGITS.test(text)) return false;
  const trimmed = text.replace(/^0+(?=\d)/, '');
  return trimmed.length < 20 || (trimmed.length === 20 && trimmed <= U64_MAX);
}

function normalizeU64(text: string): string {
  return text.replace(/^0+(?=\d)/, '');
}

function splitId(value: string): [string, string | undefined] {
  const dash = value.indexOf('-');
  return dash === -1 ? [value, undefined] : [value.slice(0, dash), value.slice(dash + 1)];
}

function fail(value: unknown, reason: string): never {
  throw new InvalidStreamIdError(value, reason);
}

function checkParts(value: unknown, ms: string, seq: string | undefined): void {
  if (!isU64(ms)) fail(value, 'the time part must be an unsigned 64-bit integer of milliseconds');
  if (seq !== undefined && !isU64(seq)) fail(value, 'the sequence part must be an unsigned 64-bit integer');
}

function compareU64(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function timeOf(value: number | Date): string {
  const ms = value instanceof Date ? value.getTime() : value;
  if (!Number.isSafeInteger(ms) || ms < 0) fail(value, 'a time must be a non-negative integer of milliseconds');
  return String(ms);
}

/** Parses a complete id (`<ms>-<seq>`); throws {@link InvalidStreamIdError} otherwise. */
function parse(value: string): StreamIdParts {
  if (typeof value !== 'string') fail(value, 'expected a string');
  const [ms, seq] = splitId(value);
  if (seq === undefined) fail(value, 'expected "<ms>-<seq>"');
  checkParts(value, ms, seq);
  return { ms: BigInt(ms), seq: BigInt(seq) };
}

/** Validates a complete id and returns it normalized (leading zeros removed) as a {@link StreamId}. */
function from(value: string): StreamId {
  if (typeof value !== 'string') fail(value, 'expected a string');
  const [ms, seq] = splitId(value);
  if (seq === undefined) fail(value, 'expected "<ms>-<seq>"');
  checkParts(value, ms, seq);
  return `${normalizeU64(ms)}-${normalizeU64(seq)}` as StreamId;
}

/** Formats parts as an id. */
function format(parts: { ms: bigint | number; seq?: bigint | number }): StreamId {
  const toBig = (value: bigint | number | undefined): bigint => {
    if (typeof value === 'bigint') return value;
    if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
    return fail(`${String(parts?.ms)}-${String(parts?.seq ?? 0)}`, 'parts must be integers');
  };
  const ms = toBig(parts?.ms);
  const seq = toBig(parts?.seq ?? 0);
  if (ms < 0n || ms > U64_MAX_BIG || seq < 0n || seq > U64_MAX_BIG) fail(`${ms}-${seq}`, 'parts out of range');
  return `${ms}-${seq}` as StreamId;
}

/** True when the value is a complete id. */
function isValid(value: unknown): value is StreamId {
  if (typeof value !== 'string') return false;
  const [ms, seq] = splitId(value);
  return seq !== undefined && isU64(ms) && isU64(seq);
}

const COMPLETE = /^\d{1,20}-\d{1,20}$/;

/** The dash of a complete id, validating it (a regex test on the hot path, the full check only when needed). */
function dashOf(id: string): number {
  if (typeof id !== 'string' || !COMPLETE.test(id) || (id.length > 20 && !isValid(id))) fail(id, 'expected "<ms>-<seq>"');
  return id.indexOf('-');
}

/** A u64 part without its leading zeros (ids from Redis have none, so this rarely allocates). */
function digits(text: string): string {
  return text.length > 1 && text.charCodeAt(0) === 48 ? normalizeU64(text) : text;
}

/** Orders two complete ids: negative when `a` comes first, 0 when equal. No BigInt. Throws on an invalid id. */
function compare(a: string, b: string): number {
  const da = dashOf(a);
  const db = dashOf(b);
  const byMs = compareU64(digits(a.slice(0, da)), digits(b.slice(0, db)));
  return byMs !== 0 ? byMs : compareU64(digits(a.slice(da + 1)), digits(b.slice(db + 1)));
}

/** The smallest id after `id`. Throws at the largest possible id. */
function next(id: string): StreamId {
  const { ms, seq } = parse(id);
  if (seq < U64_MAX_BIG) return `${ms}-${seq + 1n}` as StreamId;
  if (ms < U64_MAX_BIG) return `${ms + 1n}-0` as StreamId;
  return fail(id, 'there is no id after the largest one');
}

/** The largest id before `id`. Throws at `0-0`. */
function prev(id: string): StreamId {
  const { ms, seq } = parse(id);
  if (seq > 0n) return `${ms}-${seq - 1n}` as StreamId;
  if (ms > 0n) return `${ms - 1n}-${U64_MAX}` as StreamId;
  return fail(id, 'there is no id before 0-0');
}

/** The first id of a millisecond: `fromTime(1702301234567)` is `1702301234567-0`. */
function fromTime(time: number | Date): StreamId {
  return `${timeOf(time)}-0` as StreamId;
}

/** The time part of an id, in milliseconds. */
function toTime(id: string): number {
  if (typeof id !== 'string') fail(id, 'expected a string');
  const [ms, seq] = splitId(id);
  checkParts(id, ms, seq);
  return Number(ms);
}

/** The time part of an id as a Date. */
function toDate(id: string): Date {
  return new Date(toTime(id));
}

/**
 * A range bound as Redis takes it, validated. `side` decides what an incomplete id means:
 * `1702301234` is `1702301234-0` as a start and `1702301234-<max>` as an end. Keeps `-`, `+` and
 * exclusive `(id`; numbers and Dates are times in ms.
 */
function bound(value: IdBound, side: 'start' | 'end'): string {
  if (typeof value === 'number' || value instanceof Date) {
    const ms = timeOf(value);
    return side === 'start' ? `${ms}-0` : `${ms}-${U64_MAX}`;
  }
  if (typeof value !== 'string') fail(value, 'expected a string, a number of ms or a Date');
  if (value === '-' || value === '+') return value;
  const exclusive = value.startsWith('(');
  const body = exclusive ? value.slice(1) : value;
  const [ms, seq] = splitId(body);
  checkParts(value, ms, seq);
  if (exclusive) {
    // As Redis reads it: the incomplete id is completed first (`-0` as a start, `-<max>` as an
    // end), then excluded.
    const full = seq === undefined ? (side === 'start' ? `${ms}-0` : `${ms}-${U64_MAX}`) : `${ms}-${seq}`;
    return `(${full}`;
  }
  if (seq === undefined) return side === 'start' ? `${ms}-0` : `${ms}-${U64_MAX}`;
  return `${ms}-${seq}`;
}

/**
 * An id for XADD: `*` (the server picks), `<ms>-*` (the server picks the sequence) or a complete
 * id greater than `0-0`.
 */
function forAdd(value: string): string {
  if (value === '*') return value;
  if (typeof value !== 'string') fail(value, 'expected a string');
  const [ms, seq] = splitId(value);
  if (seq === '*') {
    checkParts(value, ms, undefined);
    return `${normalizeU64(ms)}-*`;
  }
  if (seq === undefined) fail(value, 'expected "*", "<ms>-*" or "<ms>-<seq>"');
  checkParts(value, ms, seq);
  if (BigInt(ms) === 0n && BigInt(seq) === 0n) fail(value, 'the id must be greater than 0-0');
  return `${normalizeU64(ms)}-${normalizeU64(seq)}`;
}

/**
 * A position to read after, for XREAD: `$` (only new entries), `0` (everything), or an id
 * (complete or incomplete: `1702301234` means after `1702301234-0`), a time in ms or a Date.
 */
function after(value: string | number | Date): string {
  if (typeof value === 'number' || value instanceof Date) return `${timeOf(value)}-0`;
  if (value === '$') return value;
  if (typeof value !== 'string') fail(value, 'expected "$", an id, a number of ms or a Date');
  const [ms, seq] = splitId(value);
  checkParts(value, ms, seq);
  return seq === undefined ? `${normalizeU64(ms)}-0` : `${normalizeU64(ms)}-${normalizeU64(seq)}`;
}

/** The smallest and largest complete ids. */
const MIN = '0-0' as StreamId;
const MAX = `${U64_MAX}-${U64_MAX}` as StreamId;

/**
 * Functions on stream ids. Every one validates its input and throws
 * {@link InvalidStreamIdError} naming the value, before any network call.
 *
 * @example
 * ```ts
 * StreamId.compare('1-2', '1-10'); // < 0
 * StreamId.next('5-18446744073709551615'); // '6-0'
 * StreamId.fromTime(new Date('2024-01-01')); // '1704067200000-0'
 * ```
 */
export const StreamId = {
  MIN,
  MAX,
  parse,
  from,
  format,
  isValid,
  compare,
  next,
  prev,
  fromTime,
  toTime,
  toDate,
  bound,
  forAdd,
  after,
} as const;
