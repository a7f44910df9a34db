// TicketPulse's SDK on supabase-js: the manager reads ticket_availability_view
// and follows event_tickets changes through your own Supabase client.
//
//   node watch.mjs [event id]
//
// SUPABASE_URL and SUPABASE_KEY name the project. Unset, they point at a
// TicketPulse demo (http://localhost:3000), which speaks the same protocol:
// its dev tokens are the key, and an event's slug is looked up in its API.
import { createClient } from '@supabase/supabase-js';
import { TicketAvailabilityManager } from '@ticketpulse/client';
import { SupabaseTransport } from '@ticketpulse/client/supabase';
import WebSocket from 'ws';

const url = process.env.SUPABASE_URL ?? 'http://localhost:3000';

async function demo(path, init) {
  const response = await fetch(`${url}${path}`, init);
  if (!response.ok) throw new Error(`${path} answered ${response.status}: set SUPABASE_URL and SUPABASE_KEY, or start a TicketPulse demo at ${url}`);
  return response.json();
}
const key =
  process.env.SUPABASE_KEY ??
  (await demo('/api/auth/dev-token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ role: 'anon' }) })).token;
const eventId = process.argv[2] ?? (await demo('/api/events/midnight-jazz-session/availability')).eventId;

const supabase = createClient(url, key, {
  auth: { persistSession: false },
  realtime: { transport: WebSocket }, // Node 20 has no WebSocket of its own; browsers and Node 22+ need no transport
});
const manager = new TicketAvailabilityManager({ transport: new SupabaseTransport(supabase) });

manager.subscribeToEvent(eventId, (state) => {
  if (state.error) console.error(`${eventId}: ${state.error.code}: ${state.error.message}`);
  const tickets = [...state.availability.values()];
  if (tickets.length > 0) console.log(`${state.status}  ${tickets.map((t) => `${t.ticketTypeName}: ${t.isUnlimited ? 'unlimited' : `${t.actualAvailable} left`}`).join(', ')}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, async () => {
    manager.cleanup();
    await supabase.removeAllChannels();
    process.exit(0);
  });
}
