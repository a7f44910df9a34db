import type { EventSummary } from './types.ts';

const PREFIX = 'ticketpulse.event.';

/** The last event details seen, so a reload while offline still shows what the event is. */
export function rememberEvent(event: EventSummary): void {
  try {
    localStorage.setItem(PREFIX + event.slug, JSON.stringify(event));
  } catch {
    // Full or unavailable: the cache is a convenience.
  }
}

export function recallEvent(slug: string): EventSummary | undefined {
  try {
    const raw = localStorage.getItem(PREFIX + slug);
    return raw ? (JSON.parse(raw) as EventSummary) : undefined;
  } catch {
    return undefined;
  }
}
