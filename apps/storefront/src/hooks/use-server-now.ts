import { useTicketAvailabilityManager } from '@ticketpulse/react';
import { useNow } from './use-now.ts';

/** The server's clock (the SDK's, corrected for this device's offset), refreshed every `everyMs`. */
export function useServerNow(everyMs: number): number {
  const clock = useTicketAvailabilityManager().clock;
  useNow(everyMs);
  return clock.now();
}
