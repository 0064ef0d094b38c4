import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createCodec, fieldSpec, type FlatFields } from './codec.js';
import { DecodeError, ValidationError } from './errors.js';

const STREAM = 'shop:orders';

function toObject(fields: FlatFields): Record<string, string> {
  const object: Record<string, string> = {};
  for (let i = 0; i < fields.length; i += 2) object[fields[i]!] = fields[i + 1]!;
  return object;
}

function catchError<E>(fn: () => unknown, guard: (e: unknown) => e is E): E {
  try {
    fn();
  } catch (error) {
    if (guard(error)) return error;
    throw error;
  }
  throw new Error('expected an error, nothing was thrown');
}

describe('codec without a schema', () => {
  const codec = createCodec();

  it('stores strings as they are and reads them back', () => {
    const fields = codec.encode({ order_id: 'o-1', note: '', emoji: 'ünï 🚀' }, STREAM);
    expect(fields).toEqual(['order_id', 'o-1', 'note', '', 'emoji', 'ünï 🚀']);
    expect(codec.decode('1-0', fields, STREAM)).toEqual({ order_id: 'o-1', note: '', emoji: 'ünï 🚀' });
  });

  it('turns numbers and booleans into text, skips undefined', () => {
    expect(codec.encode({ n: 5, b: false, skip: undefined } as unknown as Record<string, string>, STREAM)).toEqual(['n', '5', 'b', 'false']);
  });

  it('refuses objects, null and empty entries with the stream and field', () => {
    const error = catchError(() => codec.encode({ a: { nested: true } } as unknown as Record<string, string>, STREAM), ValidationError.is);
    expect(error.stream).toBe(STREAM);
    expect(error.issues[0]!.path).toEqual(['a']);
    expect(error.message).toBe(`stream "${STREAM}": field "a": expected a string, got object (give the stream a schema to store other types)`);
    expect(catchError(() => codec.encode({} as Record<string, string>, STREAM), ValidationError.is).message).toMatch(/at least one field/);
    expect(catchError(() => codec.encode(null as unknown as Record<string, string>, STREAM, 3), ValidationError.is).index).toBe(3);
    expect(catchError(() => codec.encode(['x'] as unknown as Record<string, string>, STREAM), ValidationError.is).message).toMatch(/got array/);
  });
});

describe('codec with a schema', () => {
  it('round-trips strings, numbers, bigints, booleans, dates, buffers and JSON', () => {
    const schema = z.object({
      s: z.string(),
      n: z.number(),
      neg: z.number(),
      big: z.bigint(),
      yes: z.boolean(),
      no: z.boolean(),
      at: z.date(),
      bytes: z.instanceof(Buffer),
      tags: z.array(z.string()),
      meta: z.object({ a: z.number(), b: z.array(z.object({ c: z.boolean() })) }),
    });
    const codec = createCodec(schema);
    const data = {
      s: 'hello',
      n: 42.5,
      neg: -1e-7,
      big: 12345678901234567890n,
      yes: true,
      no: false,
      at: new Date('2024-01-02T03:04:05.678Z'),
      bytes: Buffer.from([0, 1, 2, 250, 255]),
      tags: ['a', 'b'],
      meta: { a: 1, b: [{ c: true }] },
    };
    const fields = codec.encode(data, STREAM);
    expect(toObject(fields)).toEqual({
      s: 'hello',
      n: '42.5',
      neg: '-1e-7',
      big: '12345678901234567890',
      yes: 'true',
      no: 'false',
      at: '2024-01-02T03:04:05.678Z',
      bytes: Buffer.from([0, 1, 2, 250, 255]).toString('base64'),
      tags: '["a","b"]',
      meta: '{"a":1,"b":[{"c":true}]}',
    });
    const decoded = codec.decode('1-1', fields, STREAM);
    expect(decoded).toEqual(data);
    expect(decoded.at).toBeInstanceOf(Date);
    expect(Buffer.isBuffer(decoded.bytes)).toBe(true);
  });

  it('reads numbers, booleans and dates written by other producers', () => {
    const codec = createCodec(z.object({ n: z.number(), b: z.boolean(), at: z.date() }));
    expect(codec.decode('1-0', ['n', '7', 'b', '1', 'at', '1704067200000'], STREAM)).toEqual({ n: 7, b: true, at: new Date(1704067200000) });
    expect(codec.decode('1-0', ['n', '-0.5', 'b', '0', 'at', '2024-01-01'], STREAM)).toEqual({
      n: -0.5,
      b: false,
      at: new Date('2024-01-01'),
    });
  });

  it('stores null as an absent field and reads it back as null', () => {
    const codec = createCodec(z.object({ id: z.string(), note: z.string().nullable(), count: z.number().nullable() }));
    const fields = codec.encode({ id: 'a', note: null, count: null }, STREAM);
    expect(fields).toEqual(['id', 'a']);
    expect(codec.decode('1-0', fields, STREAM)).toEqual({ id: 'a', note: null, count: null });
    expect(codec.decode('1-0', codec.encode({ id: 'a', note: 'x', count: 3 }, STREAM), STREAM)).toEqual({ id: 'a', note: 'x', count: 3 });
  });

  it('leaves optional fields out and applies defaults on read', () => {
    const codec = createCodec(z.object({ id: z.string(), qty: z.number().optional(), status: z.string().default('new'), n: z.number().default(1) }));
    const fields = codec.encode({ id: 'a' }, STREAM);
    expect(fields).toEqual(['id', 'a']);
    expect(codec.decode('1-0', fields, STREAM)).toEqual({ id: 'a', status: 'new', n: 1 });
    expect(codec.decode('1-0', codec.encode({ id: 'a', qty: 2, status: 'paid', n: 5 }, STREAM), STREAM)).toEqual({
      id: 'a',
      qty: 2,
      status: 'paid',
      n: 5,
    });
  });

  it('round-trips enums and literals', () => {
    const codec = createCodec(
      z.object({ status: z.enum(['new', 'paid']), level: z.literal(3), flag: z.literal(true), kind: z.literal(['a', 'b']) }),
    );
    const fields = codec.encode({ status: 'paid', level: 3, flag: true, kind: 'b' }, STREAM);
    expect(toObject(fields)).toEqual({ status: 'paid', level: '3', flag: 'true', kind: 'b' });
    expect(codec.decode('1-0', fields, STREAM)).toEqual({ status: 'paid', level: 3, flag: true, kind: 'b' });
  });

  it('round-trips a field that is a union of types', () => {
    const codec = createCodec(z.object({ v: z.union([z.string(), z.number()]) }));
    for (const v of ['12', 12, 'abc']) expect(codec.decode('1-0', codec.encode({ v }, STREAM), STREAM)).toEqual({ v });
  });

  it('round-trips a discriminated union of entry shapes', () => {
    const schema = z.discriminatedUnion('type', [
      z.object({ type: z.literal('created'), id: z.string(), at: z.date() }),
      z.object({ type: z.literal('paid'), id: z.string(), amount: z.number() }),
    ]);
    const codec = createCodec(schema);
    const created = { type: 'created' as const, id: 'o-1', at: new Date(5) };
    const paid = { type: 'paid' as const, id: 'o-1', amount: 9.99 };
    expect(codec.decode('1-0', codec.encode(created, STREAM), STREAM)).toEqual(created);
    expect(codec.decode('1-1', codec.encode(paid, STREAM), STREAM)).toEqual(paid);
    expect(toObject(codec.encode(paid, STREAM)).amount).toBe('9.99');
  });

  it('round-trips records of numbers', () => {
    const codec = createCodec(z.record(z.string(), z.number()));
    const fields = codec.encode({ a: 1, b: 2.5 }, STREAM);
    expect(fields).toEqual(['a', '1', 'b', '2.5']);
    expect(codec.decode('1-0', fields, STREAM)).toEqual({ a: 1, b: 2.5 });
  });

  it('applies transforms on read from the stored input', () => {
    const codec = createCodec(z.object({ email: z.string().trim().toLowerCase(), cents: z.string().transform((s) => Number(s) * 100) }));
    const fields = codec.encode({ email: '  A@B.C ', cents: '1.5' }, STREAM);
    expect(toObject(fields)).toEqual({ email: '  A@B.C ', cents: '1.5' });
    expect(codec.decode('1-0', fields, STREAM)).toEqual({ email: 'a@b.c', cents: 150 });
  });

  it('does not store fields the schema strips', () => {
    const codec = createCodec(z.object({ a: z.string() }));
    expect(codec.encode({ a: 'x', extra: 'y' } as { a: string }, STREAM)).toEqual(['a', 'x']);
    const loose = createCodec(z.looseObject({ a: z.string() }));
    expect(loose.encode({ a: 'x', extra: 'y' } as { a: string }, STREAM)).toEqual(['a', 'x', 'extra', 'y']);
    expect(loose.decode('1-0', ['a', 'x', 'extra', 'y'], STREAM)).toEqual({ a: 'x', extra: 'y' });
  });

  describe('ValidationError on write', () => {
    const codec = createCodec(z.object({ order_id: z.string(), amount: z.number(), item: z.object({ sku: z.string() }) }));

    it('names the stream and the field path, and carries the zod issues', () => {
      const error = catchError(() => codec.encode({ order_id: 'o-1', amount: 'abc' as unknown as number, item: { sku: 5 as unknown as string } }, STREAM), ValidationError.is);
      expect(error.code).toBe('VALIDATION');
      expect(error.stream).toBe(STREAM);
      expect(error.index).toBeUndefined();
      expect(error.issues.map((issue) => issue.path)).toEqual([['amount'], ['item', 'sku']]);
      expect(error.message).toMatch(/^stream "shop:orders": field "amount": .*number.*; field "item\.sku": .*string/);
      expect(error.cause).toBeInstanceOf(z.ZodError);
    });

    it('names the batch index', () => {
      const error = catchError(() => codec.encode({ order_id: 'o', amount: 1 } as never, STREAM, 7), ValidationError.is);
      expect(error.index).toBe(7);
      expect(error.message).toMatch(/^stream "shop:orders" entry #7: field "item": /);
    });

    it('refuses an invalid Date', () => {
      const dated = createCodec(z.object({ at: z.date() }));
      expect(catchError(() => dated.encode({ at: new Date('nope') }, STREAM), ValidationError.is).issues[0]!.path).toEqual(['at']);
    });

    it('refuses values JSON cannot hold, naming the field', () => {
      const nested = createCodec(z.object({ meta: z.object({ big: z.bigint() }) }));
      const error = catchError(() => nested.encode({ meta: { big: 1n } }, STREAM, 4), ValidationError.is);
      expect(error.index).toBe(4);
      expect(error.issues[0]!.path).toEqual(['meta']);
      expect(error.message).toMatch(/^stream "shop:orders" entry #4: field "meta": cannot store as JSON: /);
    });

    it('refuses an empty entry', () => {
      const optional = createCodec(z.object({ a: z.string().optional() }));
      expect(catchError(() => optional.encode({}, STREAM), ValidationError.is).message).toMatch(/at least one field/);
    });
  });

  describe('DecodeError on read', () => {
    const codec = createCodec(z.object({ order_id: z.string(), amount: z.number(), meta: z.object({ a: z.number() }).optional() }));

    it('names the stream, the entry and the field for a bad number', () => {
      const error = catchError(() => codec.decode('1702301234567-0', ['order_id', 'o-1', 'amount', 'abc'], STREAM), DecodeError.is);
      expect(error.code).toBe('DECODE');
      expect(error.stream).toBe(STREAM);
      expect(error.entryId).toBe('1702301234567-0');
      expect(error.issues).toEqual([{ path: ['amount'], message: 'expected number, got "abc"' }]);
      expect(error.fields).toEqual({ order_id: 'o-1', amount: 'abc' });
      expect(error.message).toBe('stream "shop:orders" entry 1702301234567-0: field "amount": expected number, got "abc"');
    });

    it('reports bad JSON and a missing field', () => {
      const error = catchError(() => codec.decode('5-1', ['amount', '1', 'meta', '{oops'], STREAM), DecodeError.is);
      expect(error.issues.map((issue) => issue.path)).toEqual([['meta']]);
      expect(error.message).toMatch(/field "meta": expected JSON/);
      const missing = catchError(() => codec.decode('5-2', ['amount', '1'], STREAM), DecodeError.is);
      expect(missing.issues.map((issue) => issue.path)).toEqual([['order_id']]);
      expect(missing.message).toMatch(/^stream "shop:orders" entry 5-2: field "order_id": /);
    });

    it('reports schema refinements that fail on read', () => {
      const positive = createCodec(z.object({ n: z.number().positive() }));
      const error = catchError(() => positive.decode('9-9', ['n', '-3'], STREAM), DecodeError.is);
      expect(error.issues[0]!.path).toEqual(['n']);
      expect(error.entryId).toBe('9-9');
    });
  });
});

describe('fieldSpec', () => {
  it('sees through wrappers', () => {
    expect(fieldSpec(z.number().optional().default(1))).toEqual({ kind: 'number', nullable: false });
    expect(fieldSpec(z.date().nullable())).toEqual({ kind: 'date', nullable: true });
    expect(fieldSpec(z.string().pipe(z.coerce.number()))).toEqual({ kind: 'string', nullable: false });
    expect(fieldSpec(z.instanceof(Buffer))).toEqual({ kind: 'buffer', nullable: false });
    expect(fieldSpec(z.array(z.number()))).toEqual({ kind: 'json', nullable: false });
    expect(fieldSpec(z.enum(['a', 'b']))).toEqual({ kind: 'string', nullable: false });
    expect(fieldSpec(z.boolean().readonly())).toEqual({ kind: 'boolean', nullable: false });
  });
});
