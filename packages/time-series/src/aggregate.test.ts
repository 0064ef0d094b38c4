import { describe, expect, it } from 'vitest';
import { addSample, bucketStart, ceilTo, finalize, floorTo, mergePartial, partialOf, percentile } from './aggregate.js';

describe('aggregation math', () => {
  it('aligns buckets to the epoch or to any alignment, before and after it', () => {
    expect(bucketStart(125_999, 60_000, 0)).toBe(120_000);
    expect(bucketStart(120_000, 60_000, 0)).toBe(120_000);
    expect(bucketStart(125_999, 60_000, 5_000)).toBe(125_000);
    expect(bucketStart(124_999, 60_000, 5_000)).toBe(65_000);
    expect(bucketStart(4_999, 60_000, 5_000)).toBe(-55_000);
    expect(bucketStart(10, 7, 3)).toBe(10);
    expect(ceilTo(61, 60)).toBe(120);
    expect(ceilTo(120, 60)).toBe(120);
    expect(floorTo(119, 60)).toBe(60);
  });

  it('merges partials into the partial of the union', () => {
    const values = [3, -1, 4, 1, -5, 9, 2, 6];
    const whole = partialOf([values[0]!]);
    for (const v of values.slice(1)) addSample(whole, [v]);
    const left = partialOf([values[0]!]);
    for (const v of values.slice(1, 3)) addSample(left, [v]);
    const right = partialOf([values[3]!]);
    for (const v of values.slice(4)) addSample(right, [v]);
    mergePartial(left, right);
    expect(left).toEqual(whole);
    expect(finalize(whole, 0, 'count')).toBe(8);
    expect(finalize(whole, 0, 'sum')).toBe(19);
    expect(finalize(whole, 0, 'range')).toBe(14);
    expect(finalize(whole, 0, 'first')).toBe(3);
    expect(finalize(whole, 0, 'last')).toBe(6);
    const mean = 19 / 8;
    const m2 = values.reduce((a, v) => a + (v - mean) ** 2, 0);
    expect(finalize(whole, 0, 'var.p')).toBeCloseTo(m2 / 8, 12);
    expect(finalize(whole, 0, 'std.s')).toBeCloseTo(Math.sqrt(m2 / 7), 12);
    expect(finalize(partialOf([5]), 0, 'var.s')).toBe(0);
  });

  it('takes percentiles by nearest rank', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 50)).toBe(50);
    expect(percentile(sorted, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([1, 2, 3], 50)).toBe(2);
    expect(percentile([], 50)).toBeNaN();
  });
});
