import { describe, expect, it } from 'vitest';
import { lineProgressPercent } from '../src/line-progress.ts';

describe("the waiting room's progress bar", () => {
  it('starts empty where the visitor joined, however many were served before', () => {
    expect(lineProgressPercent(10, 10)).toBe(0);
    expect(lineProgressPercent(10, 5)).toBe(50);
    expect(lineProgressPercent(10, 0)).toBe(100);
  });

  it('is full with nobody ahead, and never runs backwards past its start', () => {
    expect(lineProgressPercent(0, 0)).toBe(100);
    // More ahead than at first (a place re-read after a reconnect): the bar starts over rather than going below 0.
    expect(lineProgressPercent(3, 4)).toBe(0);
  });
});
