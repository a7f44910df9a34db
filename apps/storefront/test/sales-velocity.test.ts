import type { TicketAvailability } from '@ticketpulse/client';
import { describe, expect, it } from 'vitest';
import { eventSellingFast, eventSoldPerMinute, sellOutNote } from '../src/sales-velocity.ts';

const NOW = Date.parse('2026-12-03T14:00:00Z');

/** A ticket type as the server sends it: 30 left, selling 5 a minute, projected to sell out at 14:06. */
function ticket(overrides: Partial<TicketAvailability> = {}): TicketAvailability {
  return {
    ticketTypeId: 't1',
    eventId: 'e1',
    ticketTypeName: 'Seat',
    description: null,
    price: '20.00',
    currency: 'EUR',
    totalCapacity: 200,
    soldCount: 170,
    reservedCount: 0,
    availableCount: 30,
    actualAvailable: 30,
    percentageSold: 85,
    isSoldOut: false,
    isUnlimited: false,
    status: 'available',
    maxPerOrder: 4,
    sortOrder: 0,
    version: 3,
    lastUpdated: '2026-12-03T13:59:00.000Z',
    soldPerMinute5m: 5,
    soldPerMinute15m: 3.7,
    projectedSellOutAt: '2026-12-03T14:06:00.000Z',
    sellingFast: true,
    likelyToSellOut: true,
    ...overrides,
  };
}

describe("the shop's words for the server's sales velocity", () => {
  it('says in about how many minutes a type is likely to sell out, by the server clock, never less than one', () => {
    expect(sellOutNote(ticket(), NOW)).toBe('Likely to sell out in about 6 minutes');
    expect(sellOutNote(ticket(), NOW + 5 * 60_000 + 50_000)).toBe('Likely to sell out in about 1 minute');
    expect(sellOutNote(ticket(), NOW + 10 * 60_000)).toBe('Likely to sell out in about 1 minute');
  });

  it('says "soon" when the event shows bands (the time is withheld), and nothing without a projection or for a type not on sale', () => {
    const banded = ticket({ soldPerMinute5m: null, soldPerMinute15m: null, projectedSellOutAt: null, availableCount: null, actualAvailable: null });
    expect(sellOutNote(banded, NOW)).toBe('Likely to sell out soon');
    expect(sellOutNote(ticket({ likelyToSellOut: false, projectedSellOutAt: null }), NOW)).toBeNull();
    expect(sellOutNote(ticket({ status: 'sold_out', isSoldOut: true }), NOW)).toBeNull();
    expect(sellOutNote(ticket({ status: 'paused' }), NOW)).toBeNull();
  });

  it('calls an event selling fast when one type it sells does, and adds up the rates unless they are withheld', () => {
    const quiet = ticket({ ticketTypeId: 't2', sellingFast: false, soldPerMinute5m: 0.2 });
    expect(eventSellingFast([quiet, ticket()])).toBe(true);
    expect(eventSellingFast([quiet, ticket({ status: 'sold_out', isSoldOut: true })])).toBe(false);
    expect(eventSoldPerMinute([quiet, ticket()])).toBe(5.2);
    expect(eventSoldPerMinute([quiet, ticket({ soldPerMinute5m: null })])).toBeNull();
  });
});
