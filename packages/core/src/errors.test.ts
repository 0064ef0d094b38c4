import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ClientClosedError,
  ConfigError,
  DecodeError,
  InvalidStreamIdError,
  RedisCommandError,
  StreamkitError,
  ValidationError,
  toFieldIssues,
} from './errors.js';

const samples = () => ({
  id: new InvalidStreamIdError('12-x', 'the sequence part must be an unsigned 64-bit integer'),
  validation: new ValidationError({ stream: 'orders', index: 2, issues: [{ path: ['amount'], message: 'expected number, got "abc"' }] }),
  decode: new DecodeError({
    stream: 'orders',
    entryId: '1702301234567-0',
    issues: [{ path: ['meta', 'a'], message: 'expected number, got "x"' }],
    fields: { meta: '{"a":"x"}' },
  }),
  redis: new RedisCommandError({ command: 'XADD', stream: 'orders', cause: new Error('WRONGTYPE Operation against a key holding the wrong kind of value') }),
  closed: new ClientClosedError(),
  config: new ConfigError('stream "orders": give maxLen or minId, not both'),
});

describe('errors', () => {
  it('carry a code, a name and the StreamkitError base', () => {
    const all = samples();
    const codes = Object.fromEntries(Object.entries(all).map(([key, error]) => [key, error.code]));
    expect(codes).toEqual({ id: 'INVALID_STREAM_ID', validation: 'VALIDATION', decode: 'DECODE', redis: 'REDIS', closed: 'CLOSED', config: 'CONFIG' });
    for (const error of Object.values(all)) {
      expect(error).toBeInstanceOf(Error);
      expect(error).toBeInstanceOf(StreamkitError);
      expect(StreamkitError.is(error)).toBe(true);
      expect(error.name).toBe(error.constructor.name);
    }
  });

  it('is() matches only its own code', () => {
    const all = samples();
    const guards = {
      id: InvalidStreamIdError.is,
      validation: ValidationError.is,
      decode: DecodeError.is,
      redis: RedisCommandError.is,
      closed: ClientClosedError.is,
      config: ConfigError.is,
    };
    for (const [guardName, guard] of Object.entries(guards)) {
      for (const [errorName, error] of Object.entries(all)) expect(guard(error), `${guardName}.is(${errorName})`).toBe(guardName === errorName);
    }
  });

  it('is() is structural: it holds for an error from another copy of the library, and not for look-alikes', () => {
    const foreign = Object.assign(new Error('x'), { code: 'VALIDATION' });
    expect(StreamkitError.is(foreign)).toBe(false);
    expect(ValidationError.is(foreign)).toBe(false);
    // Another bundle's instance: same global symbol mark, different prototype.
    const copy = Object.create(Error.prototype) as Record<PropertyKey, unknown>;
    Object.defineProperty(copy, Symbol.for('streamkit.error'), { value: true });
    copy.code = 'DECODE';
    expect(StreamkitError.is(copy)).toBe(true);
    expect(DecodeError.is(copy)).toBe(true);
    expect(StreamkitError.is(null)).toBe(false);
    expect(StreamkitError.is('VALIDATION')).toBe(false);
  });

  it('messages name the stream, the entry and the field', () => {
    const all = samples();
    expect(all.id.message).toBe('invalid stream id "12-x": the sequence part must be an unsigned 64-bit integer');
    expect(all.id.value).toBe('12-x');
    expect(all.validation.message).toBe('stream "orders" entry #2: field "amount": expected number, got "abc"');
    expect(all.validation.stream).toBe('orders');
    expect(all.validation.index).toBe(2);
    expect(all.decode.message).toBe('stream "orders" entry 1702301234567-0: field "meta.a": expected number, got "x"');
    expect(all.decode.entryId).toBe('1702301234567-0');
    expect(all.decode.fields).toEqual({ meta: '{"a":"x"}' });
    expect(all.redis.message).toBe('XADD on stream "orders" failed: WRONGTYPE Operation against a key holding the wrong kind of value');
    expect(all.redis.command).toBe('XADD');
    expect(all.redis.stream).toBe('orders');
    expect(all.closed.message).toBe('the stream client is closed');
  });

  it('keep the cause', () => {
    const cause = new Error('socket closed');
    expect(new RedisCommandError({ command: 'XREAD', cause }).cause).toBe(cause);
    expect(new RedisCommandError({ command: 'XREAD', cause }).message).toBe('XREAD failed: socket closed');
    expect(new ValidationError({ stream: 's', issues: [], cause }).cause).toBe(cause);
    expect(new ConfigError('x').cause).toBeUndefined();
  });

  it('toFieldIssues keeps zod paths and shows the offending value', () => {
    const schema = z.object({ amount: z.number(), items: z.array(z.object({ sku: z.string() })) });
    const data = { amount: 'abc', items: [{ sku: 5 }] };
    const result = schema.safeParse(data);
    expect(result.success).toBe(false);
    const issues = toFieldIssues(result.error!.issues, data);
    expect(issues.map((issue) => issue.path)).toEqual([['amount'], ['items', 0, 'sku']]);
    expect(issues[0]!.message).toBe('expected number, got "abc"');
    expect(issues[0]!.code).toBe('invalid_type');
    const error = new ValidationError({ stream: 'orders', issues });
    expect(error.message).toMatch(/^stream "orders": field "amount": expected number, got "abc"; field "items\.0\.sku": expected string, got /);
  });
});
