import type { TicketAvailability } from '@ticketpulse/protocol';

/** One ticket type of capacity 500 with `available` left, as the server sends it. */
export function ticketAvailability(eventId: string, ticketTypeId: string, available: number, version: number): TicketAvailability {
  return {
    ticketTypeId,
    eventId,
    ticketTypeName: 'General',
    description: null,
    price: '10.00',
    currency: 'EUR',
    totalCapacity: 500,
    soldCount: 500 - available,
    reservedCount: 0,
    availableCount: available,
    actualAvailable: available,
    percentageSold: 0,
    isSoldOut: available === 0,
    isUnlimited: false,
    status: available === 0 ? 'sold_out' : 'available',
    maxPerOrder: 10,
    sortOrder: 0,
    version,
    lastUpdated: new Date().toISOString(),
    soldPerMinute5m: 0,
    soldPerMinute15m: 0,
    projectedSellOutAt: null,
    sellingFast: false,
    likelyToSellOut: false,
  };
}
