import type { QueueEntry, QueueState } from '@ticketpulse/client';
import { useCallback, useSyncExternalStore } from 'react';
import { useTicketAvailabilityManager } from './provider.tsx';

export interface QueueResult extends QueueState {
  /** Joins the waiting room (or finds the place the user has); resolves undefined when it failed (`error` says why). */
  join: () => Promise<QueueEntry | undefined>;
  /** Leaves it; a failure shows as `error`. */
  leave: () => Promise<void>;
}

/**
 * The user's place in an event's waiting room, live (the manager's
 * watchQueue): position, people ahead, wait, countdowns, the pass, and
 * whether a join or leave is pending or failed. Staying mounted keeps a
 * joined visitor present; nothing else to send.
 */
export function useQueue(eventId: string): QueueResult {
  const manager = useTicketAvailabilityManager();
  const subscribe = useCallback((onChange: () => void) => manager.watchQueue(eventId, onChange), [manager, eventId]);
  const read = () => manager.getQueueState(eventId);
  return {
    ...useSyncExternalStore(subscribe, read, read),
    // Failures are in the state (`error`): these never reject.
    join: () => manager.joinQueue(eventId).catch(() => undefined),
    leave: () => manager.leaveQueue(eventId).catch(() => {}),
  };
}
