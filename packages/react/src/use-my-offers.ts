import type { Offer } from '@ticketpulse/client';
import { useCallback, useSyncExternalStore } from 'react';
import { useReservationExpiryManager } from './provider.tsx';

const NONE: readonly Offer[] = [];
const serverOffers = (): readonly Offer[] => NONE;

/**
 * The signed-in user's open waiting-list offers, live over the personal
 * feed: each with its ticket type, quantity and `expiresAt` (count down to
 * it by the server's clock). An offer arrives within a tick of being made
 * and leaves when it is taken, released or expires. Empty during server rendering.
 */
export function useMyOffers(): readonly Offer[] {
  const reservations = useReservationExpiryManager();
  const subscribe = useCallback((onChange: () => void) => reservations.subscribeOffers(onChange), [reservations]);
  return useSyncExternalStore(subscribe, () => reservations.getOffers(), serverOffers);
}
