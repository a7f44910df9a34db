import { HoldClient, ReservationExpiryManager, TicketAvailabilityManager, type TicketAvailabilityManagerOptions } from '@ticketpulse/client';
import { createContext, useContext, useMemo, useState, type ReactNode } from 'react';

interface TicketPulseClients {
  manager: TicketAvailabilityManager;
  reservations: ReservationExpiryManager | undefined;
  holds: HoldClient | undefined;
}

const TicketPulseContext = createContext<TicketPulseClients | null>(null);

export type TicketPulseProviderProps = { children?: ReactNode } & (
  | { manager: TicketAvailabilityManager; reservations?: ReservationExpiryManager; holds?: HoldClient; options?: never }
  | { options: TicketAvailabilityManagerOptions; manager?: never; reservations?: never; holds?: never }
);

/** Safe during server rendering: the manager looks for a WebSocket only when something subscribes. */
function createClients(options: TicketAvailabilityManagerOptions): TicketPulseClients {
  const manager = new TicketAvailabilityManager(options);
  // Same clock as the manager's, so hold countdowns and availability agree on the server's time.
  const api = { url: options.url, getToken: options.getToken, fetch: options.fetch, clock: manager.clock };
  const reservations = new ReservationExpiryManager({ ...api, onEvent: options.onEvent });
  // New holds show at once on the manager's counts and count down on `reservations`.
  const holds = new HoldClient({ ...api, availability: manager, reservations });
  return { manager, reservations, holds };
}

/**
 * Supplies the managers to the hooks below it: given ones, or ones created
 * once from `options` (later changes to `options` are ignored, as with a
 * QueryClient). Nothing to tear down on unmount: the manager closes an event
 * shortly after its last listener leaves, and its socket with the last event.
 */
export function TicketPulseProvider(props: TicketPulseProviderProps) {
  const [created] = useState(() => (props.manager ? null : createClients(props.options)));
  const { manager, reservations, holds } = props;
  const clients = useMemo(() => (manager ? { manager, reservations, holds } : created), [manager, reservations, holds, created]);
  return <TicketPulseContext.Provider value={clients}>{props.children}</TicketPulseContext.Provider>;
}

function useClients(): TicketPulseClients {
  const clients = useContext(TicketPulseContext);
  if (!clients) throw new Error('TicketPulse hooks and components need a <TicketPulseProvider> above them');
  return clients;
}

/** The TicketAvailabilityManager from the nearest TicketPulseProvider. */
export function useTicketAvailabilityManager(): TicketAvailabilityManager {
  return useClients().manager;
}

/** The ReservationExpiryManager from the nearest TicketPulseProvider. */
export function useReservationExpiryManager(): ReservationExpiryManager {
  const { reservations } = useClients();
  if (!reservations) throw new Error('useReservation needs a ReservationExpiryManager: pass `reservations` (or `options`) to TicketPulseProvider');
  return reservations;
}

/** The HoldClient from the nearest TicketPulseProvider: createHold and the other hold methods. */
export function useHoldClient(): HoldClient {
  const { holds } = useClients();
  if (!holds) throw new Error('useHoldClient needs a HoldClient: pass `holds` (or `options`) to TicketPulseProvider');
  return holds;
}
