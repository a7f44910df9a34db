import type { REALTIME_SUBSCRIBE_STATES, RealtimeChannel, RealtimePostgresChangesPayload, SupabaseClient } from '@supabase/supabase-js';
import { byDisplayOrder, type TicketAvailability } from '@ticketpulse/protocol';
import { Backoff } from '../backoff.ts';
import type { TransportSink } from '../types.ts';
import { eventGate, fromTicketRow, fromViewRow, type AvailabilityViewRow, type EventGate, type EventTicketRow } from './availability-rows.ts';

/**
 * Channel names are unique per watch: supabase-js hands back an existing
 * channel of the same name, and the app may run the design's own
 * `event-<id>-tickets` (or another manager the same event) on this client.
 */
let channelCount = 0;

/**
 * One event on a Supabase project: a postgres_changes channel on its
 * event_tickets rows, and ticket_availability_view read each time the channel
 * joins, the first time and after every reconnect, so nothing that changed
 * while it was away is missed.
 *
 * An event_tickets change is turned into the view's row here, not re-read:
 * a read per change per viewer is the load Supabase's per-subscriber checks
 * already cap. Everything in the view but the event's own status comes from
 * the row, computed exactly as the view does; the event's status comes from
 * the last read. When that read could not tell it (every type paused), the
 * change makes a read instead. Pausing, ending or cancelling the event itself
 * changes no event_tickets row, so no channel hears it: it shows at the next
 * read.
 */
export class SupabaseEventWatch {
  private tickets = new Map<string, TicketAvailability>();
  private gate: EventGate | undefined;
  /** Rises with every snapshot sent: the manager keeps the newest. */
  private version = 0;
  private channel: RealtimeChannel | undefined;
  private joined = false;
  private reading = false;
  private readAgain = false;
  /** Types the channel changed since the current read began: the version it brought (Infinity for a delete). */
  private readonly recent = new Map<string, number>();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private readonly backoff = new Backoff(1000, 30_000);
  private stopped = false;

  constructor(
    private readonly supabase: SupabaseClient,
    private readonly eventId: string,
    private readonly sink: TransportSink,
  ) {
    this.open();
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    if (this.channel) void this.supabase.removeChannel(this.channel);
  }

  private open(): void {
    const channel = this.supabase.channel(`ticketpulse-${this.eventId}-${++channelCount}`).on(
      'postgres_changes',
      { event: '*', schema: 'public', table: 'event_tickets', filter: `event_id=eq.${this.eventId}` },
      (payload: RealtimePostgresChangesPayload<EventTicketRow>) => {
        if (!this.stopped && this.channel === channel) this.changed(payload);
      },
    );
    this.channel = channel;
    channel.subscribe((status: `${REALTIME_SUBSCRIBE_STATES}`) => {
      if (!this.stopped && this.channel === channel) this.subscription(status);
    });
  }

  private subscription(status: `${REALTIME_SUBSCRIBE_STATES}`): void {
    switch (status) {
      case 'SUBSCRIBED':
        this.joined = true;
        this.backoff.reset();
        // Read once the channel is in place, so no change falls between the read and the first message.
        return this.read();
      case 'CHANNEL_ERROR':
      case 'TIMED_OUT':
        // supabase-js rejoins by itself (after its socket reconnects, if that is what dropped).
        this.joined = false;
        return this.sink.status('reconnecting');
      case 'CLOSED':
        // The server closed the channel (its token expired, say): supabase-js never rejoins a closed channel.
        this.joined = false;
        this.sink.status('reconnecting');
        return this.later(() => this.open());
    }
  }

  /** Reads the view; while a read is under way, once more after it (it may have begun before what asks for this one). */
  private read(): void {
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = true;
    this.recent.clear();
    void this.load().finally(() => {
      this.reading = false;
      if (this.readAgain && !this.stopped) {
        this.readAgain = false;
        this.read();
      }
    });
  }

  private async load(): Promise<void> {
    const { data, error } = await this.supabase.from('ticket_availability_view').select('*').eq('event_id', this.eventId);
    if (this.stopped) return;
    if (error) {
      this.sink.error('load_failed', error.message);
      // Not joined: the next SUBSCRIBED reads anyway.
      if (this.joined) this.later(() => this.read());
      return;
    }
    const rows = data as AvailabilityViewRow[];
    this.gate = eventGate(rows);
    const next = new Map<string, TicketAvailability>();
    for (const row of rows) {
      const read = fromViewRow(row);
      const seen = this.recent.get(read.ticketTypeId);
      // The channel brought this type's newer state (or its removal) while the view was read.
      const kept = seen !== undefined && seen >= read.version ? this.tickets.get(read.ticketTypeId) : read;
      if (kept) next.set(read.ticketTypeId, kept);
    }
    // Types the channel added while the view was read.
    for (const id of this.recent.keys()) {
      const added = this.tickets.get(id);
      if (added && !next.has(id)) next.set(id, added);
    }
    this.tickets = next;
    this.send();
    if (this.joined) this.sink.status('connected');
  }

  private changed(payload: RealtimePostgresChangesPayload<EventTicketRow>): void {
    if (payload.eventType === 'DELETE') {
      const id = payload.old.id;
      if (id === undefined) return;
      this.recent.set(id, Infinity);
      if (!this.tickets.delete(id)) return;
    } else {
      const row = payload.new;
      const current = this.tickets.get(row.id);
      if (current && current.version >= row.version) return; // a read already had it
      if (row.status === 'hidden') {
        this.recent.set(row.id, row.version);
        if (!this.tickets.delete(row.id)) return;
      } else if (this.gate === undefined) {
        return this.read(); // only the view knows whether the event itself is paused
      } else {
        this.recent.set(row.id, row.version);
        this.tickets.set(row.id, fromTicketRow(row, this.gate));
      }
    }
    this.send(payload.commit_timestamp);
  }

  private send(committedAt?: string): void {
    this.version += 1;
    const tickets = [...this.tickets.values()].sort(byDisplayOrder);
    this.sink.snapshot({ eventId: this.eventId, version: this.version, tickets }, committedAt);
  }

  private later(fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.stopped) fn();
    }, this.backoff.next());
    this.timers.add(timer);
  }
}
