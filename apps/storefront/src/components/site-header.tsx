import { ConnectionStatus } from '@ticketpulse/react';
import { Link } from 'wouter';
import { OfferBanner } from './offer-banner.tsx';

export interface SiteHeaderProps {
  /** Show this event's live state (cached data, errors); without it, the overall connection. */
  eventId?: string;
  /** False where nothing is watched yet (the status would only say "Offline"). */
  live?: boolean;
}

/** The brand, the navigation and, always in view, whether what is shown is live, and any offer from a waiting list. */
export function SiteHeader({ eventId, live = true }: SiteHeaderProps) {
  return (
    <header className="site-header">
      <div className="site-header__inner">
        <Link href="/" className="site-header__brand">
          <span aria-hidden="true" className="site-header__logo" />
          TicketPulse
        </Link>
        <nav aria-label="Main" className="site-header__nav">
          <Link href="/">Events</Link>
          <Link href="/organizer">Organizer</Link>
        </nav>
        {live && (
          <div className="site-header__status">
            {eventId === undefined ? <ConnectionStatus /> : <ConnectionStatus eventId={eventId} />}
          </div>
        )}
      </div>
      <OfferBanner />
    </header>
  );
}
