/**
 * TicketPulse viewers over raw WebSockets, many per process. Each keeps its
 * own copy of what it watches, by the protocol's rules (docs/protocol.md
 * section 3), and records commit-to-client latency from each update's
 * `committedAt`. Frames that many viewers receive alike are parsed once per
 * process: the viewers here stand in for separate browsers, and parsing is
 * not what is measured. Waiting-room viewers also count the `queue` and
 * `queue_entry` frames they get (bench/harness/queue-frames.ts).
 */
import type { AvailabilityUpdate, ServerMessage, TicketAvailability } from '@ticketpulse/protocol';
import WebSocket from 'ws';
import { QueueWatch } from '../harness/queue-frames.ts';
import { BaseViewer, serveViewers, settleOnce, ViewerCounters } from '../harness/viewer-process.ts';
import type { ViewersInit } from '../harness/viewer-fleet.ts';
import { workerInit } from '../harness/workers.ts';

const init = await workerInit<ViewersInit>();
const counters = new ViewerCounters();

/** The last frame parsed in this process, and its updates' commit times. */
let lastData: Buffer | undefined;
let lastMessage: ServerMessage | undefined;
let lastCommitted: number[] = [];

function parse(data: Buffer): ServerMessage {
  if (lastData && lastData.length === data.length && lastData.equals(data)) return lastMessage!;
  const message = JSON.parse(data.toString()) as ServerMessage;
  lastData = data;
  lastMessage = message;
  lastCommitted = message.type === 'updates' ? message.updates.map((u) => Date.parse(u.committedAt)) : [];
  return message;
}

class Viewer extends BaseViewer<TicketAvailability> {
  private ws: WebSocket | undefined;
  private readonly queue = new QueueWatch(counters.queue);

  constructor(
    events: string[],
    private readonly token: string,
  ) {
    super(events);
    counters.queueWatches.push(this.queue);
  }

  /** Connects and subscribes; resolves once every snapshot is in (or with the reason it failed). */
  open(): Promise<string | undefined> {
    return new Promise((resolve) => {
      const url = new URL('/realtime', init.url.replace(/^http/, 'ws'));
      url.searchParams.set('token', this.token);
      const ws = new WebSocket(url, { localAddress: init.localAddress, perMessageDeflate: false });
      this.ws = ws;
      const done = settleOnce(resolve);
      ws.on('error', (error) => done(error.message));
      ws.on('unexpected-response', (_req, res) => done(`HTTP ${res.statusCode}`));
      ws.on('close', (code) => {
        if (!this.closing) counters.closes += 1;
        done(`closed ${code}`);
      });
      ws.on('message', (data: Buffer) => {
        const message = parse(data);
        this.receive(message);
        if (message.type === 'subscribed' && this.views.size === this.events.length) done();
        if (message.type === 'error') done(`error ${message.code}`);
      });
      ws.on('open', () => {
        for (const eventId of this.events) ws.send(JSON.stringify({ type: 'subscribe', eventId }));
      });
    });
  }

  private receive(message: ServerMessage): void {
    switch (message.type) {
      case 'subscribed':
        if (message.snapshot) this.views.set(message.eventId, { version: message.snapshot.version, tickets: new Map(message.snapshot.tickets.map((t) => [t.ticketTypeId, t])) });
        return;
      case 'updates': {
        counters.messages += 1;
        const now = Date.now();
        message.updates.forEach((update, i) => {
          counters.updates += 1;
          counters.latency.record(now - lastCommitted[i]!);
          this.apply(update);
        });
        return;
      }
      case 'queue':
        this.queue.frame(message, Date.now());
        return;
      case 'queue_entry':
        this.queue.entry(message);
        return;
      case 'error':
        counters.error(message.code);
        return;
      default:
        return;
    }
  }

  private apply(update: AvailabilityUpdate): void {
    const view = this.views.get(update.eventId);
    if (!view || update.version <= view.version) return;
    if (!update.snapshot && update.previousVersion !== view.version) {
      counters.gaps += 1;
      this.ws?.send(JSON.stringify({ type: 'subscribe', eventId: update.eventId, sinceVersion: view.version }));
      return;
    }
    if (update.snapshot) view.tickets.clear();
    for (const t of update.tickets) view.tickets.set(t.ticketTypeId, t);
    for (const id of update.removedTicketTypeIds) view.tickets.delete(id);
    view.version = update.version;
  }

  protected disconnect(): void {
    this.ws?.terminate();
  }
}

serveViewers(init, counters, (events, token) => new Viewer(events, token));
