import type { TicketAvailability } from '@ticketpulse/client';
import { memo, type ComponentType } from 'react';
import { useSingleTicketAvailability } from '../use-single-ticket-availability.ts';

/** Display props: a ticket type, or undefined while it is not known yet. */
export interface TicketViewProps {
  ticket: TicketAvailability | undefined;
  className?: string;
  /** Announce changes in a polite live region (the indicator; default true). */
  announce?: boolean;
}

/** A ticket type given as data (e.g. from the server render), or watched live by event and ticket type. */
export type TicketSourceProps = { className?: string; announce?: boolean } & ({ ticket: TicketAvailability } | { eventId: string; ticketTypeId: string });

/**
 * A component that takes either source, from a view that only displays: the
 * hook is called only when watching live, and the memoized view re-renders
 * only when its own ticket type changed, not on every change to the event.
 */
export function withTicketSource(View: ComponentType<TicketViewProps>, name: string): ComponentType<TicketSourceProps> {
  const MemoView = memo(View);
  function Live({ eventId, ticketTypeId, className, announce }: { eventId: string; ticketTypeId: string; className?: string | undefined; announce?: boolean | undefined }) {
    const { ticketData } = useSingleTicketAvailability(eventId, ticketTypeId);
    return <MemoView ticket={ticketData} className={className} announce={announce} />;
  }
  function TicketSource(props: TicketSourceProps) {
    if ('ticket' in props) return <MemoView ticket={props.ticket} className={props.className} announce={props.announce} />;
    return <Live eventId={props.eventId} ticketTypeId={props.ticketTypeId} className={props.className} announce={props.announce} />;
  }
  TicketSource.displayName = name;
  return memo(TicketSource);
}
