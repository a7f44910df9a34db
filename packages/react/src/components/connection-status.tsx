import type { ConnectionStatus as Status } from '@ticketpulse/client';
import { memo, useEffect, useState } from 'react';
import { useConnectionStatus } from '../use-connection-status.ts';
import { useTicketAvailability, type TicketAvailabilityResult } from '../use-ticket-availability.ts';
import { classNames } from './class-names.ts';

const LABELS: Record<Status, string> = {
  connected: 'Live',
  connecting: 'Connecting…',
  reconnecting: 'Reconnecting…',
  polling: 'Live updates paused — checking every few seconds',
  disconnected: 'Offline',
  error: 'Live updates unavailable',
};

/** How often the age of cached data is redrawn. */
const AGE_REFRESH_MS = 15_000;

const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });

function age(since: number, now: number): string {
  const seconds = Math.max(0, Math.round((now - since) / 1000));
  if (seconds < 60) return 'just now';
  if (seconds < 3600) return relative.format(-Math.floor(seconds / 60), 'minute');
  if (seconds < 86_400) return relative.format(-Math.floor(seconds / 3600), 'hour');
  return relative.format(-Math.floor(seconds / 86_400), 'day');
}

/** The time, redrawn every `everyMs` while `active`: an age on screen should not freeze. */
function useNow(active: boolean, everyMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [active, everyMs]);
  return now;
}

type EventView = Pick<TicketAvailabilityResult, 'connectionStatus' | 'isStale' | 'lastUpdated' | 'error'>;

/** An event's own state says more than the connection: why it cannot be watched, or how old the cached data is. */
function describeEvent(event: EventView, now: number): { state: string; text: string } {
  if (event.error) return { state: 'error', text: `${LABELS.error}: ${event.error.message}` };
  if (event.isStale) {
    const updated = event.lastUpdated === null ? '' : ` (updated ${age(event.lastUpdated, now)})`;
    return { state: 'stale', text: `Offline — showing cached data${updated}` };
  }
  return { state: event.connectionStatus, text: LABELS[event.connectionStatus] };
}

export interface ConnectionStatusProps {
  /** Show this event's state (its errors, cached data); without it, the overall connection. */
  eventId?: string;
  className?: string;
}

/** Whether what is on screen is live, and if not, what the user is looking at. */
export const ConnectionStatus = memo(function ConnectionStatus({ eventId, className }: ConnectionStatusProps) {
  const overall = useConnectionStatus();
  const event = useTicketAvailability(eventId ?? '', { enabled: eventId !== undefined });
  const now = useNow(event.isStale, AGE_REFRESH_MS);
  const { state, text } = eventId === undefined ? { state: overall, text: LABELS[overall] } : describeEvent(event, now);
  return (
    <span role="status" className={classNames('tp-connection-status', className)} data-state={state}>
      <span className="tp-connection-status__dot" aria-hidden="true" />
      {text}
    </span>
  );
});
