import type { AvailabilityStorage } from './types.ts';
import type { EventSnapshot, WatchedEvent } from './watched-event.ts';

interface CachedEvent {
  snapshot: EventSnapshot;
  savedAt: number;
}

/** The last confirmed snapshot of each event, in the app's storage, so a reload while offline shows something. */
export class AvailabilityCache {
  constructor(private readonly storage: AvailabilityStorage | undefined) {}

  save(event: WatchedEvent): void {
    if (!this.storage) return;
    const cached: CachedEvent = {
      snapshot: { eventId: event.eventId, version: event.version, tickets: event.serverTickets() },
      savedAt: event.lastUpdated ?? Date.now(),
    };
    void Promise.resolve(this.storage.setItem(`event:${event.key}`, JSON.stringify(cached))).catch(() => {});
  }

  /** Loads the cached snapshot, marked stale, unless the server answered first. True when it did load. */
  async restore(event: WatchedEvent): Promise<boolean> {
    if (!this.storage) return false;
    try {
      const raw = await this.storage.getItem(`event:${event.key}`);
      if (!raw || event.version > 0) return false;
      const cached = JSON.parse(raw) as CachedEvent;
      event.load(cached.snapshot, true);
      event.lastUpdated = cached.savedAt;
      return true;
    } catch {
      // A corrupt cache entry is ignored; the server's answer replaces it.
      return false;
    }
  }
}
