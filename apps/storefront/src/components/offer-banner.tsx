import { useMyOffers, useTicketAvailabilityManager } from '@ticketpulse/react';
import { Link } from 'wouter';
import { formatCountdown, plural } from '../format.ts';
import { useNow } from '../hooks/use-now.ts';

/**
 * The buyer's waiting-list offers, on every page the moment one is made
 * (useMyOffers, over the personal feed): what is held for them, a countdown
 * by the server's clock, and the event page to buy it on.
 */
export function OfferBanner() {
  const offers = useMyOffers();
  const { clock } = useTicketAvailabilityManager();
  const now = useNow(1000, offers.length > 0);
  if (offers.length === 0) return null;
  return (
    <div className="offer-banner" role="status" data-testid="offer-banner">
      {offers.map((offer) => {
        const remaining = Date.parse(offer.expiresAt) - (now + clock.offset);
        return (
          <p key={offer.reservationId} className="offer-banner__offer">
            <strong>Tickets held for you:</strong> {plural(offer.quantity, 'seat')} of {offer.ticketTypeName}, from the waiting list.{' '}
            <span role="timer" className="offer-banner__time" aria-label="Offer ends in">
              {remaining > 0 ? formatCountdown(remaining) : 'ending'}
            </span>{' '}
            <Link href={`/events/${offer.eventId}`} className="offer-banner__link">
              Buy them
            </Link>
          </p>
        );
      })}
    </div>
  );
}
