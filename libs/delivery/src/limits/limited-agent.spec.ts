// A destination's share of a delivery process (limited-agent.ts): all but a quarter, at least one.
import { describe, expect, it } from 'vitest';
import { destinationShare } from './limited-agent';

describe('destinationShare', () => {
  it.each([
    [1, 1], // a process of one: the one delivery
    [2, 1],
    [3, 2],
    [4, 3],
    [20, 15], // the default DELIVERY_CONCURRENCY: 5 kept for other destinations
    [100, 75],
  ])('a process of %i gives one destination at most %i', (concurrency, share) => {
    expect(destinationShare(concurrency)).toBe(share);
  });
});
