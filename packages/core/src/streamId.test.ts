import { describe, expect, it } from 'vitest';
import { InvalidStreamIdError } from './errors.js';
import { StreamId } from './streamId.js';

const U64 = '18446744073709551615';

/** Runs `fn` and returns the InvalidStreamIdError it throws, failing when it throws anything else. */
function idError(fn: () => unknown): InvalidStreamIdError {
  try {
    fn();
  } catch (error) {
    expect(InvalidStreamIdError.is(error)).toBe(true);
    return error as InvalidStreamIdError;
  }
  throw new Error('expected an InvalidStreamIdError, nothing was thrown');
}

function expectRejected(fn: () => unknown, value: unknown): void {
  const error = idError(fn);
  expect(error.code).toBe('INVALID_STREAM_ID');
  expect(error.value).toEqual(value);
  expect(error.message).toContain(JSON.stringify(String(value)));
}

const BAD_COMPLETE = ['', '-', '+', '$', '*', '1', '1-', '-1', '1-2-3', 'a-1', '1-a', ' 1-1', '1-1 ', '1.5-0', '0x10-0', '1e3-0', '18446744073709551616-0', `1-18446744073709551616`];

describe('StreamId.parse / from / isValid', () => {
  it('parses complete ids into unsigned 64-bit parts', () => {
    expect(StreamId.parse('1702301234567-3')).toEqual({ ms: 1702301234567n, seq: 3n });
    expect(StreamId.parse('0-0')).toEqual({ ms: 0n, seq: 0n });
    expect(StreamId.parse(`${U64}-${U64}`)).toEqual({ ms: 2n ** 64n - 1n, seq: 2n ** 64n - 1n });
  });

  it('normalizes leading zeros in from()', () => {
    expect(StreamId.from('0001-002')).toBe('1-2');
    expect(StreamId.from('0-0')).toBe('0-0');
    expect(StreamId.from(`0${U64}-0`)).toBe(`${U64}-0`);
  });

  it.each(BAD_COMPLETE)('rejects %j naming the value', (value) => {
    expectRejected(() => StreamId.parse(value), value);
    expectRejected(() => StreamId.from(value), value);
    expect(StreamId.isValid(value)).toBe(false);
  });

  it('rejects non-strings', () => {
    expectRejected(() => StreamId.parse(5 as unknown as string), 5);
    expectRejected(() => StreamId.from(null as unknown as string), null);
    expect(StreamId.isValid(5)).toBe(false);
    expect(StreamId.isValid(`${U64}-${U64}`)).toBe(true);
  });
});

describe('StreamId.format', () => {
  it('formats parts, seq defaulting to 0', () => {
    expect(StreamId.format({ ms: 5, seq: 7 })).toBe('5-7');
    expect(StreamId.format({ ms: 5n })).toBe('5-0');
    expect(StreamId.format({ ms: 2n ** 64n - 1n, seq: 2n ** 64n - 1n })).toBe(`${U64}-${U64}`);
  });

  it('round-trips with parse', () => {
    for (const id of ['0-1', '1702301234567-0', `${U64}-12`]) expect(StreamId.format(StreamId.parse(id))).toBe(id);
  });

  it.each([
    [{ ms: -1 }],
    [{ ms: 2n ** 64n }],
    [{ ms: 1, seq: -1n }],
    [{ ms: 1.5 }],
    [{ ms: Number.NaN }],
  ])('rejects out-of-range or fractional parts %o', (parts) => {
    const error = idError(() => StreamId.format(parts as { ms: number }));
    expect(error.message).toMatch(/invalid stream id/);
  });
});

describe('StreamId.compare', () => {
  it('orders numerically, not as text', () => {
    expect(StreamId.compare('1-2', '1-10')).toBeLessThan(0);
    expect(StreamId.compare('9-0', '10-0')).toBeLessThan(0);
    expect(StreamId.compare('10-0', '9-99')).toBeGreaterThan(0);
    expect(StreamId.compare('5-5', '5-5')).toBe(0);
    expect(StreamId.compare(`${U64}-0`, `${U64}-1`)).toBeLessThan(0);
    expect(StreamId.compare(`${U64}-0`, '18446744073709551614-99')).toBeGreaterThan(0);
  });

  it('ignores leading zeros', () => {
    expect(StreamId.compare('01-0', '2-0')).toBeLessThan(0);
    expect(StreamId.compare('002-0', '2-0')).toBe(0);
    expect(StreamId.compare('3-010', '3-9')).toBeGreaterThan(0);
  });

  it('sorts a shuffled list', () => {
    const ids = ['10-0', '1-10', '1-2', '0-1', '2-0', `${U64}-0`, '1-1'];
    expect([...ids].sort(StreamId.compare)).toEqual(['0-1', '1-1', '1-2', '1-10', '2-0', '10-0', `${U64}-0`]);
  });

  it.each(['1', '', '1-x', '+'])('rejects %j naming the value', (bad) => {
    expectRejected(() => StreamId.compare(bad, '1-0'), bad);
    expectRejected(() => StreamId.compare('1-0', bad), bad);
  });
});

describe('StreamId.next / prev', () => {
  it('steps the sequence', () => {
    expect(StreamId.next('5-0')).toBe('5-1');
    expect(StreamId.prev('5-1')).toBe('5-0');
    expect(StreamId.next('0-0')).toBe('0-1');
  });

  it('carries a sequence overflow into the next millisecond', () => {
    expect(StreamId.next(`5-${U64}`)).toBe('6-0');
    expect(StreamId.prev('6-0')).toBe(`5-${U64}`);
  });

  it('throws past the ends', () => {
    expectRejected(() => StreamId.prev('0-0'), '0-0');
    expect(idError(() => StreamId.prev('0-0')).reason).toMatch(/before 0-0/);
    expectRejected(() => StreamId.next(StreamId.MAX), StreamId.MAX);
  });

  it('rejects bad ids', () => {
    expectRejected(() => StreamId.next('5'), '5');
    expectRejected(() => StreamId.prev('x-1'), 'x-1');
  });
});

describe('StreamId.fromTime / toTime / toDate', () => {
  it('converts ms and Dates', () => {
    expect(StreamId.fromTime(1702301234567)).toBe('1702301234567-0');
    expect(StreamId.fromTime(new Date('2024-01-01T00:00:00.000Z'))).toBe('1704067200000-0');
    expect(StreamId.fromTime(0)).toBe('0-0');
    expect(StreamId.toTime('1702301234567-9')).toBe(1702301234567);
    expect(StreamId.toTime('1702301234567')).toBe(1702301234567);
    expect(StreamId.toDate('1704067200000-3').toISOString()).toBe('2024-01-01T00:00:00.000Z');
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('fromTime rejects %s', (ms) => {
    expect(idError(() => StreamId.fromTime(ms)).reason).toMatch(/non-negative integer/);
  });

  it('fromTime rejects an invalid Date', () => {
    idError(() => StreamId.fromTime(new Date('nope')));
  });

  it.each(['', 'x-1', '5-x', '-', '5-1-1'])('toTime rejects %j', (bad) => {
    expectRejected(() => StreamId.toTime(bad), bad);
  });
});

describe('StreamId.bound', () => {
  it('keeps - and +', () => {
    expect(StreamId.bound('-', 'start')).toBe('-');
    expect(StreamId.bound('+', 'end')).toBe('+');
  });

  it('completes an incomplete id by side', () => {
    expect(StreamId.bound('1702301234', 'start')).toBe('1702301234-0');
    expect(StreamId.bound('1702301234', 'end')).toBe(`1702301234-${U64}`);
  });

  it('keeps complete ids', () => {
    expect(StreamId.bound('5-3', 'start')).toBe('5-3');
    expect(StreamId.bound('5-3', 'end')).toBe('5-3');
  });

  it('turns ms and Dates into the first / last id of that millisecond', () => {
    expect(StreamId.bound(1000, 'start')).toBe('1000-0');
    expect(StreamId.bound(1000, 'end')).toBe(`1000-${U64}`);
    const date = new Date('2024-01-01T00:00:00.000Z');
    expect(StreamId.bound(date, 'start')).toBe('1704067200000-0');
    expect(StreamId.bound(date, 'end')).toBe(`1704067200000-${U64}`);
  });

  it('keeps exclusive bounds, completing incomplete ones as Redis does', () => {
    expect(StreamId.bound('(5-3', 'start')).toBe('(5-3');
    expect(StreamId.bound('(5-3', 'end')).toBe('(5-3');
    expect(StreamId.bound('(5', 'start')).toBe('(5-0');
    expect(StreamId.bound('(5', 'end')).toBe(`(5-${U64}`);
  });

  it.each(['', '$', '*', '(', '(-', '(+', '((5-0', 'abc', '5-x', '5-1-2', '-5', '18446744073709551616'])('rejects %j naming the value', (bad) => {
    expectRejected(() => StreamId.bound(bad, 'start'), bad);
    expectRejected(() => StreamId.bound(bad, 'end'), bad);
  });

  it('rejects other types and bad times', () => {
    expectRejected(() => StreamId.bound({} as unknown as string, 'start'), {});
    idError(() => StreamId.bound(-5, 'end'));
    idError(() => StreamId.bound(new Date(Number.NaN), 'end'));
  });
});

describe('StreamId.forAdd', () => {
  it('accepts *, <ms>-* and complete ids above 0-0', () => {
    expect(StreamId.forAdd('*')).toBe('*');
    expect(StreamId.forAdd('1702301234567-*')).toBe('1702301234567-*');
    expect(StreamId.forAdd('0-*')).toBe('0-*');
    expect(StreamId.forAdd('0-1')).toBe('0-1');
    expect(StreamId.forAdd('5-3')).toBe('5-3');
  });

  it('normalizes leading zeros', () => {
    expect(StreamId.forAdd('005-03')).toBe('5-3');
    expect(StreamId.forAdd('005-*')).toBe('5-*');
  });

  it('rejects 0-0', () => {
    expect(idError(() => StreamId.forAdd('0-0')).reason).toMatch(/greater than 0-0/);
    idError(() => StreamId.forAdd('000-000'));
  });

  it.each(['', '5', '-', '+', '$', '*-*', '*-5', '5-**', 'x-*', '5-3-*', '(5-3'])('rejects %j naming the value', (bad) => {
    expectRejected(() => StreamId.forAdd(bad), bad);
  });
});

describe('StreamId.after', () => {
  it('keeps $ and completes ids', () => {
    expect(StreamId.after('$')).toBe('$');
    expect(StreamId.after('0')).toBe('0-0');
    expect(StreamId.after('1702301234')).toBe('1702301234-0');
    expect(StreamId.after('007-02')).toBe('7-2');
    expect(StreamId.after(1000)).toBe('1000-0');
    expect(StreamId.after(new Date(1000))).toBe('1000-0');
  });

  it.each(['', '-', '+', '*', '>', '(5-0', '5-*', 'abc'])('rejects %j naming the value', (bad) => {
    expectRejected(() => StreamId.after(bad), bad);
  });
});
