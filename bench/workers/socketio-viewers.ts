/**
 * Baseline viewers: socket.io-client over WebSocket, many per process, each
 * joining its events' rooms and keeping the newest counts it was sent.
 */
import { io, type Socket } from 'socket.io-client';
import type { AvailabilityChange } from '../baselines/socket-io-server.ts';
import type { Counts } from '../harness/expected-state.ts';
import { BaseViewer, serveViewers, settleOnce, ViewerCounters } from '../harness/viewer-process.ts';
import type { ViewersInit } from '../harness/viewer-fleet.ts';
import { workerInit } from '../harness/workers.ts';

const init = await workerInit<ViewersInit>();
const counters = new ViewerCounters();

class Viewer extends BaseViewer<Counts> {
  private socket: Socket | undefined;

  open(): Promise<string | undefined> {
    return new Promise((resolve) => {
      const socket = io(init.url, { transports: ['websocket'], reconnection: false, forceNew: true, localAddress: init.localAddress } as Parameters<typeof io>[1]);
      this.socket = socket;
      const done = settleOnce(resolve);
      // engine.io's "websocket error" carries the socket's own error (ECONNRESET, ...) as its description.
      socket.on('connect_error', (error: Error & { description?: { message?: unknown } }) => done([error.message, error.description?.message].filter(Boolean).join(': ')));
      socket.on('disconnect', (reason) => {
        if (!this.closing) counters.closes += 1;
        done(`disconnected: ${reason}`);
      });
      socket.on('connect', () => socket.emit('join', this.events));
      socket.on('availability', (change: AvailabilityChange) => {
        const joined = this.views.size === this.events.length;
        this.receive(change, joined);
        if (this.views.size === this.events.length) done();
      });
    });
  }

  /** The first message per event is the join's snapshot; later ones are changes. */
  private receive(change: AvailabilityChange, joined: boolean): void {
    const view = this.views.get(change.eventId);
    if (view && joined) {
      counters.messages += 1;
      counters.updates += 1;
      counters.latency.record(Date.now() - Date.parse(change.committedAt));
    }
    if (view && change.version <= view.version) return;
    this.views.set(change.eventId, { version: change.version, tickets: new Map(change.tickets.map((t) => [t.ticketTypeId, t])) });
  }

  protected disconnect(): void {
    this.socket?.disconnect();
  }
}

serveViewers(init, counters, (events) => new Viewer(events));
