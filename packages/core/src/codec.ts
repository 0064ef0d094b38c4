import type { z } from 'zod';
import { DecodeError, ValidationError, toFieldIssues, type FieldIssue } from './errors.js';

/**
 * How one field is stored. Strings are kept as they are; numbers, bigints and booleans as their
 * text; dates as ISO-8601 text; Buffers as base64; anything else (objects, arrays, unions) as JSON.
 */
export type FieldKind = 'string' | 'number' | 'bigint' | 'boolean' | 'date' | 'buffer' | 'json';

/** A stream entry: its id and its decoded data. */
export interface Entry<T = Record<string, string>> {
  id: string;
  data: T;
}

/** The flat field list Redis stores: `[field, value, field, value, …]`. */
export type FlatFields = string[];

/** Encodes data to a flat field list and decodes it back, validating against a schema if there is one. */
export interface Codec<T, TInput = T> {
  /** Validates and encodes; throws {@link ValidationError} naming the stream and the field. */
  encode(data: TInput, stream: string, index?: number): FlatFields;
  /** Decodes and validates; throws {@link DecodeError} naming the stream, the entry and the field. */
  decode(id: string, fields: FlatFields, stream: string): T;
}

interface FieldSpec {
  kind: FieldKind;
  /** Null is stored as an absent field and read back as null. */
  nullable: boolean;
}

type Def = { type: string; [key: string]: any };
const defOf = (schema: unknown): Def | undefined => (schema as { _zod?: { def?: Def } })?._zod?.def;

function literalKind(values: readonly unknown[]): FieldKind {
  if (values.every((v) => typeof v === 'string')) return 'string';
  if (values.every((v) => typeof v === 'number')) return 'number';
  if (values.every((v) => typeof v === 'boolean')) return 'boolean';
  if (values.every((v) => typeof v === 'bigint')) return 'bigint';
  return 'json';
}

/** The storage kind of one field's schema, looking through wrappers (optional, default, pipe…). */
export function fieldSpec(schema: unknown, depth = 0): FieldSpec {
  const def = defOf(schema);
  if (!def || depth > 20) return { kind: 'json', nullable: false };
  switch (def.type) {
    case 'string':
    case 'template_literal':
      return { kind: 'string', nullable: false };
    case 'number':
    case 'nan':
      return { kind: 'number', nullable: false };
    case 'bigint':
      return { kind: 'bigint', nullable: false };
    case 'boolean':
      return { kind: 'boolean', nullable: false };
    case 'date':
      return { kind: 'date', nullable: false };
    case 'enum':
      return { kind: literalKind(Object.values(def.entries ?? {})), nullable: false };
    case 'literal':
      return { kind: literalKind(def.values ?? []), nullable: false };
    case 'nullable':
      return { kind: fieldSpec(def.innerType, depth + 1).kind, nullable: true };
    case 'optional':
    case 'default':
    case 'prefault':
    case 'nonoptional':
    case 'readonly':
    case 'catch':
    case 'success':
      return fieldSpec(def.innerType, depth + 1);
    case 'pipe':
      // The input side is what a writer hands over and what is stored.
      return fieldSpec(def.in, depth + 1);
    case 'lazy':
      return fieldSpec(def.getter?.(), depth + 1);
    case 'custom': {
      const s = schema as z.ZodType;
      const isBuffer = s.safeParse(Buffer.alloc(0)).success && !s.safeParse('').success;
      return { kind: isBuffer ? 'buffer' : 'json', nullable: false };
    }
    default:
      return { kind: 'json', nullable: false };
  }
}

/**
 * The field layout of an entry schema: field name → spec, for object schemas and unions or
 * intersections of them. `open` when fields the shape does not name are kept (loose objects,
 * records, catchalls), with `rest` as their spec when the schema types them.
 */
interface Layout {
  specs: Map<string, FieldSpec>;
  open: boolean;
  rest: FieldSpec | undefined;
}

const isUntyped = (schema: unknown): boolean => ['unknown', 'any'].includes(defOf(schema)?.type ?? 'unknown');

function shapeSpecs(schema: unknown, depth = 0): Layout {
  const layout: Layout = { specs: new Map(), open: false, rest: undefined };
  const { specs } = layout;
  const def = defOf(schema);
  if (!def || depth > 20) return { ...layout, open: true };
  const merge = (other: Layout) => {
    for (const [name, spec] of other.specs) {
      const known = specs.get(name);
      if (!known) specs.set(name, spec);
      else if (known.kind !== spec.kind) specs.set(name, { kind: 'json', nullable: known.nullable || spec.nullable });
    }
    layout.open ||= other.open;
    layout.rest ??= other.rest;
  };
  switch (def.type) {
    case 'object':
      for (const [name, field] of Object.entries(def.shape as Record<string, unknown>)) specs.set(name, fieldSpec(field));
      // z.object strips unknown keys (no catchall); z.strictObject refuses them (catchall never).
      if (def.catchall !== undefined && defOf(def.catchall)?.type !== 'never') {
        layout.open = true;
        if (!isUntyped(def.catchall)) layout.rest = fieldSpec(def.catchall);
      }
      break;
    case 'record':
      layout.open = true;
      if (!isUntyped(def.valueType)) layout.rest = fieldSpec(def.valueType);
      break;
    case 'union':
      for (const option of def.options as unknown[]) merge(shapeSpecs(option, depth + 1));
      break;
    case 'intersection':
      merge(shapeSpecs(def.left, depth + 1));
      merge(shapeSpecs(def.right, depth + 1));
      break;
    case 'pipe':
      merge(shapeSpecs(def.in, depth + 1));
      break;
    case 'optional':
    case 'default':
    case 'readonly':
    case 'lazy':
      merge(shapeSpecs(def.type === 'lazy' ? def.getter?.() : def.innerType, depth + 1));
      break;
    default:
      layout.open = true;
  }
  return layout;
}

const describe = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value === 'string' ? JSON.stringify(value) : typeof value;

function encodeValue(kind: FieldKind | undefined, value: unknown): string | undefined {
  switch (kind) {
    case 'json':
      return JSON.stringify(value);
    case 'buffer':
      return value instanceof Uint8Array ? Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') : undefined;
    case 'date':
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.toISOString();
      return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
    default:
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.toISOString();
      // A field the schema does not describe (passthrough objects): store structured values as JSON.
      return kind === undefined && value !== null && typeof value === 'object' ? JSON.stringify(value) : undefined;
  }
}

const NOT_A_NUMBER = Symbol('nan');

function decodeValue(kind: FieldKind, text: string): unknown {
  switch (kind) {
    case 'string':
      return text;
    case 'number': {
      const n = text === '' ? Number.NaN : Number(text);
      return Number.isNaN(n) && text !== 'NaN' ? NOT_A_NUMBER : n;
    }
    case 'bigint':
      try {
        return BigInt(text);
      } catch {
        return text;
      }
    case 'boolean':
      return text === 'true' || text === '1' ? true : text === 'false' || text === '0' ? false : text;
    case 'date':
      return new Date(/^\d+$/.test(text) ? Number(text) : text);
    case 'buffer':
      return Buffer.from(text, 'base64');
    case 'json':
      return JSON.parse(text);
  }
}

/** The codec of streams without a schema: data is `Record<string, string>`. */
function plainCodec(): Codec<Record<string, string>> {
  return {
    encode(data, stream, index) {
      if (data === null || typeof data !== 'object' || Array.isArray(data)) {
        throw new ValidationError({ stream, index, issues: [{ path: [], message: `expected an object of fields, got ${describe(data)}` }] });
      }
      const flat: string[] = [];
      for (const name in data) {
        const value = (data as Record<string, unknown>)[name];
        if (value === undefined) continue;
        const text = typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
        if (text === undefined) {
          throw new ValidationError({
            stream,
            index,
            issues: [{ path: [name], message: `expected a string, got ${describe(value)} (give the stream a schema to store other types)` }],
          });
        }
        flat.push(name, text);
      }
      if (flat.length === 0) throw new ValidationError({ stream, index, issues: [{ path: [], message: 'an entry needs at least one field' }] });
      return flat;
    },
    decode(_id, fields) {
      const data: Record<string, string> = {};
      for (let i = 0; i < fields.length; i += 2) data[fields[i]!] = fields[i + 1]!;
      return data;
    },
  };
}

/**
 * Builds the codec for a schema, or the plain string codec without one. The field layout is worked
 * out once from the schema, so encoding and decoding cost one pass over the fields plus the zod parse.
 */
export function createCodec<T, TInput = T>(schema?: z.ZodType<T, TInput>): Codec<T, TInput> {
  if (!schema) return plainCodec() as unknown as Codec<T, TInput>;
  const { specs, open, rest } = shapeSpecs(schema);
  const nullables = [...specs].filter(([, spec]) => spec.nullable).map(([name]) => name);

  return {
    encode(data, stream, index) {
      const result = schema.safeParse(data);
      if (!result.success) throw new ValidationError({ stream, index, issues: toFieldIssues(result.error.issues, data), cause: result.error });
      // The input is stored, not the parsed output: reading parses it again, so defaults and
      // transforms apply once, on read, exactly as they did here.
      const source = data as Record<string, unknown>;
      const flat: string[] = [];
      for (const name in source) {
        const value = source[name];
        if (value === undefined || value === null) continue;
        const spec = specs.get(name) ?? rest;
        if (!spec && !open) continue; // a field the schema strips: it would never be read back
        let text: string | undefined;
        try {
          text = encodeValue(spec?.kind, value);
        } catch (error) {
          // JSON.stringify of a bigint or a cycle
          const reason = error instanceof Error ? error.message : String(error);
          throw new ValidationError({ stream, index, issues: [{ path: [name], message: `cannot store as JSON: ${reason}` }], cause: error });
        }
        if (text === undefined) {
          throw new ValidationError({ stream, index, issues: [{ path: [name], message: `cannot store ${describe(value)}` }] });
        }
        flat.push(name, text);
      }
      if (flat.length === 0) throw new ValidationError({ stream, index, issues: [{ path: [], message: 'an entry needs at least one field' }] });
      return flat;
    },
    decode(id, fields, stream) {
      const data: Record<string, unknown> = {};
      const issues: FieldIssue[] = [];
      for (let i = 0; i < fields.length; i += 2) {
        const name = fields[i]!;
        const text = fields[i + 1]!;
        const kind = (specs.get(name) ?? rest)?.kind ?? 'string';
        if (kind === 'string') {
          data[name] = text;
          continue;
        }
        try {
          const value = decodeValue(kind, text);
          if (value === NOT_A_NUMBER) issues.push({ path: [name], message: `expected number, got ${JSON.stringify(text)}` });
          else data[name] = value;
        } catch (error) {
          issues.push({ path: [name], message: `expected JSON, got ${JSON.stringify(text.slice(0, 80))}` });
          void error;
        }
      }
      for (const name of nullables) if (!(name in data) && !issues.some((i) => i.path[0] === name)) data[name] = null;
      if (issues.length === 0) {
        const result = schema.safeParse(data);
        if (result.success) return result.data;
        issues.push(...toFieldIssues(result.error.issues, data));
      }
      // The raw fields, for the error only: building them for every entry costs a fair share of a read.
      const raw: Record<string, string> = {};
      for (let i = 0; i < fields.length; i += 2) raw[fields[i]!] = fields[i + 1]!;
      throw new DecodeError({ stream, entryId: id, issues, fields: raw });
    },
  };
}
