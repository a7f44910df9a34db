import type { SupabaseClient } from '@supabase/supabase-js';
import type { AvailabilityTransport, TransportSink } from '../types.ts';
import { SupabaseEventWatch } from './supabase-event-watch.ts';

/**
 * Watches events on a Supabase project (or a TicketPulse server's
 * Supabase-compatible endpoint) with the app's own supabase-js client:
 *
 *   new TicketAvailabilityManager({ transport: new SupabaseTransport(supabase) })
 *
 * Events are addressed by id (ticket_availability_view has no slugs). The
 * project needs TicketPulse's migrations and packages/server/supabase/supabase-project.sql.
 */
export class SupabaseTransport implements AvailabilityTransport {
  constructor(private readonly supabase: SupabaseClient) {}

  watch(eventId: string, sink: TransportSink): () => void {
    const watch = new SupabaseEventWatch(this.supabase, eventId, sink);
    return () => watch.stop();
  }
}
