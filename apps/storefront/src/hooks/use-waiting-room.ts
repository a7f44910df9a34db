import { useQueue, type QueueResult } from '@ticketpulse/react';
import { useEffect } from 'react';

/**
 * useQueue, joining by itself: a visitor who lands on a queued event's page
 * is put in line (as Queue-it does), and one coming back (a reload, or a new
 * tab later: the buyer token outlives the tab, session.ts) gets the same
 * entry back, never a better or worse place. Not after leaving, a refusal,
 * or once nothing can be bought.
 */
export function useWaitingRoom(slug: string): QueueResult {
  const queue = useQueue(slug);
  const room = queue.queue?.status;
  const shouldJoin = queue.status === 'not_joined' && !queue.pending && !queue.error && room !== 'sold_out' && room !== 'closed';
  // Once per chance: the join makes it pending, and its answer (or refusal) ends the chance.
  useEffect(() => {
    if (shouldJoin) void queue.join();
  }, [shouldJoin]); // eslint-disable-line react-hooks/exhaustive-deps -- join is new on each render and acts on `slug` alone
  return queue;
}
