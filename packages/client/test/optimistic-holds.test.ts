import type { TicketAvailability } from '@ticketpulse/protocol';
import { describe, expect, it } from 'vitest';
import { OptimisticHolds } from '../src/optimistic-holds.ts';
import { ticketAvailability } from './support/ticket.ts';

const shown = (holds: OptimisticHolds, t: TicketAvailability) => holds.applyTo(new Map([[t.ticketTypeId, t]])).get(t.ticketTypeId)!.availableCount;

describe('optimistic holds', () => {
  const general = ticketAvailability('event', 'general', 10, 5);

  it('a settled hold stays shown through unrelated versions and goes exactly when its own version is applied', () => {
    const holds = new OptimisticHolds();
    const id = holds.add([{ ticketTypeId: general.ticketTypeId, quantity: 2 }], 5);
    holds.includeIn(id, 8); // the hold response: version 8 counts it
    holds.settle(6); // someone else's change
    holds.settle(7);
    expect(shown(holds, general)).toBe(8);
    holds.settle(8);
    expect(shown(holds, general)).toBe(10);
  });

  it('an unsettled hold is taken to be in the next newer version', () => {
    const holds = new OptimisticHolds();
    holds.add([{ ticketTypeId: general.ticketTypeId, quantity: 2 }], 5);
    holds.settle(5);
    expect(shown(holds, general)).toBe(8);
    holds.settle(6);
    expect(shown(holds, general)).toBe(10);
  });
});
