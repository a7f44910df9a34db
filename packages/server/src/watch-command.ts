import type { ServerMessage, TicketAvailability } from '@ticketpulse/protocol';
import WebSocket from 'ws';

export interface WatchOptions {
  /** The service's base URL, e.g. http://localhost:3000. */
  url: string;
  /** An event id or slug. */
  event: string;
  /** A JWT; without one, a dev token is requested (works when TICKETPULSE_DEV_AUTH=1). */
  token: string | undefined;
  print: (line: string) => void;
}

async function devToken(url: string): Promise<string> {
  const response = await fetch(`${url}/api/auth/dev-token`, { method: 'POST' });
  if (!response.ok) throw new Error(`no token given and ${url} issues no dev tokens (HTTP ${response.status}); pass --token`);
  return ((await response.json()) as { token: string }).token;
}

const time = (iso: string) => iso.slice(11, 19);

function describe(t: TicketAvailability): string {
  const left = t.isUnlimited ? 'unlimited' : t.availableCount === null ? t.status : `${t.availableCount} left`;
  const counts = t.soldCount === null ? '' : ` (${t.soldCount} sold, ${t.reservedCount} held)`;
  return `${t.ticketTypeName.padEnd(22)} ${left.padStart(10)}${counts}  ${t.status}`;
}

/** Prints an event's availability, then every change as it happens, until interrupted. */
export async function watchEvent({ url, event, token, print }: WatchOptions): Promise<void> {
  const jwt = token ?? (await devToken(url));
  const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/realtime?token=${encodeURIComponent(jwt)}`);
  socket.on('open', () => socket.send(JSON.stringify({ type: 'subscribe', eventId: event })));
  socket.on('message', (data) => {
    const message = JSON.parse(data.toString()) as ServerMessage;
    if (message.type === 'subscribed' && message.snapshot) {
      print(`${time(message.serverTime)}  v${message.version}  ${event}`);
      for (const t of message.snapshot.tickets) print(`  ${describe(t)}`);
    } else if (message.type === 'updates') {
      for (const update of message.updates) {
        for (const t of update.tickets) print(`${time(message.serverTime)}  v${update.version}  ${describe(t)}`);
      }
    } else if (message.type === 'error') {
      print(`error: ${message.code}: ${message.message}`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    socket.on('close', (code, reason) => {
      print(`connection closed (${code}${reason.length ? `: ${reason.toString()}` : ''})`);
      resolve();
    });
    socket.on('error', reject);
  });
}
