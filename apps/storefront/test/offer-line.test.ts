import { describe, expect, it } from 'vitest';
import { offerLine } from '../src/offer-line.ts';

describe('offerLine: what a waiting-list offer holds for the buyer', () => {
  it('agrees with one ticket', () => {
    expect(offerLine('Front Row', 1, 1)).toBe('1 ticket of Front Row came back and is held for you.');
    expect(offerLine('Front Row', 1, 2)).toBe('1 ticket of Front Row came back and is held for you (you asked for up to 2; buy it, or release it for the next person).');
  });

  it('agrees with several', () => {
    expect(offerLine('Front Row', 2, 2)).toBe('2 tickets of Front Row came back and are held for you.');
    expect(offerLine('Front Row', 2, 4)).toBe('2 tickets of Front Row came back and are held for you (you asked for up to 4; buy these, or release them for the next person).');
  });
});
