import { Link } from 'wouter';
import { eventLiveState } from '../availability-rules.ts';
import { formatDate } from '../format.ts';
import { useLiveEvent } from '../hooks/use-live-event.ts';
import { priceFrom } from '../price-from.ts';
import { eventSellingFast } from '../sales-velocity.ts';
import type { EventSummary } from '../types.ts';

function LiveState({ slug }: { slug: string }) {
  const live = useLiveEvent(slug);
  const { tickets } = live;
  const state = live.error ? { label: 'Unavailable', tone: 'unavailable' } : eventLiveState(tickets, eventSellingFast(tickets));
  const price = priceFrom(tickets);
  return (
    <p className="event-card__live">
      <span className={`pill pill--${state.tone}`} aria-live="polite" data-testid="event-state">
        {state.label}
      </span>
      {price && <span className="muted">{price}</span>}
    </p>
  );
}

/** One event in the list, with its live state when `live` (the manager watches a limited number of events). */
export function EventCard({ event, live }: { event: EventSummary; live: boolean }) {
  return (
    <li className="card event-card" data-event={event.slug}>
      <h2 className="event-card__name">
        <Link href={`/events/${event.slug}`}>{event.name}</Link>
      </h2>
      <p className="event-card__when">
        <time dateTime={event.startsAt}>{formatDate(event.startsAt)}</time>
        {event.venue && <> · {event.venue}</>}
      </p>
      {event.description && <p className="event-card__description">{event.description}</p>}
      {live ? <LiveState slug={event.slug} /> : <p className="event-card__live muted">Open the event for live availability</p>}
      <Link href={`/events/${event.slug}`} className="button button--primary event-card__cta" aria-label={`See tickets for ${event.name}`}>
        See tickets
      </Link>
    </li>
  );
}
