import { useQuery } from '@tanstack/react-query';
import { EventCard } from '../components/event-card.tsx';
import { RequestStatus } from '../components/request-status.tsx';
import { SiteHeader } from '../components/site-header.tsx';
import { useQueryStatus } from '../hooks/use-query-status.ts';
import { queries } from '../queries.ts';

/** The manager keeps at most 10 events live; leave room for the event the buyer opens next. */
const LIVE_EVENTS = 8;

/** Upcoming public events, each with its live state. */
export function EventList() {
  const events = useQuery(queries.events());
  const status = useQueryStatus(events);
  const list = (events.data?.events ?? []).filter((e) => e.status !== 'draft' && e.status !== 'cancelled');
  return (
    <>
      <SiteHeader />
      <main className="page" id="main">
        <h1>Upcoming events</h1>
        <p className="lead">Live availability: counts change as other people buy.</p>
        <RequestStatus {...status} what="events" />
        {events.data && list.length === 0 && <p className="message message--muted">No events on sale right now.</p>}
        <ul className="event-grid">
          {list.map((event, index) => (
            <EventCard key={event.id} event={event} live={index < LIVE_EVENTS} />
          ))}
        </ul>
      </main>
    </>
  );
}
