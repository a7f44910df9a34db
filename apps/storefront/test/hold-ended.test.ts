import { describe, expect, it } from 'vitest';
import { holdEndedLine } from '../src/hold-ended.ts';

describe('holdEndedLine: what became of the seats of a hold that ended', () => {
  it('agrees with one ticket', () => {
    expect(holdEndedLine('expired', 1, false)).toBe('Time ran out: 1 ticket is back on sale. The ticket counts now include it.');
    expect(holdEndedLine('released', 1, false)).toBe('You let 1 ticket go; it is back on sale. The ticket counts now include it.');
    expect(holdEndedLine('released', 1, true)).toBe('You let 1 ticket go; it goes to the next person waiting, or back on sale.');
  });

  it('agrees with several, or with tickets not counted yet', () => {
    expect(holdEndedLine('expired', 4, false)).toBe('Time ran out: 4 tickets are back on sale. The ticket counts now include them.');
    expect(holdEndedLine('expired', 2, true)).toBe('Time ran out: 2 tickets go to the next person waiting, or back on sale.');
    expect(holdEndedLine('released', null, false)).toBe('You let your tickets go; they are back on sale. The ticket counts now include them.');
  });

  it('does not point "above": the panel sits beside the tickets on a wide screen', () => {
    expect(holdEndedLine('released', 3, false)).not.toContain('above');
  });
});
