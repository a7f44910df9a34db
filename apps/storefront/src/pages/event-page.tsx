import { useQuery } from '@tanstack/react-query';
import { RealtimeErrorBoundary } from '@ticketpulse/react';
import { useCallback, useRef } from 'react';
import { Link } from 'wouter';
import { HoldPanel } from '../components/hold-panel.tsx';
import { OfferPanel } from '../components/offer-panel.tsx';
import { RequestStatus } from '../components/request-status.tsx';
import { SiteHeader } from '../components/site-header.tsx';
import { TicketRow } from '../components/ticket-row.tsx';
import { Toasts } from '../components/toasts.tsx';
import { WaitingRoom, YourTurn } from '../components/waiting-room.tsx';
import { WaitlistJoin } from '../components/waitlist-join.tsx';
import { formatDate, plural } from '../format.ts';
import { useHold } from '../hooks/use-hold.ts';
import { useLiveEvent } from '../hooks/use-live-event.ts';
import { useNotifyMe } from '../hooks/use-notify-me.ts';
import { useQueryStatus } from '../hooks/use-query-status.ts';
import { useQueueAnnouncement } from '../hooks/use-queue-announcement.ts';
import { useSelection } from '../hooks/use-selection.ts';
import { useToasts } from '../hooks/use-toasts.ts';
import { useWaitingRoom } from '../hooks/use-waiting-room.ts';
import { useWaitlist } from '../hooks/use-waitlist.ts';
import { queries } from '../queries.ts';
import { eventSellingFast, eventSoldPerMinute } from '../sales-velocity.ts';

function EventHeading({ slug, sellingFast, soldPerMinute }: { slug: string; sellingFast: boolean; soldPerMinute: number | null }) {
  // Asked again every few seconds while the server cannot be reached; the details kept from an earlier visit fill in meanwhile.
  const event = useQuery(queries.event(slug));
  const status = useQueryStatus(event);
  const details = event.data;
  if (!details) {
    if (status.error?.status === 404) {
      return (
        <div className="event-heading">
          <h1>Event not found</h1>
          <p>
            There is no event at this address. <Link href="/">See all events</Link>
          </p>
        </div>
      );
    }
    return (
      <div className="event-heading">
        <h1>{status.loading ? 'Loading event…' : 'Event'}</h1>
        <RequestStatus {...status} what="the event" />
      </div>
    );
  }
  return (
    <div className="event-heading">
      <p className="event-heading__eyebrow">
        <Link href="/">← All events</Link>
      </p>
      <h1>{details.name}</h1>
      <p className="event-heading__when">
        <time dateTime={details.startsAt}>{formatDate(details.startsAt)}</time>
        {details.venue && <> · {details.venue}</>}
      </p>
      {details.description && <p className="event-heading__description">{details.description}</p>}
      {/* Not a live region: the rate changes with every refresh, and reading each out would drown the page. */}
      <p className="event-heading__pulse">
        {sellingFast && <span className="pill pill--hot">Selling fast</span>}
        {soldPerMinute !== null && soldPerMinute > 0 && (
          <span className="muted" data-testid="sold-per-minute">
            {soldPerMinute} {soldPerMinute === 1 ? 'ticket' : 'tickets'} a minute over the last 5 minutes
          </span>
        )}
      </p>
    </div>
  );
}

/**
 * An event's tickets, live: choose quantities, hold them, then buy within the
 * hold's time. An event with a waiting room shows the room instead until it
 * is the visitor's turn (or while they have a hold to finish).
 */
export function EventPage({ slug }: { slug: string }) {
  const { toasts, push, dismiss } = useToasts();
  const live = useLiveEvent(slug, {
    onLowStock: (name, count) => push(count === null ? `${name}: only a few left` : `${name}: only ${count} left!`, 'warning'),
    onSoldOut: (name) => push(`${name} is now sold out`, 'danger'),
    onBackInStock: (name, count) => push(count === null ? `${name} is available again` : `${name} is available again: ${count} left`, 'success'),
  });
  const holdRequest = useHold(slug);
  const selection = useSelection(live.availability, holdRequest.pending);
  const notify = useNotifyMe(slug);
  const { tickets } = live;
  const waitlist = useWaitlist(slug, tickets[0]?.eventId);
  const queue = useWaitingRoom(slug);
  const announcement = useQueueAnnouncement(queue);
  const activeHold = holdRequest.isActive;
  // 'unknown': the server has not said yet (an event without a room is the common case). A closed room
  // (turned off, or the event over) keeps nobody from the tickets, which say themselves whether they are on sale.
  // A hold outlives the turn; once it is bought or released, a turn that ran out shows the room again (the hold
  // panel beside it stays).
  const inRoom = queue.status !== 'none' && queue.status !== 'unknown' && queue.queue?.status !== 'closed' && !queue.isYourTurn && !activeHold;

  const { setQuantity: select, clear } = selection;
  const { newIntent, hold } = holdRequest;
  const onQuantity = useCallback(
    (id: string, quantity: number) => {
      newIntent();
      select(id, quantity);
    },
    [newIntent, select],
  );
  const onHold = async () => {
    if (await hold(selection.items)) clear();
  };
  const ticketsHeading = useRef<HTMLHeadingElement>(null);
  // "Choose tickets again", "Buy more tickets", an offer dismissed: the panel and its button go, so focus goes back to the tickets.
  const backToTickets = (done: () => void) => () => {
    done();
    ticketsHeading.current?.focus();
  };

  return (
    <>
      <SiteHeader eventId={slug} />
      <main className="page" id="main">
        <EventHeading slug={slug} sellingFast={eventSellingFast(tickets)} soldPerMinute={eventSoldPerMinute(tickets)} />
        <div className="event-layout">
          <section className="card tickets" aria-labelledby="tickets-heading">
            <h2 id="tickets-heading" ref={ticketsHeading} tabIndex={-1}>
              Tickets
            </h2>
            <p className="visually-hidden" aria-live="polite" data-testid="queue-announcement">
              {announcement}
            </p>
            {inRoom ? (
              <WaitingRoom queue={queue}>
                {/* Sold out in the waiting room: the waiting lists are the way in (no queue pass needed). */}
                {tickets.map((ticket) => (
                  <WaitlistJoin
                    key={ticket.ticketTypeId}
                    ticket={ticket}
                    entry={waitlist.entryOf(ticket.ticketTypeId)}
                    note={waitlist.noteOf(ticket.ticketTypeId)}
                    onJoin={waitlist.join}
                    onLeave={waitlist.leave}
                    labelled
                  />
                ))}
              </WaitingRoom>
            ) : (
              <>
                {/* While a hold runs, its own countdown is the one that matters. */}
                {queue.isYourTurn && !activeHold && <YourTurn queue={queue} />}
                <RealtimeErrorBoundary fallback={<p className="message message--error">Live availability failed to display. Reload the page to try again.</p>}>
                  {live.error && (
                    <p className="message message--error" role="alert">
                      {live.error.code === 'event_not_found' ? 'This event is not available.' : `Live availability unavailable: ${live.error.message}`}
                    </p>
                  )}
                  {!live.error && tickets.length === 0 && (
                    <p className="message message--muted" role="status">
                      <span className="spinner" aria-hidden="true" /> Loading tickets…
                    </p>
                  )}
                  <ul className="ticket-list">
                    {tickets.map((ticket) => (
                      <TicketRow
                        key={ticket.ticketTypeId}
                        ticket={ticket}
                        quantity={selection.quantityOf(ticket.ticketTypeId)}
                        onQuantity={onQuantity}
                        notice={selection.noticeOf(ticket.ticketTypeId)}
                        watching={notify.isWatching(ticket.ticketTypeId)}
                        onToggleNotify={notify.toggle}
                        backMessage={notify.messageOf(ticket.ticketTypeId)}
                        locked={holdRequest.pending || activeHold}
                        waitlistEntry={waitlist.entryOf(ticket.ticketTypeId)}
                        waitlistNote={waitlist.noteOf(ticket.ticketTypeId)}
                        onJoinWaitlist={waitlist.join}
                        onLeaveWaitlist={waitlist.leave}
                      />
                    ))}
                  </ul>
                </RealtimeErrorBoundary>
                <div className="order-bar">
                  <p className="order-bar__summary" aria-live="polite">
                    {/* No money here: the total is the server's, exact, shown with the hold. */}
                    {selection.count === 0 ? 'No tickets selected' : `${plural(selection.count, 'ticket')} selected · total shown when held`}
                  </p>
                  <button type="button" className="button button--primary" disabled={selection.count === 0 || holdRequest.pending || activeHold} onClick={onHold}>
                    {holdRequest.pending ? 'Holding…' : 'Hold tickets'}
                  </button>
                </div>
                {activeHold && <p className="message message--muted">You have a hold on this event. Buy or release it to choose other tickets.</p>}
                {holdRequest.error && (
                  <p className="message message--error" role="alert">
                    Could not hold your tickets: {holdRequest.error}
                  </p>
                )}
                {live.isStale && <p className="message message--warning">You are offline: these counts are from your last visit and may have changed. We'll reconnect on our own.</p>}
              </>
            )}
          </section>
          <aside className="event-aside">
            {waitlist.offers.map((entry) => (
              <OfferPanel key={entry.id} entry={entry} onDone={backToTickets(() => waitlist.dismissOffer(entry.id))} />
            ))}
            {holdRequest.reservationId ? (
              <HoldPanel key={holdRequest.reservationId} reservationId={holdRequest.reservationId} onDone={backToTickets(holdRequest.dismiss)} />
            ) : waitlist.offers.length > 0 ? null : (
              <section className="card hold-help" aria-labelledby="how-heading">
                <h2 id="how-heading">How it works</h2>
                <ol>
                  <li>Choose how many tickets you want.</li>
                  <li>Hold them: nobody else can take them while the timer runs.</li>
                  <li>Buy before the timer ends, or extend it.</li>
                </ol>
              </section>
            )}
          </aside>
        </div>
      </main>
      <Toasts toasts={toasts} onDismiss={dismiss} />
    </>
  );
}
