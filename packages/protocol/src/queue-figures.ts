import type { QueueEntry, QueueLive } from './queue.ts';

/**
 * A waiting visitor's own figures, from the queue's live state (the `queue`
 * frame, the same for everyone) and their entry's position: the rules of
 * docs/protocol.md "Your own figures", which queue_entry_json() applies on
 * the server, and the "enough tickets?" line.
 */

/** Whether the people ahead, at the event's average seats per order, are likely to leave tickets for you. */
export type TicketsLikelyEnough = 'yes' | 'no' | 'unknown';

export interface QueueFigures {
  /** Visitors between the served-up-to mark and you; 0 once admitted; null in the pre-queue and once done. */
  peopleAhead: number | null;
  /** Seconds until your turn (the time until opensAt included); 0 once admitted; null once done. */
  estimatedWaitSeconds: number | null;
  /** Seconds until opensAt (the pre-queue countdown); 0 once it has passed. */
  secondsUntilOpen: number;
  ticketsLikelyEnough: TicketsLikelyEnough;
}

/**
 * 'no' when the people ahead would likely take every ticket left at the
 * event's average seats per order (`peopleAhead * seatsPerOrder >=
 * ticketsLeft`; before any order, when each of them buying one seat would),
 * 'yes' when they would leave some, 'unknown' when it cannot be told
 * (unlimited or banded stock, no position yet, no order yet).
 */
export function ticketsLikelyEnough(peopleAhead: number | null, seatsPerOrder: number | null, ticketsLeft: number | null): TicketsLikelyEnough {
  if (ticketsLeft === 0) return 'no';
  if (peopleAhead === null || ticketsLeft === null) return 'unknown';
  if (peopleAhead * (seatsPerOrder ?? 1) >= ticketsLeft) return 'no';
  return seatsPerOrder === null ? 'unknown' : 'yes';
}

/** `now`: the server's clock, in ms since the epoch. */
export function queueFigures(live: QueueLive, entry: QueueEntry | null, now: number): QueueFigures {
  const secondsUntilOpen = Math.max(0, Math.ceil((Date.parse(live.opensAt) - now) / 1000));
  const status = entry?.status;
  let peopleAhead: number | null = null;
  let estimatedWaitSeconds: number | null = null;
  if (status === 'admitted') {
    peopleAhead = 0;
    estimatedWaitSeconds = 0;
  } else if (status === 'prequeue') {
    estimatedWaitSeconds = secondsUntilOpen;
  } else if (status === 'waiting' && entry?.position != null) {
    const { position } = entry;
    // Your turn has come once position <= servedUpTo: the queue_entry frame then says whether it brought a pass.
    peopleAhead = Math.max(0, position - live.servedUpTo - 1);
    if (live.rate > 0) estimatedWaitSeconds = secondsUntilOpen + Math.ceil((Math.max(0, position - live.servedUpTo) * 60) / live.rate);
  }
  const likely = status === 'sold_out' || live.status === 'sold_out' ? 'no' : ticketsLikelyEnough(peopleAhead, live.seatsPerOrder, live.ticketsLeft);
  return { peopleAhead, estimatedWaitSeconds, secondsUntilOpen, ticketsLikelyEnough: likely };
}
