import type { ServerMessage, TicketAvailability } from '@ticketpulse/protocol';
import WebSocket from 'ws';
import { ConfigError } from './config.ts';

export interface WatchOptions {
  /** The service's base URL, e.g. http://localhost:3000. */
  url: string;
  /** An event id or slug. */
  event: string;
  /** A JWT; without one, a dev token is requested (works when TICKETPULSE_DEV_AUTH=1). */
  token: string | undefined;
  print: (line: string) => void;
}

/** The service is not there: one line naming the option, as for a database that cannot be reached. */
function unreachable(url: string, error: unknown): ConfigError {
  // fetch's own message is only "fetch failed": the reason is its cause's (an AggregateError, for both of localhost's addresses, has only a code).
  const cause = (error as { cause?: { message?: string; code?: string } }).cause;
  return new ConfigError(`cannot reach the service at ${url} (--url): ${cause?.message || cause?.code || (error as Error).message}`);
}

async function devToken(url: string): Promise<string> {
  const response = await fetch(`${url}/api/auth/dev-token`, { method: 'POST' }).catch((error: unknown) => {
    throw unreachable(url, error);
  });
  if (!response.ok) throw new ConfigError(`no token given and ${url} issues no dev tokens (HTTP ${response.status}); pass --token`);
  return ((await response.json()) as { token: string }).token;
}

/** Subscription errors after which there is nothing to watch. */
const FINAL_ERRORS = new Set(['event_not_found', 'forbidden']);

const time = (iso: string) => iso.slice(11, 19);

function describe(t: TicketAvailability): string {
  const left = t.isUnlimited ? 'unlimited' : t.availableCount === null ? t.status : `${t.availableCount} left`;
  const counts = t.soldCount === null ? '' : ` (${t.soldCount} sold, ${t.reservedCount} held)`;
  return `${t.ticketTypeName.padEnd(22)} ${left.padStart(10)}${counts}  ${t.status}`;
}

/**
 * Prints an event's availability, then every change as it happens, until interrupted.
 * It ends only by failing (a ConfigError, one line: exit code 1): the service unreachable,
 * the event not there to watch, or the connection closed by the service (a refused token).
 */
export async function watchEvent({ url, event, token, print }: WatchOptions): Promise<void> {
  const jwt = token ?? (await devToken(url));
  let fail!: (error: ConfigError) => void;
  const ended = new Promise<void>((_resolve, reject) => (fail = reject));
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
    } else if (message.type === 'error' && FINAL_ERRORS.has(message.code)) {
      fail(new ConfigError(`cannot watch ${event}: ${message.code}: ${message.message}`));
      socket.terminate();
    } else if (message.type === 'error') {
      print(`error: ${message.code}: ${message.message}`);
    }
  });
  socket.on('close', (code, reason) => fail(new ConfigError(`the service closed the connection (${code}${reason.length ? `: ${reason.toString()}` : ''})`)));
  socket.on('error', (error) => fail(unreachable(url, error)));
  await ended;
}
