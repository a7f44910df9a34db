import type { TicketAvailability } from '@ticketpulse/client';
import { useEffect, useId, useRef, useState } from 'react';
import { plural } from '../format.ts';
import type { WaitlistNote } from '../hooks/use-waitlist.ts';
import type { WaitlistEntry } from '../types.ts';

export interface WaitlistJoinProps {
  ticket: TicketAvailability;
  /** The buyer's live entry on this type. */
  entry: WaitlistEntry | undefined;
  note: WaitlistNote | undefined;
  onJoin: (ticketTypeId: string, quantity: number) => void;
  onLeave: (entry: WaitlistEntry) => void;
  /** Names the ticket type (where no ticket row around it does). */
  labelled?: boolean;
}

/**
 * A sold-out ticket type's waiting list, for the buyer: join it for up to
 * maxPerOrder seats, then their place in line and a way out; once seats are
 * offered, a pointer to the offer (shown with its countdown beside the tickets).
 */
export function WaitlistJoin({ ticket, entry, note, onJoin, onLeave, labelled = false }: WaitlistJoinProps) {
  const id = useId();
  const [quantity, setQuantity] = useState(1);
  const pending = note?.pending ?? false;
  const name = ticket.ticketTypeName;
  const container = useRef<HTMLDivElement>(null);
  const acted = useRef(false);
  const joined = entry !== undefined;
  useEffect(() => {
    // Joining or leaving disables, then swaps, the button pressed: focus goes to the one that replaces it, not to the document.
    const lost = document.activeElement === null || document.activeElement === document.body;
    if (acted.current && lost) container.current?.querySelector<HTMLButtonElement>('button:enabled')?.focus();
    acted.current = false;
  }, [joined]);
  let body;
  if (entry?.status === 'offered') {
    body = (
      <p className="message message--success" data-waitlist="offered">
        Seats came back for you: {plural(entry.offer?.quantity ?? entry.quantity, 'ticket')} held in your name. Buy them before the timer runs out.
      </p>
    );
  } else if (entry) {
    body = (
      <p className="waitlist-join__place" data-waitlist="waiting">
        <span>
          You are <strong data-waitlist-place>number {entry.place}</strong> on the waiting list, for up to {plural(entry.quantity, 'ticket')}.
        </span>
        <button type="button" className="button button--small button--ghost" disabled={pending} onClick={() => {
            acted.current = true;
            onLeave(entry);
          }}
        >
          Leave the waiting list
        </button>
      </p>
    );
  } else if (!ticket.isSoldOut || note?.closed) {
    body = null;
  } else {
    body = (
      <form
        className="waitlist-join__form"
        onSubmit={(e) => {
          e.preventDefault();
          acted.current = true;
          onJoin(ticket.ticketTypeId, quantity);
        }}
      >
        <label htmlFor={id}>
          Tickets wanted<span className="tp-visually-hidden"> from the {name} waiting list</span>
        </label>
        <select id={id} className="select" value={quantity} disabled={pending} onChange={(e) => setQuantity(Number(e.target.value))}>
          {Array.from({ length: ticket.maxPerOrder }, (_, i) => i + 1).map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
        <button type="submit" className="button button--small" disabled={pending}>
          {pending ? 'Joining…' : 'Join the waiting list'}
        </button>
      </form>
    );
  }
  return (
    <div className="waitlist-join" data-waitlist-for={name} ref={container}>
      {labelled && body && <h4 className="waitlist-join__name">{name}</h4>}
      {body}
      {note?.message && (
        <p className={`message ${note.closed ? 'message--muted' : 'message--error'}`} role="alert">
          {note.message}
        </p>
      )}
    </div>
  );
}
