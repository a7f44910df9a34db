import type { ConnectionStatus, TicketAvailability } from '@ticketpulse/client';
import { useTicketAvailability } from './use-ticket-availability.ts';

export interface SingleTicketAvailability {
  /** Seats left; null when unlimited, banded, or not known yet. */
  available: number | null;
  reserved: number | null;
  sold: number | null;
  isSoldOut: boolean;
  percentageSold: number | null;
  /** undefined until the ticket type is known. */
  status: TicketAvailability['status'] | undefined;
  isConnected: boolean;
  connectionStatus: ConnectionStatus;
  ticketData: TicketAvailability | undefined;
}

/** One ticket type of an event, live. Shares the event's subscription with every other hook watching it. */
export function useSingleTicketAvailability(eventId: string, ticketTypeId: string): SingleTicketAvailability {
  const { getTicketAvailability, isConnected, connectionStatus } = useTicketAvailability(eventId);
  const ticket = getTicketAvailability(ticketTypeId);
  return {
    available: ticket?.actualAvailable ?? null,
    reserved: ticket?.reservedCount ?? null,
    sold: ticket?.soldCount ?? null,
    isSoldOut: ticket?.isSoldOut ?? false,
    percentageSold: ticket?.percentageSold ?? null,
    status: ticket?.status,
    isConnected,
    connectionStatus,
    ticketData: ticket,
  };
}
