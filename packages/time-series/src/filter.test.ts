import { describe, expect, it } from 'vitest';
import { matches, parseFilter } from './filter.js';

describe('label filter grammar', () => {
  it('parses every form of RedisTimeSeries filters', () => {
    expect(parseFilter('host=a')).toEqual([{ label: 'host', op: 'eq', values: ['a'] }]);
    expect(parseFilter('host!=a')).toEqual([{ label: 'host', op: 'ne', values: ['a'] }]);
    expect(parseFilter('host=(a,b)')).toEqual([{ label: 'host', op: 'eq', values: ['a', 'b'] }]);
    expect(parseFilter('host!=(a, b)')).toEqual([{ label: 'host', op: 'ne', values: ['a', 'b'] }]);
    expect(parseFilter('host=')).toEqual([{ label: 'host', op: 'absent' }]);
    expect(parseFilter('host!=')).toEqual([{ label: 'host', op: 'present' }]);
    expect(parseFilter('metric=cpu host=(a,b) dc!=')).toHaveLength(3);
    expect(parseFilter(['metric=cpu', 'dc='])).toEqual([
      { label: 'metric', op: 'eq', values: ['cpu'] },
      { label: 'dc', op: 'absent' },
    ]);
  });

  it('refuses malformed filters with a message naming the expression', () => {
    expect(() => parseFilter('')).toThrow(/at least one expression/);
    expect(() => parseFilter('host')).toThrow(/label filter "host": expected l=v/);
    expect(() => parseFilter('host=(a,b')).toThrow(/closed with "\)"/);
    expect(() => parseFilter('host=(a,,b)')).toThrow(/empty value/);
    expect(() => parseFilter('=a')).toThrow(/expected l=v/);
  });

  it('matches label sets like the index does', () => {
    const labels = { host: 'a', metric: 'cpu' };
    expect(matches(labels, parseFilter('host=a'))).toBe(true);
    expect(matches(labels, parseFilter('host=(b,c)'))).toBe(false);
    expect(matches(labels, parseFilter('host!=b dc='))).toBe(true);
    expect(matches(labels, parseFilter('dc!=b'))).toBe(true);
    expect(matches(labels, parseFilter('dc!='))).toBe(false);
    expect(matches(labels, parseFilter('metric!=(cpu,mem)'))).toBe(false);
  });
});
