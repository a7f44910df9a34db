/**
 * Viewers that are the real client SDK: one TicketAvailabilityManager per
 * viewer, with its own reconnect (jittered backoff), resubscribe
 * by version and polling fallback, on the `ws` package (Node 20 has no global
 * WebSocket) bound to this process's loopback address (or the viewer's own).
 * A viewer counts as in sync only while its socket is connected and its state
 * is the database's.
 */
import { TicketAvailabilityManager, type AnalyticsEvent, type WebSocketConstructor } from '@ticketpulse/client';
import WebSocket from 'ws';
import { serve, type Command, type Reply } from '../harness/ipc.ts';
import { answer, ViewerCounters, type CheckedViewer, type ViewerCommand } from '../harness/viewer-process.ts';
import { viewerAddress, watchedBy, type ViewersInit } from '../harness/viewer-fleet.ts';
import { workerInit } from '../harness/workers.ts';

/** Reconnects since the last reset: when each completed (epoch ms), and what it took. */
export interface ReconnectsReply extends Reply {
  at: number[];
  connectAttempts: number;
  /** Viewers that fell back to HTTP polling at some point. */
  polled: number;
  errors: Record<string, number>;
  /** This client process's CPU time since the reset, to tell a slow server from slow clients. */
  cpuMs: number;
  /** Connections that had opened and then closed since the reset, by the close code the viewer saw (1006: no close frame reached it). */
  closeCodes: Record<string, number>;
}

const init = await workerInit<ViewersInit>();
const counters = new ViewerCounters();
let reconnectedAt: number[] = [];
let polled = new Set<number>();
let cpuAtReset = process.cpuUsage();
let closeCodes: Record<string, number> = {};

/** `ws`, opened from `localAddress`; counts the close code of every connection that had opened. */
function boundTo(localAddress: string): WebSocketConstructor {
  return class LocalWebSocket extends WebSocket {
    constructor(url: string) {
      super(url, { localAddress, perMessageDeflate: false });
      this.once('open', () => this.once('close', (code: number) => (closeCodes[code] = (closeCodes[code] ?? 0) + 1)));
    }
  };
}

class Viewer implements CheckedViewer {
  readonly manager: TicketAvailabilityManager;
  private stops: Array<() => void> = [];

  constructor(
    readonly index: number,
    readonly events: string[],
  ) {
    this.manager = new TicketAvailabilityManager({
      url: init.url,
      getToken: () => init.token,
      WebSocket: boundTo(init.addressPerViewer ? viewerAddress(index) : init.localAddress),
      onEvent: (event: AnalyticsEvent) => {
        if (event.type === 'reconnected') reconnectedAt.push(Date.now());
        if (event.type === 'polling_started') polled.add(this.index);
      },
    });
  }

  async open(): Promise<string | undefined> {
    this.stops = this.events.map((id) => this.manager.subscribeToEvent(id, () => {}));
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (this.events.every((id) => this.view(id))) return undefined;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return `not connected: ${this.events.map((id) => this.manager.getConnectionStatus(id)).join(', ')}`;
  }

  view(eventId: string) {
    const state = this.manager.getEventState(eventId);
    return state.status === 'connected' && state.version > 0 ? { version: state.version, tickets: state.availability } : undefined;
  }

  missing(eventId: string): string {
    const state = this.manager.getEventState(eventId);
    const stats = this.manager.getStats();
    return `status ${state.status}, version ${state.version}, error ${state.error?.code ?? 'none'}, mode ${stats.mode}, errors ${JSON.stringify(stats.errorsByType)}`;
  }

  close(): void {
    for (const stop of this.stops) stop();
    this.manager.cleanup();
  }
}

const viewers = Array.from({ length: init.count }, (_, i) => new Viewer(init.offset + i, watchedBy(init.watch, init.offset + i)));

type SdkCommand = ViewerCommand | (Command & { type: 'reconnects' });

serve<SdkCommand>((command) => {
  if (command.type === 'reconnects') {
    const errors: Record<string, number> = {};
    let connectAttempts = 0;
    for (const v of viewers) {
      const stats = v.manager.getStats();
      connectAttempts += stats.connectAttempts;
      for (const [code, n] of Object.entries(stats.errorsByType)) errors[code] = (errors[code] ?? 0) + n;
    }
    const cpu = process.cpuUsage(cpuAtReset);
    const reply: Omit<ReconnectsReply, 'id'> = { at: reconnectedAt, connectAttempts, polled: polled.size, errors, cpuMs: (cpu.user + cpu.system) / 1000, closeCodes };
    return reply;
  }
  if (command.type === 'reset') {
    reconnectedAt = [];
    polled = new Set();
    cpuAtReset = process.cpuUsage();
    closeCodes = {};
  }
  return answer(viewers, counters, command, () => {
    for (const viewer of viewers) viewer.close();
  });
});
