import { useQuery } from '@tanstack/react-query';
import { localStorageCache } from '@ticketpulse/client';
import { RealtimeErrorBoundary, TicketPulseProvider } from '@ticketpulse/react';
import { useEffect, useId, useMemo, useRef, useState, type ReactNode } from 'react';
import { useLocation, useSearch } from 'wouter';
import { ApiError } from '../api.ts';
import { ExpiringHolds } from '../components/expiring-holds.tsx';
import { LiveTable } from '../components/live-table.tsx';
import { QueuePanel } from '../components/queue-panel.tsx';
import { RequestStatus } from '../components/request-status.tsx';
import { SalesChart } from '../components/sales-chart.tsx';
import { SimulatorPanel } from '../components/simulator-panel.tsx';
import { SiteHeader } from '../components/site-header.tsx';
import { ViewersPanel } from '../components/viewers-panel.tsx';
import { WaitlistPanel } from '../components/waitlist-panel.tsx';
import { defaultDashboardEvent } from '../dashboard-default.ts';
import { useLiveEvent } from '../hooks/use-live-event.ts';
import { useLiveSales } from '../hooks/use-live-sales.ts';
import { useOrganizerToken } from '../hooks/use-organizer-session.ts';
import { useQueryStatus } from '../hooks/use-query-status.ts';
import { queries } from '../queries.ts';
import { browserFetch } from '../realtime.ts';
import { signInOrganizer, signOutOrganizer } from '../session.ts';

function Panel({ title, children, wide = false }: { title: string; children: ReactNode; wide?: boolean }) {
  const id = useId();
  return (
    <section className={`card panel${wide ? ' panel--wide' : ''}`} aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      <RealtimeErrorBoundary fallback={<p className="message message--error">This panel failed to display. Reload the page to try again.</p>}>{children}</RealtimeErrorBoundary>
    </section>
  );
}

function SignIn() {
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const signIn = async () => {
    setPending(true);
    setError(null);
    try {
      await signInOrganizer();
    } catch (failure) {
      setError(failure instanceof ApiError ? failure.message : 'Sign-in failed. Please retry.');
    } finally {
      setPending(false);
    }
  };
  return (
    <section className="card sign-in" aria-labelledby="sign-in-heading">
      <h2 id="sign-in-heading">Organizer sign-in</h2>
      <p>The dashboard shows live sales, holds about to expire, capacity and simulated traffic. On a demo server, sign in with a development token.</p>
      <button type="button" className="button button--primary" onClick={signIn} disabled={pending}>
        {pending ? 'Signing in…' : 'Sign in as organizer (dev)'}
      </button>
      {error && (
        <p className="message message--error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

const dashboardPath = (slug: string) => `/organizer?event=${encodeURIComponent(slug)}`;

/**
 * The event shown: the one in the URL, else the busiest on sale
 * (dashboard-default.ts), which then goes into the URL, so a reload or a
 * shared link keeps it and later sales do not switch the dashboard away.
 */
function useDashboardEvent(chosen: string | null): string | null {
  const [, navigate] = useLocation();
  const events = useQuery(queries.organizerEvents());
  const fallback = chosen === null && events.data ? defaultDashboardEvent(events.data.events)?.slug : undefined;
  useEffect(() => {
    if (fallback) navigate(dashboardPath(fallback), { replace: true });
  }, [fallback, navigate]);
  return chosen ?? fallback ?? null;
}

function EventPicker({ slug }: { slug: string | null }) {
  const [, navigate] = useLocation();
  const id = useId();
  const events = useQuery(queries.organizerEvents());
  const status = useQueryStatus(events);
  const list = events.data?.events ?? [];
  return (
    <div className="event-picker">
      <label htmlFor={id}>Event</label>
      <select id={id} className="select" value={slug ?? ''} disabled={list.length === 0} onChange={(e) => navigate(dashboardPath(e.target.value))}>
        {slug === null && <option value="">{events.data ? 'No events yet' : 'Loading…'}</option>}
        {list.map((event) => (
          <option key={event.id} value={event.slug}>
            {event.name} ({event.status.replace('_', ' ')})
          </option>
        ))}
      </select>
      <RequestStatus {...status} what="events" />
    </div>
  );
}

function Dashboard({ slug }: { slug: string }) {
  const live = useLiveEvent(slug);
  const { tickets } = live;
  const sales = useLiveSales(slug, live.availability, live.isStale);
  const eventId = tickets[0]?.eventId;
  return (
    <div className="dashboard">
      <Panel title="Live sales by ticket type" wide>
        {live.error && (
          <p className="message message--error" role="alert">
            Live availability unavailable: {live.error.message}
          </p>
        )}
        {!live.error && tickets.length === 0 && (
          <p className="message message--muted" role="status">
            <span className="spinner" aria-hidden="true" /> Loading ticket types…
          </p>
        )}
        {tickets.length > 0 && <LiveTable tickets={tickets} />}
      </Panel>
      <Panel title="Sales per minute" wide>
        <RequestStatus {...sales.status} what="sales" />
        {!sales.status.loading && <SalesChart buckets={sales.buckets} />}
      </Panel>
      <Panel title="Waiting room" wide>
        <QueuePanel slug={slug} />
      </Panel>
      <Panel title="Waiting lists" wide>
        <WaitlistPanel slug={slug} />
      </Panel>
      <Panel title="Holds about to expire">
        <ExpiringHolds slug={slug} />
      </Panel>
      <Panel title="Viewers">
        <ViewersPanel eventId={eventId} />
      </Panel>
      <Panel title="Traffic simulator">
        <SimulatorPanel />
      </Panel>
    </div>
  );
}

/** A manager of its own, on the organizer's token: organizers get exact counts even where buyers see bands. */
function OrganizerLive({ token, children }: { token: string; children: ReactNode }) {
  const options = useMemo(() => ({ url: window.location.origin, getToken: () => token, fetch: browserFetch, storage: localStorageCache('ticketpulse-organizer:') }), [token]);
  return (
    <TicketPulseProvider key={token} options={options}>
      {children}
    </TicketPulseProvider>
  );
}

/** A signed-in organizer's page: the event picker, and the dashboard of the event shown. */
function SignedIn({ chosen, top }: { chosen: string | null; top: ReactNode }) {
  const slug = useDashboardEvent(chosen);
  return (
    <>
      <SiteHeader live={slug !== null} {...(slug ? { eventId: slug } : {})} />
      <main className="page" id="main">
        {top}
        <EventPicker slug={slug} />
        {slug && <Dashboard key={slug} slug={slug} />}
      </main>
    </>
  );
}

/** The organizer dashboard: `/organizer?event=:slug`; without an event, the busiest on sale. */
export function OrganizerPage() {
  const token = useOrganizerToken();
  const chosen = new URLSearchParams(useSearch()).get('event');
  const heading = useRef<HTMLHeadingElement>(null);
  const signedIn = token !== null;
  const wasSignedIn = useRef(signedIn);
  useEffect(() => {
    // Signing in or out removes the button just pressed: keyboard and screen reader users go on from the heading, not the top of the document.
    if (wasSignedIn.current !== signedIn) heading.current?.focus();
    wasSignedIn.current = signedIn;
  }, [signedIn]);
  const top = (
    <div className="organizer-top">
      <h1 ref={heading} tabIndex={-1}>
        Organizer dashboard
      </h1>
      {token && (
        <p className="organizer-top__session">
          Signed in as organizer (dev){' '}
          <button type="button" className="button button--small button--ghost" onClick={signOutOrganizer}>
            Sign out
          </button>
        </p>
      )}
    </div>
  );
  if (!token) {
    return (
      <>
        <SiteHeader live={false} />
        <main className="page" id="main">
          {top}
          <SignIn />
        </main>
      </>
    );
  }
  return (
    <OrganizerLive token={token}>
      <SignedIn chosen={chosen} top={top} />
    </OrganizerLive>
  );
}
