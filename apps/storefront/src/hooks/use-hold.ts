import { useQueryClient } from '@tanstack/react-query';
import { useReservationExpiryManager, useTicketAvailabilityManager } from '@ticketpulse/react';
import { useCallback, useRef, useState, useSyncExternalStore } from 'react';
import { api, ApiError } from '../api.ts';
import { newIdempotencyKey } from '../ids.ts';
import { queries } from '../queries.ts';
import { recallHold, rememberHold } from '../session.ts';
import type { Reservation } from '../types.ts';

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
 * Holding seats on an event: one Idempotency-Key per intent (so a double
 * click or a retry holds once), the seats shown as taken at once
 * (applyOptimisticHold) and given back if the server refuses.
 */
export function useHold(slug: string): HoldRequest {
  const manager = useTicketAvailabilityManager();
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
      const optimistic = manager.applyOptimisticHold(slug, items);
      try {
        const { reservation } = await api<{ reservation: Reservation }>(`/api/events/${encodeURIComponent(slug)}/reservations`, {
          method: 'POST',
          auth: 'buyer',
          body: { items },
          headers: { 'Idempotency-Key': key },
        });
        // Shown until the version that counts it arrives, whatever unrelated updates come first.
        if (reservation.availabilityVersion !== undefined) optimistic.settle(reservation.availabilityVersion);
        await reservations.startMonitoring(reservation);
        // The hold panel reads its items and totals from here: no second request for what the POST answered.
        queryClient.setQueryData(queries.reservation(reservation.id).queryKey, reservation);
        intentKey.current = null;
        rememberHold(slug, reservation.id);
        setReservationId(reservation.id);
        return true;
      } catch (failure) {
        optimistic.rollback();
        setError(failure instanceof ApiError ? failure.message : 'The hold failed. Please try again.');
        return false;
      } finally {
        inFlight.current = false;
        setPending(false);
      }
    },
    [manager, reservations, queryClient, slug],
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
