import { describe, expect, it } from 'vitest';
import { QUEUE_SLOT_MS, queueSlots } from '../src/hooks/use-organizer-queue.ts';

const now = 1_800_000_000_000; // a slot boundary: 10-second slots of the epoch
const at = (secondsAgo: number) => now - secondsAgo * 1000;

describe('queueSlots (the waiting-room chart)', () => {
  it('puts admissions in the slot of the reading that saw them, and the line as its last reading', () => {
    const slots = queueSlots(
      [
        { at: at(31), length: 40, admitted: 0 },
        { at: at(29), length: 42, admitted: 1 },
        { at: at(27), length: 41, admitted: 3 },
        { at: at(11), length: 30, admitted: 10 },
        { at: at(1), length: 28, admitted: 12 },
      ],
      now,
    );
    expect(slots).toHaveLength(60);
    expect(slots.at(-1)!.at).toBe(now);
    expect(slots[1]!.at - slots[0]!.at).toBe(QUEUE_SLOT_MS);
    // Slots ending now: [now-40, now-30) … [now, now+10); a reading at now-1 s is in [now-10, now).
    const recent = slots.slice(-5).map(({ admitted, length }) => ({ admitted, length }));
    expect(recent).toEqual([
      { admitted: 0, length: 40 }, // now-31: the first reading, nothing before it to compare
      { admitted: 3, length: 41 }, // now-29 and now-27: 1 + 2
      { admitted: 7, length: 30 }, // now-11
      { admitted: 2, length: 28 }, // now-1
      { admitted: 0, length: null }, // the slot just begun: no reading yet
    ]);
  });

  it('forgets readings older than the window, and never counts a fall in admitted (a reset) as negative', () => {
    const slots = queueSlots(
      [
        { at: at(3600), length: 500, admitted: 100 },
        { at: at(5), length: 10, admitted: 7 },
        { at: at(4), length: 9, admitted: 8 },
      ],
      now,
    );
    expect(slots.reduce((sum, s) => sum + s.admitted, 0)).toBe(1);
    expect(slots.filter((s) => s.length !== null).map((s) => s.length)).toEqual([9]);
  });
});
