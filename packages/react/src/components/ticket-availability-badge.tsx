import { classNames } from './class-names.ts';
import { describeAvailability } from './describe-availability.ts';
import { withTicketSource, type TicketViewProps } from './ticket-source.tsx';
import { useFlashOnChange } from './use-flash-on-change.ts';

function BadgeView({ ticket, className }: TicketViewProps) {
  const { tone, text, short } = describeAvailability(ticket);
  const ref = useFlashOnChange<HTMLSpanElement>(ticket && short);
  // No live region: a table of them announcing every change would drown the page.
  return (
    <span ref={ref} className={classNames('tp-badge', `tp-tone-${tone}`, className)} data-status={ticket?.status} title={text}>
      {short}
    </span>
  );
}

/** The compact indicator, for tables and lists. */
export const TicketAvailabilityBadge = withTicketSource(BadgeView, 'TicketAvailabilityBadge');
