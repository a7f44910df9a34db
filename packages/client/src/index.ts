export { TicketAvailabilityManager } from './ticket-availability-manager.ts';
export {
  ReservationExpiryManager,
  ReservationError,
  type HoldState,
  type HoldStatus,
  type HoldCallbacks,
  type ReservationRecord,
  type ReservationExpiryManagerOptions,
} from './reservation-expiry-manager.ts';
export { ServerClock } from './server-clock.ts';
export { Backoff } from './backoff.ts';
export { detectTransition } from './transitions.ts';
/** The availability rules buyers' pages need (the protocol's, re-exported so an app needs one import). */
export { isBuyable } from '@ticketpulse/protocol';
export { localStorageCache, memoryCache } from './storage.ts';
export type * from './types.ts';
export type { HeldItems, OptimisticHold } from './optimistic-holds.ts';
