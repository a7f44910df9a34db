import { TicketAvailabilityManager, type ReconnectOptions } from '@ticketpulse/client';
import WebSocket from 'ws';
import { showsExactly, type TicketCounts } from './database-truth.ts';
import { eventually } from './viewer.ts';

export interface SdkViewerOptions {
  url: string;
  getToken: () => Promise<string>;
  eventId: string;
  count: number;
  /** Backoff of the SDK's reconnects; full jitter is the SDK's own. */
  reconnect?: ReconnectOptions;
}

/** Real SDK managers on Node (ws as WebSocket), each watching one event, as many browsers would. */
export class SdkViewers {
  readonly managers: TicketAvailabilityManager[] = [];

  constructor(private readonly options: SdkViewerOptions) {}

  /** Opens the viewers a few at a time, so the gateway's per-IP admission is not what is tested. */
  async open(batch = 50): Promise<void> {
    const { url, getToken, eventId, reconnect = { baseMs: 100, capMs: 2000 } } = this.options;
    for (let i = 0; i < this.options.count; i += batch) {
      const opened: TicketAvailabilityManager[] = [];
      for (let j = i; j < Math.min(i + batch, this.options.count); j += 1) {
        const manager = new TicketAvailabilityManager({ url, getToken, WebSocket, debounceMs: 10, reconnect });
        manager.subscribeToEvent(eventId, () => {});
        opened.push(manager);
      }
      this.managers.push(...opened);
      await eventually(() => opened.every((m) => m.getConnectionStatus(eventId) === 'connected'), 'the viewers to connect', 30_000);
    }
  }

  /** How many show exactly the database's counts. */
  exact(truth: Map<string, TicketCounts>): number {
    return this.managers.filter((m) => showsExactly((id) => m.getTicketAvailability(this.options.eventId, id), truth)).length;
  }

  /** Successful connects over all viewers (1 each before any fault). */
  connects(): number {
    return this.managers.reduce((sum, m) => sum + m.getStats().connectSuccesses, 0);
  }

  connected(): number {
    return this.managers.filter((m) => m.getConnectionStatus(this.options.eventId) === 'connected').length;
  }

  close(): void {
    for (const manager of this.managers.splice(0)) manager.cleanup();
  }
}
