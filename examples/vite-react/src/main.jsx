import { TicketPulseProvider } from '@ticketpulse/react';
import '@ticketpulse/react/styles.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { TicketSelection } from './ticket-selection.jsx';

// The demo mints tokens for anyone; your app passes the JWT of its signed-in user instead.
async function getToken() {
  const response = await fetch('/api/auth/dev-token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ role: 'anon' }),
  });
  if (!response.ok) throw new Error(`POST /api/auth/dev-token answered ${response.status}`);
  return (await response.json()).token;
}

const options = {
  url: window.location.origin,
  getToken,
  // Called as a plain function: the browser refuses window.fetch with the SDK as `this`.
  fetch: (input, init) => fetch(input, init),
};
const eventId = new URLSearchParams(window.location.search).get('event') ?? 'midnight-jazz-session';

createRoot(document.getElementById('root')).render(
  <StrictMode>
    <TicketPulseProvider options={options}>
      <TicketSelection eventId={eventId} />
    </TicketPulseProvider>
  </StrictMode>,
);
