import type { AvailabilitySnapshot } from '@ticketpulse/protocol';
import type { FetchLike } from '../types.ts';

export interface PollTarget {
  /** An event id or slug. */
  key: string;
  /** The version we have; sent as If-None-Match so unchanged events cost a 304. */
  version: number;
}

export interface PollerOptions {
  url: string;
  fetch: FetchLike;
  getToken: () => string | Promise<string>;
  intervalMs: number;
  targets: () => PollTarget[];
  snapshot(key: string, snapshot: AvailabilitySnapshot): void;
  unchanged(key: string): void;
  failed(key: string, status: number | undefined): void;
}

/** The fallback when the WebSocket cannot connect: GET each event's availability with its ETag. */
export class Poller {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private active = false;

  constructor(private readonly options: PollerOptions) {}

  get isActive(): boolean {
    return this.active;
  }

  start(): void {
    if (this.active) return;
    this.active = true;
    void this.poll();
  }

  stop(): void {
    this.active = false;
    clearTimeout(this.timer);
  }

  private async poll(): Promise<void> {
    const { options } = this;
    let token: string | undefined;
    try {
      token = await options.getToken();
    } catch {
      token = undefined;
    }
    await Promise.all(
      options.targets().map(async ({ key, version }) => {
        const headers: Record<string, string> = {};
        if (token) headers.authorization = `Bearer ${token}`;
        if (version > 0) headers['if-none-match'] = `"${version}"`;
        try {
          const response = await options.fetch(`${options.url}/api/events/${encodeURIComponent(key)}/availability`, { headers });
          if (!this.active) return;
          if (response.status === 304) options.unchanged(key);
          else if (response.ok) options.snapshot(key, (await response.json()) as AvailabilitySnapshot);
          else options.failed(key, response.status);
        } catch {
          if (this.active) options.failed(key, undefined);
        }
      }),
    );
    if (this.active) this.timer = setTimeout(() => void this.poll(), options.intervalMs);
  }
}
