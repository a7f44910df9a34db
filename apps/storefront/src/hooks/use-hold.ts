import { useQueryClient } from '@tanstack/react-query';
import { ApiError, newIdempotencyKey } from '@ticketpulse/client';
import { useHoldClient, useReservationExpiryManager } from '@ticketpulse/react';
import { useCallback, useRef, useState, useSyncExternalStore } from 'react';
import { asBuyer } from '../api.ts';
import { shownAfterClick } from '../http-request.ts';
import { queries } from '../queries.ts';
import { recallHold, rememberHold } from '../session.ts';

export interface HoldRequest {
  /** The hold being shown (active, or just ended), or null. */
  reservationId: string | null;
  /** A hold is shown and not over yet (active, or still loading). */
  isActive: boolean;
  pending: boolean;
  error: string | null;
  /** Holds the items; resolves true once held. A second call while one runs is ignored. */
  hold: (items: Array<{ ticketTypeId: string; quantity: number }>) => Promise<boolean>;
  /** The selection changed: the next hold is a new intent with a new Idempotency-Key. */
  newIntent: () => void;
  /** Forgets the hold shown (after it ended). */
  dismiss: () => void;
}

/**
 * Holding seats on an event with the SDK's createHold: one Idempotency-Key
 * per intent (so a double click, the SDK's retries or the buyer's own retry
 * hold once); the SDK shows the seats as taken at once, gives them back if
 * the server refuses, and counts the hold down.
 */
export function useHold(slug: string): HoldRequest {
  const holds = useHoldClient();
  const reservations = useReservationExpiryManager();
  const queryClient = useQueryClient();
  const [reservationId, setReservationId] = useState<string | null>(() => recallHold(slug));
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const intentKey = useRef<string | null>(null);
  const inFlight = useRef(false);

  const subscribe = useCallback(
    (onChange: () => void) => (reservationId ? reservations.subscribe(reservationId, onChange) : () => {}),
    [reservations, reservationId],
  );
  const status = useSyncExternalStore(subscribe, () => (reservationId ? reservations.getState(reservationId)?.status : undefined));

  const hold = useCallback(
    async (items: Array<{ ticketTypeId: string; quantity: number }>) => {
      if (inFlight.current || items.length === 0) return false;
      inFlight.current = true;
      const key = (intentKey.current ??= newIdempotencyKey());
      setPending(true);
      setError(null);
      try {
        const reservation = await asBuyer(() => holds.createHold(slug, items, { idempotencyKey: key }));
        // The hold panel reads its items and totals from here: no second request for what the POST answered.
        queryClient.setQueryData(queries.reservation(holds, reservation.id).queryKey, reservation);
        intentKey.current = null;
        rememberHold(slug, reservation.id);
        setReservationId(reservation.id);
        return true;
      } catch (failure) {
        setError(failure instanceof ApiError ? shownAfterClick(failure).message : 'The hold failed. Please try again.');
        return false;
      } finally {
        inFlight.current = false;
        setPending(false);
      }
    },
    [holds, queryClient, slug],
  );

  const newIntent = useCallback(() => {
    intentKey.current = null;
    setError(null);
  }, []);

  const dismiss = useCallback(() => {
    if (reservationId) reservations.stopMonitoring(reservationId);
    rememberHold(slug, null);
    setReservationId(null);
  }, [reservations, reservationId, slug]);

  return { reservationId, isActive: reservationId !== null && (status === undefined || status === 'active'), pending, error, hold, newIntent, dismiss };
}
