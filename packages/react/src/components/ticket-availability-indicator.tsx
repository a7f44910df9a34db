import { classNames } from './class-names.ts';
import { describeAvailability } from './describe-availability.ts';
import { withTicketSource, type TicketViewProps } from './ticket-source.tsx';
import { useFlashOnChange } from './use-flash-on-change.ts';

function IndicatorView({ ticket, className, announce = true }: TicketViewProps) {
  const { tone, text } = describeAvailability(ticket);
  const ref = useFlashOnChange<HTMLSpanElement>(ticket && text);
  return (
    // Polite live region: screen readers hear changes (not the first render) without being interrupted.
    // `announce={false}` where counts move with every sale and the page says what matters another way.
    <span ref={ref} className={classNames('tp-indicator', `tp-tone-${tone}`, className)} data-status={ticket?.status} aria-live={announce ? 'polite' : 'off'} aria-atomic="true">
      {ticket && <span className="tp-visually-hidden">{ticket.ticketTypeName}: </span>}
      {text}
    </span>
  );
}

/** A ticket type's availability in words, highlighted when it changes: `ticket`, or `eventId` and `ticketTypeId`. */
export const TicketAvailabilityIndicator = withTicketSource(IndicatorView, 'TicketAvailabilityIndicator');
