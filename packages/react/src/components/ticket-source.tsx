import type { TicketAvailability } from '@ticketpulse/client';
import { memo, type ComponentType } from 'react';
import { useSingleTicketAvailability } from '../use-single-ticket-availability.ts';

/** Display props: a ticket type, or undefined while it is not known yet. */
export interface TicketViewProps {
  ticket: TicketAvailability | undefined;
  className?: string;
}

/** A ticket type given as data (e.g. from the server render), or watched live by event and ticket type. */
export type TicketSourceProps = { className?: string } & ({ ticket: TicketAvailability } | { eventId: string; ticketTypeId: string });

/**
 * A component that takes either source, from a view that only displays: the
 * hook is called only when watching live, and the memoized view re-renders
 * only when its own ticket type changed, not on every change to the event.
 */
export function withTicketSource(View: ComponentType<TicketViewProps>, name: string): ComponentType<TicketSourceProps> {
  const MemoView = memo(View);
  function Live({ eventId, ticketTypeId, className }: { eventId: string; ticketTypeId: string; className?: string | undefined }) {
    const { ticketData } = useSingleTicketAvailability(eventId, ticketTypeId);
    return <MemoView ticket={ticketData} className={className} />;
  }
  function TicketSource(props: TicketSourceProps) {
    if ('ticket' in props) return <MemoView ticket={props.ticket} className={props.className} />;
    return <Live eventId={props.eventId} ticketTypeId={props.ticketTypeId} className={props.className} />;
  }
  TicketSource.displayName = name;
  return memo(TicketSource);
}
