import type { TicketAvailability } from '@ticketpulse/client';

/** Drives the colour; one class per tone in styles.css. */
export type AvailabilityTone = 'unknown' | 'unavailable' | 'sold-out' | 'low' | 'available';

export interface AvailabilityText {
  tone: AvailabilityTone;
  /** For the indicator. */
  text: string;
  /** For the badge in a table. */
  short: string;
}

/**
 * What a buyer should read about a ticket type. The server's status decides
 * (it knows the type's own low-stock threshold); counts only fill in numbers.
 */
export function describeAvailability(ticket: TicketAvailability | undefined): AvailabilityText {
  if (!ticket) return { tone: 'unknown', text: 'Checking availability…', short: '…' };
  const count = ticket.actualAvailable;
  switch (ticket.status) {
    case 'off_sale':
      return { tone: 'unavailable', text: 'Not on sale', short: 'Off sale' };
    case 'paused':
      return { tone: 'unavailable', text: 'Sales paused', short: 'Paused' };
    case 'sold_out':
      return { tone: 'sold-out', text: 'Sold out', short: 'Sold out' };
    case 'low_stock':
      // Bands-only events hide counts: the band is all there is.
      return count === null ? { tone: 'low', text: 'Only a few left', short: 'Few left' } : { tone: 'low', text: `Only ${count} left`, short: `${count} left` };
    case 'available':
      if (ticket.isUnlimited) return { tone: 'available', text: 'Unlimited availability', short: 'Unlimited' };
      return count === null ? { tone: 'available', text: 'Available', short: 'Available' } : { tone: 'available', text: `${count} available`, short: `${count} left` };
  }
}
