export { TicketAvailabilityManager } from './ticket-availability-manager.ts';
export {
  ReservationExpiryManager,
  type HoldState,
  type HoldStatus,
  type HoldCallbacks,
  type Offer,
  type ReservationRecord,
  type ReservationExpiryManagerOptions,
} from './reservation-expiry-manager.ts';
export { waitlistClient, runningOffers, type WaitlistClient } from './waitlist-client.ts';
export { HoldClient, type HoldClientOptions, type HoldTracker, type CreateHoldOptions } from './hold-client.ts';
/** `ReservationError` is the same class under its first name, so existing `instanceof` checks keep working. */
export { ApiError, ApiError as ReservationError } from './api-error.ts';
export type { RetryOptions } from './retry-policy.ts';
export type { HttpClientOptions } from './http-client.ts';
export { newIdempotencyKey } from './idempotency-key.ts';
export { ServerClock } from './server-clock.ts';
export { Backoff } from './backoff.ts';
export { detectTransition } from './transitions.ts';
/** The availability rules buyers' pages need (the protocol's, re-exported so an app needs one import). */
export { isBuyable } from '@ticketpulse/protocol';
export { localStorageCache, memoryCache } from './storage.ts';
export type * from './types.ts';
export type { HeldItems, OptimisticHold } from './optimistic-holds.ts';
