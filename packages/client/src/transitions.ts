import type { TicketAvailability } from '@ticketpulse/protocol';
import type { TransitionKind } from './types.ts';

/** Seats a buyer can take, or Infinity for unlimited types; null when the event shows bands only. */
function available(t: TicketAvailability): number | null {
  if (t.isUnlimited) return Infinity;
  return t.actualAvailable;
}

/**
 * What changed for a buyer between two states of one ticket type:
 * lowStock when it drops below `threshold` from at or above it, soldOut,
 * and backInStock when a sold-out type has seats again.
 */
export function detectTransition(before: TicketAvailability | undefined, after: TicketAvailability, threshold: number): TransitionKind | undefined {
  if (!before) return undefined;
  if (!before.isSoldOut && after.isSoldOut) return 'soldOut';
  if (before.isSoldOut && !after.isSoldOut) return 'backInStock';
  const was = available(before);
  const now = available(after);
  if (was === null || now === null) {
    // Bands: the status is all there is.
    return before.status !== 'low_stock' && after.status === 'low_stock' ? 'lowStock' : undefined;
  }
  return !after.isSoldOut && was >= threshold && now < threshold ? 'lowStock' : undefined;
}
