import type { HoldState } from '@ticketpulse/client';
import { useCallback, useState, useSyncExternalStore } from 'react';
import { useReservationExpiryManager } from './provider.tsx';

export interface ReservationResult {
  /** Milliseconds left by the server's clock; null until the hold is known. */
  remainingMs: number | null;
  isExpired: boolean;
  isExpiringSoon: boolean;
  extend: () => Promise<HoldState>;
  release: () => Promise<HoldState>;
  confirm: () => Promise<HoldState>;
  /** undefined until the hold is known. */
  state: HoldState | undefined;
  /** Why the hold could not be loaded (not found, not yours). */
  error: Error | null;
}

const serverState = (): undefined => undefined;

/**
 * One of the user's holds, counting down each second. Starts monitoring it
 * if nobody has; it stays monitored after unmount (a checkout spans pages),
 * so `stopMonitoring` is the app's call.
 */
export function useReservation(reservationId: string): ReservationResult {
  const reservations = useReservationExpiryManager();
  const [failure, setFailure] = useState<{ reservationId: string; error: Error } | null>(null);

  const subscribe = useCallback(
    (onChange: () => void) => {
      let active = true;
      const stop = reservations.subscribe(reservationId, onChange);
      if (!reservations.getState(reservationId)) {
        reservations.startMonitoring(reservationId).catch((error: unknown) => {
          if (active) setFailure({ reservationId, error: error instanceof Error ? error : new Error(String(error)) });
        });
      }
      return () => {
        active = false;
        stop();
      };
    },
    [reservations, reservationId],
  );
  const state = useSyncExternalStore(subscribe, () => reservations.getState(reservationId), serverState);

  const extend = useCallback(() => reservations.extend(reservationId), [reservations, reservationId]);
  const release = useCallback(() => reservations.release(reservationId), [reservations, reservationId]);
  const confirm = useCallback(() => reservations.confirm(reservationId), [reservations, reservationId]);

  return {
    remainingMs: state?.remainingMs ?? null,
    isExpired: state?.isExpired ?? false,
    isExpiringSoon: state?.isExpiringSoon ?? false,
    extend,
    release,
    confirm,
    state,
    error: failure?.reservationId === reservationId ? failure.error : null,
  };
}
