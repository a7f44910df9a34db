import type { ServerClock } from '../server-clock.ts';
import type { AnalyticsEvent, FetchLike } from '../types.ts';
import type { EventChannel } from './event-channel.ts';
import { Poller } from './poller.ts';

/** Default for `pollIntervalMs`: availability, and a waiting-room entry until its first answer names a pace. */
export const POLL_INTERVAL_MS = 5000;

export interface PollingFallbackOptions {
  url: string;
  fetch: FetchLike;
  getToken: () => string | Promise<string>;
  intervalMs: number;
  /** Failed connects in a row before polling starts. */
  afterFailures: number;
  report(event: AnalyticsEvent): void;
  channels(): Iterable<EventChannel>;
  clock: ServerClock;
}

/** Polls every watched event over HTTP while the WebSocket cannot connect, and says so to analytics. */
export class PollingFallback {
  private readonly poller: Poller;

  constructor(private readonly options: PollingFallbackOptions) {
    const find = (key: string) => [...options.channels()].find((channel) => channel.is(key));
    const { url, fetch, getToken, intervalMs } = options;
    this.poller = new Poller({
      url,
      fetch,
      getToken,
      intervalMs,
      targets: () => [...options.channels()].map((channel) => channel.pollTarget),
      snapshot: (key, snapshot) => {
        options.clock.observe(snapshot.serverTime);
        find(key)?.polled(snapshot);
      },
      unchanged: (key) => find(key)?.polled(undefined),
      failed: (key, status) => {
        if (status === 404 || status === 403) find(key)?.fail('event_not_found', 'Event not found');
      },
    });
  }

  get isActive(): boolean {
    return this.poller.isActive;
  }

  /** After a failed connect: starts polling once enough failed in a row. True when it started now. */
  socketFailed(failures: number): boolean {
    if (failures < this.options.afterFailures || this.poller.isActive) return false;
    this.poller.start();
    this.options.report({ type: 'polling_started' });
    return true;
  }

  stop(): void {
    if (!this.poller.isActive) return;
    this.poller.stop();
    this.options.report({ type: 'polling_stopped' });
  }
}
