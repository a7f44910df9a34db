import type { TicketAvailability } from '@ticketpulse/client';
import { TicketAvailabilityBadge } from '@ticketpulse/react';
import { CapacityEditor } from './capacity-editor.tsx';

function count(value: number | null, unlimited = false): string {
  if (unlimited) return 'Unlimited';
  return value === null ? '—' : String(value);
}

/** Sold, held and available per ticket type, live, with each type's capacity editor. */
export function LiveTable({ tickets }: { tickets: TicketAvailability[] }) {
  return (
    <div className="table-scroll" tabIndex={0} role="region" aria-label="Ticket types, scrollable">
      <table className="table">
        <caption className="tp-visually-hidden">Live sales per ticket type</caption>
        <thead>
          <tr>
            <th scope="col">Ticket type</th>
            <th scope="col" className="num">
              Sold
            </th>
            <th scope="col" className="num">
              Held
            </th>
            <th scope="col" className="num">
              Available
            </th>
            <th scope="col">Status</th>
            <th scope="col">Capacity</th>
          </tr>
        </thead>
        <tbody>
          {tickets.map((ticket) => (
            <tr key={ticket.ticketTypeId} data-ticket-type={ticket.ticketTypeName}>
              <th scope="row">{ticket.ticketTypeName}</th>
              <td className="num" data-col="sold">
                {count(ticket.soldCount)}
              </td>
              <td className="num" data-col="held">
                {count(ticket.reservedCount)}
              </td>
              <td className="num" data-col="available">
                {count(ticket.actualAvailable, ticket.isUnlimited)}
              </td>
              <td>
                <TicketAvailabilityBadge ticket={ticket} />
              </td>
              <td>
                <CapacityEditor ticket={ticket} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
