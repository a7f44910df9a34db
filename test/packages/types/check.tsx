// Uses the packages' public types the way an application would. Never run: only type-checked
// (tsc -p tsconfig.node16.json, tsc -p tsconfig.bundler.json) against the installed tarballs.
import type { SupabaseClient } from '@supabase/supabase-js';
import {
  TicketAvailabilityManager,
  ReservationExpiryManager,
  memoryCache,
  type ConnectionStatus,
  type EventState,
  type TicketAvailability,
  type TicketAvailabilityManagerOptions,
  type Transition,
} from '@ticketpulse/client';
import { SupabaseTransport } from '@ticketpulse/client/supabase';
import { CloseCode, byDisplayOrder, type AvailabilitySnapshot } from '@ticketpulse/protocol';
import { availabilitySnapshot } from '@ticketpulse/protocol/schemas';
import {
  ConnectionStatus as ConnectionStatusBadge,
  TicketAvailabilityBadge,
  TicketPulseProvider,
  useSingleTicketAvailability,
  useTicketAvailability,
  type TicketAvailabilityResult,
} from '@ticketpulse/react';

const options: TicketAvailabilityManagerOptions = {
  url: 'https://tickets.example.com',
  getToken: async () => 'a JWT',
  storage: memoryCache(),
  reconnect: { baseMs: 500, capMs: 20_000 },
};
const manager = new TicketAvailabilityManager(options);
const stop: () => void = manager.subscribeToEvent('midnight-jazz-session', (state: EventState) => {
  const tickets: TicketAvailability[] = [...state.availability.values()].sort(byDisplayOrder);
  const left: number | null = tickets[0]?.actualAvailable ?? null;
  const status: ConnectionStatus = state.status;
  void [left, status];
});
manager.onTransition((transition: Transition) => transition.kind satisfies 'lowStock' | 'soldOut' | 'backInStock');
stop();

const holds = new ReservationExpiryManager({ url: options.url, getToken: options.getToken, clock: manager.clock });
void holds;

declare const supabase: SupabaseClient;
new TicketAvailabilityManager({ transport: new SupabaseTransport(supabase) });

const snapshot: AvailabilitySnapshot = availabilitySnapshot.parse({});
const closeCode: number = CloseCode.unauthorized;
void [snapshot, closeCode];

export function TicketSelection({ eventId, ticketId }: { eventId: string; ticketId: string }) {
  const result: TicketAvailabilityResult = useTicketAvailability(eventId, {
    onLowStock: (name: string, count: number | null) => console.warn(`${name} - only ${count} left!`),
    onSoldOut: (name: string) => console.warn(`${name} is now sold out`),
  });
  const { available, isSoldOut, percentageSold } = useSingleTicketAvailability(eventId, ticketId);
  return (
    <div>
      <ConnectionStatusBadge eventId={eventId} />
      {result.isTicketAvailable(ticketId) ? `${available} available (${percentageSold}% sold)` : isSoldOut ? 'Sold Out' : null}
      <TicketAvailabilityBadge eventId={eventId} ticketTypeId={ticketId} />
    </div>
  );
}

export const app = (
  <TicketPulseProvider options={options}>
    <TicketSelection eventId="midnight-jazz-session" ticketId="a ticket type id" />
  </TicketPulseProvider>
);
