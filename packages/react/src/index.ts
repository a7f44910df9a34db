export {
  TicketPulseProvider,
  useHoldClient,
  useReservationExpiryManager,
  useTicketAvailabilityManager,
  type TicketPulseProviderProps,
} from './provider.tsx';
export {
  useTicketAvailability,
  type TicketAvailabilityResult,
  type UseTicketAvailabilityOptions,
} from './use-ticket-availability.ts';
export { useSingleTicketAvailability, type SingleTicketAvailability } from './use-single-ticket-availability.ts';
export { useReservation, type ReservationResult } from './use-reservation.ts';
export { useMyOffers } from './use-my-offers.ts';
export { useConnectionStatus } from './use-connection-status.ts';
export { ConnectionStatus, type ConnectionStatusProps } from './components/connection-status.tsx';
export { TicketAvailabilityIndicator } from './components/ticket-availability-indicator.tsx';
export { TicketAvailabilityBadge } from './components/ticket-availability-badge.tsx';
export { type TicketSourceProps } from './components/ticket-source.tsx';
export { describeAvailability, type AvailabilityText, type AvailabilityTone } from './components/describe-availability.ts';
export { RealtimeErrorBoundary, type RealtimeErrorBoundaryProps } from './components/realtime-error-boundary.tsx';
export { useQueue, type QueueResult } from './use-queue.ts';
