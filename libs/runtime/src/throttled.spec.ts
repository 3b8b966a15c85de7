import { describe, expect, it } from 'vitest';
import { throttled } from './throttled';

describe('throttled', () => {
  it('passes the first call, drops repeats within the interval, passes again after it', () => {
    let clock = 0;
    const seen: number[] = [];
    const log = throttled(
      1000,
      (v: number) => seen.push(v),
      () => clock,
    );
    log(1);
    clock = 999;
    log(2);
    clock = 1000;
    log(3);
    clock = 1500;
    log(4);
    expect(seen).toEqual([1, 3]);
  });
});
