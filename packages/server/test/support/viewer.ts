import type { AvailabilitySnapshot, AvailabilityUpdate, ServerMessage, TicketAvailability } from '@ticketpulse/protocol';
import type { TestSocket } from './realtime-client.ts';

/**
 * What a correct client keeps for one event: apply updates on exactly their
 * base version, drop stale ones, count gaps. Tests compare it with the database.
 */
export class EventView {
  version = 0;
  tickets = new Map<string, TicketAvailability>();
  updates = 0;
  gaps = 0;

  constructor(readonly eventId: string) {}

  load(snapshot: AvailabilitySnapshot): void {
    this.version = snapshot.version;
    this.tickets = new Map(snapshot.tickets.map((t) => [t.ticketTypeId, t]));
  }

  apply(update: AvailabilityUpdate): void {
    if (update.eventId !== this.eventId || update.version <= this.version) return;
    if (!update.snapshot && update.previousVersion !== this.version) {
      this.gaps += 1;
      return;
    }
    if (update.snapshot) this.tickets.clear();
    for (const t of update.tickets) this.tickets.set(t.ticketTypeId, t);
    for (const id of update.removedTicketTypeIds) this.tickets.delete(id);
    this.version = update.version;
    this.updates += 1;
  }

  ticket(ticketTypeId: string): TicketAvailability | undefined {
    return this.tickets.get(ticketTypeId);
  }
}

/** Subscribes `socket` to an event and keeps an EventView of it up to date. */
export async function watch(socket: TestSocket, eventId: string): Promise<EventView> {
  const view = new EventView(eventId);
  const answer = await socket.subscribe(eventId);
  if (answer.type !== 'subscribed' || !answer.snapshot) throw new Error(`subscribe failed: ${JSON.stringify(answer)}`);
  view.load(answer.snapshot);
  socket.ws.on('message', (data) => {
    const message = JSON.parse(data.toString()) as ServerMessage;
    if (message.type === 'updates') for (const update of message.updates) view.apply(update);
  });
  return view;
}

/** Waits until `check` holds, polling; fails with `what` after `timeoutMs`. */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
