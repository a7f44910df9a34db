import type { TicketAvailability } from '@ticketpulse/client';
import { isBuyable } from './availability-rules.ts';
import { plural } from './format.ts';

/**
 * The shop's words for the sales velocity the server publishes with each
 * ticket type (docs/protocol.md, "Sales velocity"): the same figures for
 * every visitor, from their first snapshot. Only types a buyer can still buy
 * are "selling fast" or "likely to sell out".
 */

/** Whole minutes until the projected sell-out, by the server's clock; at least 1. Null when there is none (or the event shows bands). */
export function minutesToSellOut(ticket: TicketAvailability, serverNow: number): number | null {
  if (!ticket.projectedSellOutAt) return null;
  return Math.max(1, Math.round((Date.parse(ticket.projectedSellOutAt) - serverNow) / 60_000));
}

/** "Likely to sell out in about N minutes", or "… soon" when the event shows bands; null when no sell-out is projected. */
export function sellOutNote(ticket: TicketAvailability, serverNow: number): string | null {
  if (!ticket.likelyToSellOut || !isBuyable(ticket)) return null;
  const minutes = minutesToSellOut(ticket, serverNow);
  return minutes === null ? 'Likely to sell out soon' : `Likely to sell out in about ${plural(minutes, 'minute')}`;
}

export const isSellingFast = (ticket: TicketAvailability): boolean => ticket.sellingFast && isBuyable(ticket);

/** An event sells fast when one of its types does. */
export const eventSellingFast = (tickets: readonly TicketAvailability[]): boolean => tickets.some(isSellingFast);

/** Seats sold per minute over the last 5 minutes, all types together; null when the event shows bands. */
export function eventSoldPerMinute(tickets: readonly TicketAvailability[]): number | null {
  let total = 0;
  for (const t of tickets) {
    if (t.soldPerMinute5m === null) return null;
    total += t.soldPerMinute5m;
  }
  return Math.round(total * 10) / 10;
}
