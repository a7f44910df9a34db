import type { TicketAvailability } from '@ticketpulse/client';
import { TicketAvailabilityIndicator } from '@ticketpulse/react';
import { memo, useId } from 'react';
import { quantityCap } from '../availability-rules.ts';
import { formatPrice } from '../format.ts';
import { useServerNow } from '../hooks/use-server-now.ts';
import { isSellingFast, sellOutNote } from '../sales-velocity.ts';
import { WaitlistJoin, type WaitlistJoinProps } from './waitlist-join.tsx';

export interface TicketRowProps {
  ticket: TicketAvailability;
  quantity: number;
  onQuantity: (ticketTypeId: string, quantity: number) => void;
  /** Why the selection was reduced by a live change. */
  notice: string | undefined;
  watching: boolean;
  onToggleNotify: (ticketTypeId: string) => void;
  /** Shown once a watched type is back. */
  backMessage: string | undefined;
  locked: boolean;
  /** The type's waiting list: the buyer's live entry, the last refusal, join and leave (flat, so memo compares them). */
  waitlistEntry: WaitlistJoinProps['entry'];
  waitlistNote: WaitlistJoinProps['note'];
  onJoinWaitlist: WaitlistJoinProps['onJoin'];
  onLeaveWaitlist: WaitlistJoinProps['onLeave'];
}

/** The server's projected sell-out, in minutes from now by the server's clock; counted down between updates. */
function SellOutNote({ ticket }: { ticket: TicketAvailability }) {
  const note = sellOutNote(ticket, useServerNow(15_000));
  return note && <p className="ticket-row__sell-out" data-testid="sell-out">{note}</p>;
}

/** One ticket type: live availability, price, and how many to hold (capped live by maxPerOrder and seats left). */
export const TicketRow = memo(function TicketRow(props: TicketRowProps) {
  const { ticket, quantity, onQuantity, notice, watching, onToggleNotify, backMessage, locked } = props;
  const id = useId();
  const cap = quantityCap(ticket);
  const name = ticket.ticketTypeName;
  const options = Array.from({ length: Math.max(cap, quantity) + 1 }, (_, i) => i);
  return (
    <li className="ticket-row" data-ticket-type={name} data-status={ticket.status}>
      <div className="ticket-row__info">
        <h3 className="ticket-row__name">{name}</h3>
        {ticket.description && <p className="ticket-row__description">{ticket.description}</p>}
        <p className="ticket-row__meta">
          <span className="ticket-row__price">{formatPrice(ticket.price, ticket.currency)}</span>
          {/* Not read out at every sale: the toasts say when it runs low, sells out or comes back. */}
          <TicketAvailabilityIndicator ticket={ticket} announce={false} />
          {isSellingFast(ticket) && <span className="pill pill--hot">Selling fast</span>}
        </p>
        <SellOutNote ticket={ticket} />
        <p className="ticket-row__limit">Up to {ticket.maxPerOrder} per order</p>
      </div>
      <div className="ticket-row__buy">
        <label htmlFor={id} className="ticket-row__label">
          Quantity<span className="tp-visually-hidden"> for {name}</span>
        </label>
        <select
          id={id}
          className="select"
          value={quantity}
          disabled={cap === 0 || locked}
          onChange={(e) => onQuantity(ticket.ticketTypeId, Number(e.target.value))}
        >
          {options.map((n) => (
            <option key={n} value={n} disabled={n > cap}>
              {n}
            </option>
          ))}
        </select>
        {ticket.isSoldOut && (
          <button type="button" className="button button--small button--ghost" aria-pressed={watching} onClick={() => onToggleNotify(ticket.ticketTypeId)}>
            {watching ? '✓ ' : ''}Notify me
          </button>
        )}
      </div>
      <WaitlistJoin ticket={ticket} entry={props.waitlistEntry} note={props.waitlistNote} onJoin={props.onJoinWaitlist} onLeave={props.onLeaveWaitlist} />
      {/* Always rendered: a live region must exist before its messages arrive. */}
      <div className="ticket-row__notes" aria-live="polite">
        {notice && <p className="message message--warning">{notice}</p>}
        {watching && ticket.isSoldOut && <p className="message message--muted">We'll tell you here as soon as {name} is available again.</p>}
        {backMessage && <p className="message message--success">{backMessage}</p>}
      </div>
    </li>
  );
});
