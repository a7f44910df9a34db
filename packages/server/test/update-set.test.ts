import { describe, expect, it } from 'vitest';
import { oldestFirst, UpdateSet } from '../src/realtime/update-set.ts';

// The fan-out's sets of updates (docs/architecture.md, "Fan-out").
describe('UpdateSet', () => {
  it('is shared by every viewer that gets the same updates, and knows when its oldest change was committed', () => {
    const none = new UpdateSet();
    expect(none.oldest).toBe(Infinity);
    const hot = none.with('hot', '{"v":2}', 200);
    expect(none.with('hot', '{"v":2}', 200)).toBe(hot);
    const both = none.with('quiet', '{"q":1}', 50).with('hot', '{"v":2}', 200);
    expect(both.eventIds).toEqual(['quiet', 'hot']);
    expect(both.committedAt).toEqual([50, 200]);
    expect(both.oldest).toBe(50);
    expect(hot.oldest).toBe(200);
  });
});

describe('oldestFirst (the order of a fan-out)', () => {
  it('writes the viewers whose frame carries the change that has waited longest first, keeping their order within a frame, and takes every pending set', () => {
    const none = new UpdateSet();
    const hot = none.with('hot', '{"v":2}', 200);
    const quietAndHot = none.with('quiet', '{"q":1}', 50).with('hot', '{"v":2}', 200);
    const heldAndHot = none.with('hot', '{"v":1}', 100).with('hot2', '{"w":1}', 210);
    const viewers = [hot, quietAndHot, hot, heldAndHot, hot, quietAndHot].map((pending, i) => ({ name: `v${i}`, pending: pending as UpdateSet | undefined }));

    const groups = oldestFirst(viewers);

    expect(groups.map(([set, group]) => [set, group.map((v) => v.name)])).toEqual([
      [quietAndHot, ['v1', 'v5']],
      [heldAndHot, ['v3']],
      [hot, ['v0', 'v2', 'v4']],
    ]);
    expect(viewers.every((v) => v.pending === undefined)).toBe(true);
  });
});
