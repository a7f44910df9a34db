/** The API's shapes, as far as the storefront reads them (docs/api.md and the storefront contract). */
export type { EventStatus, EventSummary, Reservation, ReservationItem } from '@ticketpulse/protocol';

export interface ExpiringHold {
  id: string;
  expiresAt: string;
  extensionsUsed: number;
  items: Array<{ ticketTypeId: string; ticketTypeName: string; quantity: number }>;
}

export interface HoldsResponse {
  serverTime: string;
  holds: ExpiringHold[];
}

export interface SalesResponse {
  serverTime: string;
  buckets: Array<{ minute: string; sold: number }>;
}

export interface RealtimeStats {
  connections: number;
  watchedEvents: number;
  viewers: Record<string, number>;
}

export interface SimulatorState {
  running: boolean;
  stats: { holds: number; purchases: number; releases: number; restocks: number; expiries: number; refusals: number };
}

export interface DevToken {
  token: string;
  userId: string;
  role: string;
  expiresAt: string;
}
