// Prints an event's live ticket counts: @ticketpulse/client in plain Node.
//
//   node watch.mjs [event id or slug]      (TICKETPULSE_URL, default http://localhost:3000)
import { TicketAvailabilityManager } from '@ticketpulse/client';
import WebSocket from 'ws';

const url = process.env.TICKETPULSE_URL ?? 'http://localhost:3000';
const eventId = process.argv[2] ?? 'midnight-jazz-session';

// The demo mints tokens for anyone; your app passes the JWT of its signed-in user instead.
async function getToken() {
  const response = await fetch(`${url}/api/auth/dev-token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ role: 'anon' }),
  });
  if (!response.ok) throw new Error(`POST /api/auth/dev-token answered ${response.status}: is ${url} a demo (ticketpulse start --demo)?`);
  return (await response.json()).token;
}

// Node 20 has no WebSocket of its own: the SDK takes the `ws` package's (browsers and Node 22+ need none).
const manager = new TicketAvailabilityManager({ url, getToken, WebSocket });

manager.subscribeToEvent(eventId, (state) => {
  if (state.error) console.error(`${eventId}: ${state.error.code}: ${state.error.message}`);
  if (state.availability.size === 0) return;
  const counts = [...state.availability.values()].map(
    (ticket) => `${ticket.ticketTypeName}: ${ticket.isUnlimited ? 'unlimited' : `${ticket.actualAvailable} left`}`,
  );
  console.log(`${new Date().toLocaleTimeString()}  v${state.version}  ${counts.join(', ')}`);
});
manager.onTransition(({ kind, ticket }) => console.log(`  ${kind}: ${ticket.ticketTypeName}`));

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    manager.cleanup();
    process.exit(0);
  });
}
