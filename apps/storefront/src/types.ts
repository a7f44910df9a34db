/** The API's shapes, as far as the storefront reads them: @ticketpulse/protocol's types (docs/api.md), under the names the storefront uses. */
export type {
  DevToken,
  EventStatus,
  EventSummary,
  EventWithTicketTypes,
  ExpiringHolds as HoldsResponse,
  Queue,
  QueueSettings,
  RealtimeStats,
  Reservation,
  ReservationItem,
  SalesPerMinute as SalesResponse,
  SimulatorStatus as SimulatorState,
  Waitlist,
  WaitlistEntry,
} from '@ticketpulse/protocol';
