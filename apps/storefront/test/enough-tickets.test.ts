import { describe, expect, it } from 'vitest';
import { enoughTicketsLine } from '../src/enough-tickets.ts';

describe('the waiting room\'s "enough tickets?" line', () => {
  it('speaks of one person ahead in the singular', () => {
    expect(enoughTicketsLine(2, 1, 'no', 2)).toBe('2 tickets left. The person ahead of you is likely to buy every ticket left. Stay in line: tickets may come back.');
    expect(enoughTicketsLine(4, 3, 'no', 2)).toBe('4 tickets left. The 3 people ahead of you are likely to buy every ticket left. Stay in line: tickets may come back.');
  });

  it('does not blame nobody ahead when every seat left is held', () => {
    expect(enoughTicketsLine(0, 0, 'no', 2)).toBe('0 tickets left. Tickets others hold may come back: stay in line.');
  });

  it('says yes with the seats per order it counted with, and when it cannot tell', () => {
    expect(enoughTicketsLine(4, 1, 'yes', 2)).toBe('4 tickets left. There are likely enough tickets for the people ahead of you (about 2 per order).');
    expect(enoughTicketsLine(1, 0, 'unknown', null)).toBe('1 ticket left. We cannot tell yet whether tickets will be left when your turn comes.');
  });
});
