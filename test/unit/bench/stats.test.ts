import { describe, expect, it } from 'vitest';
import { percentile, ratio, summarise } from '../../../bench/stats.ts';

describe('bench statistics', () => {
  it('median and spread of an odd and an even count', () => {
    expect(summarise([5, 1, 3])).toEqual({ median: 3, min: 1, max: 5, spread: 4 / 3, runs: 3 });
    const even = summarise([10, 40, 20, 30]);
    expect(even.median).toBe(25);
    expect(even.spread).toBeCloseTo(30 / 25);
    expect(summarise([0, 0]).spread).toBe(0);
    expect(() => summarise([])).toThrow(RangeError);
  });

  it('nearest-rank percentiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 … 1, unsorted order
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile(values, 0)).toBe(1);
    expect(percentile([7], 99)).toBe(7);
    expect(() => percentile([], 50)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });

  it('ratio against a ceiling', () => {
    expect(ratio(700, 1000)).toBe(0.7);
    expect(ratio(1, 0)).toBeNaN();
  });
});
