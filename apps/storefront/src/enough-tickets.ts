import type { TicketsLikelyEnough } from '@ticketpulse/client';
import { plural } from './format.ts';

/**
 * The waiting room's honest line: tickets left, and whether the people ahead
 * are likely to leave some (`likely`, the SDK's rule). With nobody ahead a
 * "no" means nothing is free right now (every seat left is held), which is
 * no one ahead's doing.
 */
export function enoughTicketsLine(ticketsLeft: number, peopleAhead: number, likely: TicketsLikelyEnough, seatsPerOrder: number | null): string {
  const left = `${plural(ticketsLeft, 'ticket')} left.`;
  if (likely === 'no') {
    if (peopleAhead === 0) return `${left} Tickets others hold may come back: stay in line.`;
    const ahead = peopleAhead === 1 ? 'The person ahead of you is' : `The ${peopleAhead} people ahead of you are`;
    return `${left} ${ahead} likely to buy every ticket left. Stay in line: tickets may come back.`;
  }
  if (likely === 'yes') return `${left} There are likely enough tickets for the people ahead of you${seatsPerOrder ? ` (about ${seatsPerOrder} per order)` : ''}.`;
  return `${left} We cannot tell yet whether tickets will be left when your turn comes.`;
}
