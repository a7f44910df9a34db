import { ConnectionStatus, TicketAvailabilityBadge, TicketAvailabilityIndicator, useTicketAvailability } from '@ticketpulse/react';
import { useState } from 'react';

// The design's useTicketAvailability example, with a list of notices for its toasts.
export function TicketSelection({ eventId }) {
  const [notices, setNotices] = useState([]);
  const notify = (text) => setNotices((shown) => [...shown.slice(-2), text]);
  const { availability, isConnected, isTicketAvailable, getActualAvailable } = useTicketAvailability(eventId, {
    onLowStock: (name, count) => notify(`${name} - only ${count} left!`),
    onSoldOut: (name) => notify(`${name} is now sold out`),
  });

  return (
    <main style={{ maxWidth: 640, margin: '2rem auto', fontFamily: 'system-ui, sans-serif' }}>
      <h1>Tickets</h1>
      <ConnectionStatus eventId={eventId} />
      {!isConnected && availability.size === 0 && <p>Loading…</p>}
      <ul style={{ listStyle: 'none', padding: 0 }}>
        {[...availability.values()].map((ticket) => {
          const available = getActualAvailable(ticket.ticketTypeId);
          return (
            <li key={ticket.ticketTypeId} data-ticket-type={ticket.ticketTypeName} style={{ margin: '1rem 0' }}>
              <strong>{ticket.ticketTypeName}</strong> {ticket.price} {ticket.currency}{' '}
              <TicketAvailabilityBadge ticket={ticket} />
              <TicketAvailabilityIndicator ticket={ticket} />
              <span className="seats-left">{available === Infinity ? 'unlimited' : available}</span> seats left,{' '}
              {isTicketAvailable(ticket.ticketTypeId) ? 'on sale' : 'not on sale'}
            </li>
          );
        })}
      </ul>
      {notices.map((text, i) => (
        <p key={i} role="status">{text}</p>
      ))}
    </main>
  );
}
