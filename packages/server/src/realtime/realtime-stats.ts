import type { RealtimeStats } from '@ticketpulse/protocol';

/** What one node (or one worker of `start --workers`) is watching: GET /api/realtime/stats adds these up. */
export interface Watching {
  connections: number;
  /** The ids, not a count: two workers watching the same event watch one event. */
  watchedEventIds: string[];
  /** Subscribed connections per event id. */
  viewers: Record<string, number>;
}

/** The figures of GET /api/realtime/stats over one or several nodes' parts. */
export function realtimeStatsOf(parts: readonly Watching[]): RealtimeStats {
  const watched = new Set<string>();
  const viewers: Record<string, number> = {};
  let connections = 0;
  for (const part of parts) {
    connections += part.connections;
    for (const id of part.watchedEventIds) watched.add(id);
    for (const [id, count] of Object.entries(part.viewers)) viewers[id] = (viewers[id] ?? 0) + count;
  }
  return { connections, watchedEvents: watched.size, viewers };
}
