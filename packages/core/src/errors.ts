import type { z } from 'zod';

/** Every error code streamkit throws. Match on `code` rather than on classes across bundles. */
export type StreamkitErrorCode =
  | 'INVALID_STREAM_ID'
  | 'VALIDATION'
  | 'DECODE'
  | 'REDIS'
  | 'CLOSED'
  | 'CONFIG'
  | 'CONCURRENCY'
  | (string & {});

const MARK = Symbol.for('streamkit.error');

/**
 * The base of every error streamkit throws.
 *
 * Use {@link StreamkitError.is} rather than `instanceof`: when both the ESM and the CJS build of
 * streamkit load in one process, `instanceof` fails across them while `is()` does not.
 *
 * @example
 * ```ts
 * try { await orders.add(input); }
 * catch (error) { if (ValidationError.is(error)) console.log(error.issues); }
 * ```
 */
export class StreamkitError extends Error {
  readonly code: StreamkitErrorCode;
  declare readonly cause?: unknown;

  constructor(code: StreamkitErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    Object.defineProperty(this, MARK, { value: true });
  }

  /** Structural guard: true for any streamkit error (of this class's code, on a subclass). */
  static is(value: unknown): value is StreamkitError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MARK] === true;
  }
}

/** Narrowing helper used by the subclasses' `is()`. */
function isCode<T extends StreamkitError>(value: unknown, code: string): value is T {
  return StreamkitError.is(value) && value.code === code;
}

/** A stream id that does not parse, thrown before any network call. */
export class InvalidStreamIdError extends StreamkitError {
  readonly value: unknown;
  readonly reason: string;

  constructor(value: unknown, reason: string) {
    super('INVALID_STREAM_ID', `invalid stream id ${JSON.stringify(String(value))}: ${reason}`);
    this.value = value;
    this.reason = reason;
  }

  static override is(value: unknown): value is InvalidStreamIdError {
    return isCode(value, 'INVALID_STREAM_ID');
  }
}

/** One problem found in an entry, with the field path it concerns. */
export interface FieldIssue {
  /** Path of the field inside the entry's data, e.g. `['amount']`. */
  path: PropertyKey[];
  message: string;
  code?: string;
}

function describeIssues(issues: readonly FieldIssue[]): string {
  return issues
    .map((issue) => (issue.path.length ? `field "${issue.path.map(String).join('.')}": ${issue.message}` : issue.message))
    .join('; ');
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value instanceof Date) return `Date(${Number.isNaN(value.getTime()) ? 'invalid' : value.toISOString()})`;
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let value = data;
  for (const key of path) value = value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  return value;
}

/**
 * Converts zod issues to {@link FieldIssue}s. Given the data that was checked, a type mismatch
 * reads `expected number, got "abc"`.
 */
export function toFieldIssues(issues: readonly z.core.$ZodIssue[], data?: unknown): FieldIssue[] {
  return issues.map((issue) => {
    const message =
      issue.code === 'invalid_type' && data !== undefined
        ? `expected ${issue.expected}, got ${show(valueAt(data, issue.path))}`
        : issue.message;
    return { path: [...issue.path], message, code: issue.code };
  });
}

/**
 * Data that fails its schema on write. Nothing was sent to Redis.
 * `index` is the position in the batch for `addMany`.
 */
export class ValidationError extends StreamkitError {
  readonly stream: string;
  readonly issues: FieldIssue[];
  readonly index: number | undefined;

  constructor(options: { stream: string; issues: FieldIssue[]; index?: number; cause?: unknown }) {
    const where = options.index === undefined ? '' : ` entry #${options.index}`;
    super('VALIDATION', `stream "${options.stream}"${where}: ${describeIssues(options.issues)}`, {
      cause: options.cause,
    });
    this.stream = options.stream;
    this.issues = options.issues;
    this.index = options.index;
  }

  static override is(value: unknown): value is ValidationError {
    return isCode(value, 'VALIDATION');
  }
}

/** An entry read from Redis that does not decode or fails the schema. */
export class DecodeError extends StreamkitError {
  readonly stream: string;
  readonly entryId: string;
  readonly issues: FieldIssue[];
  /** The raw fields as they are stored. */
  readonly fields: Record<string, string>;

  constructor(options: {
    stream: string;
    entryId: string;
    issues: FieldIssue[];
    fields: Record<string, string>;
    cause?: unknown;
  }) {
    super('DECODE', `stream "${options.stream}" entry ${options.entryId}: ${describeIssues(options.issues)}`, {
      cause: options.cause,
    });
    this.stream = options.stream;
    this.entryId = options.entryId;
    this.issues = options.issues;
    this.fields = options.fields;
  }

  static override is(value: unknown): value is DecodeError {
    return isCode(value, 'DECODE');
  }
}

/** A command Redis refused, with the command and the stream it concerned. */
export class RedisCommandError extends StreamkitError {
  readonly command: string;
  readonly stream: string | undefined;

  constructor(options: { command: string; stream?: string; cause: unknown }) {
    const reason = options.cause instanceof Error ? options.cause.message : String(options.cause);
    const where = options.stream === undefined ? '' : ` on stream "${options.stream}"`;
    super('REDIS', `${options.command}${where} failed: ${reason}`, { cause: options.cause });
    this.command = options.command;
    this.stream = options.stream;
  }

  static override is(value: unknown): value is RedisCommandError {
    return isCode(value, 'REDIS');
  }
}

/** A call on a client that was closed. */
export class ClientClosedError extends StreamkitError {
  constructor(what = 'stream client') {
    super('CLOSED', `the ${what} is closed`);
  }

  static override is(value: unknown): value is ClientClosedError {
    return isCode(value, 'CLOSED');
  }
}

/** Options that cannot work together, found before any network call. */
export class ConfigError extends StreamkitError {
  constructor(message: string) {
    super('CONFIG', message);
  }

  static override is(value: unknown): value is ConfigError {
    return isCode(value, 'CONFIG');
  }
}
