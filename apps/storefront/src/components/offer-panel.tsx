import { offerLine } from '../offer-line.ts';
import type { WaitlistEntry } from '../types.ts';
import { HoldPanel } from './hold-panel.tsx';

/**
 * An offer from the waiting list: a hold in the buyer's name, so the hold
 * panel counts it down and buys (confirm) or releases it, as any hold.
 */
export function OfferPanel({ entry, onDone }: { entry: WaitlistEntry; onDone: (entryId: string) => void }) {
  if (!entry.offer) return null;
  return (
    <div className="card offer-panel" data-offer-for={entry.ticketTypeName}>
      <p className="offer-panel__lead">
        <span className="pill pill--available">Waiting list</span> {offerLine(entry.ticketTypeName, entry.offer.quantity, entry.quantity)}
      </p>
      <HoldPanel reservationId={entry.offer.reservationId} fromWaitlist onDone={() => onDone(entry.id)} />
    </div>
  );
}
