import type { TicketAvailability } from '@ticketpulse/client';
import { TicketAvailabilityBadge } from '@ticketpulse/react';
import { useServerNow } from '../hooks/use-server-now.ts';
import { minutesToSellOut } from '../sales-velocity.ts';
import { CapacityEditor } from './capacity-editor.tsx';

function count(value: number | null, unlimited = false): string {
  if (unlimited) return 'Unlimited';
  return value === null ? '—' : String(value);
}

const rate = (value: number | null): string => (value === null ? '—' : value.toFixed(1));
const clockTime = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

/** The server's projected sell-out: when, and in how many minutes by the server's clock. */
function SellOut({ ticket }: { ticket: TicketAvailability }) {
  const minutes = minutesToSellOut(ticket, useServerNow(15_000));
  if (minutes === null || !ticket.projectedSellOutAt) return <>—</>;
  return (
    <time dateTime={ticket.projectedSellOutAt}>
      {clockTime.format(Date.parse(ticket.projectedSellOutAt))} (in ~{minutes} min)
    </time>
  );
}

/** Sold, held and available per ticket type, live, with its sales velocity and each type's capacity editor. */
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
            <th scope="col" className="num">
              Sold/min (5 min · 15 min)
            </th>
            <th scope="col">Projected sell-out</th>
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
              <td className="num" data-col="velocity">
                {rate(ticket.soldPerMinute5m)} · {rate(ticket.soldPerMinute15m)}
              </td>
              <td data-col="sell-out">
                <SellOut ticket={ticket} />
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
