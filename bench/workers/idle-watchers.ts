/**
 * The idle-latency scenario's two viewers of one quiet event, in a process of
 * their own: the client SDK (TicketAvailabilityManager, default debounce) and
 * supabase-js on the Supabase-compatible endpoint (an event_tickets UPDATE
 * subscription, as in the user's design). Each records when it first saw each
 * reserved count, on the clock every process of this machine shares, and the
 * commit time the server gave for it: the update's committedAt (read off a
 * plain WebSocket watching beside the SDK), the change's commit_timestamp.
 */
import { createClient, type WebSocketLikeConstructor } from '@supabase/supabase-js';
import { TicketAvailabilityManager } from '@ticketpulse/client';
import WebSocket from 'ws';
import { serve, type Command } from '../harness/ipc.ts';
import { workerInit } from '../harness/workers.ts';

export interface IdleWatchersInit {
  url: string;
  token: string;
  eventId: string;
  ticketTypeId: string;
}

export type Viewer = 'sdk' | 'supabase';

/** [reserved count, epoch ms (sub-millisecond) first seen, epoch ms the change committed (NaN: unknown)]. */
export type Sightings = Record<Viewer, Array<[reserved: number, at: number, committedAt: number]>>;

export type IdleWatchersCommand = (Command & { type: 'subscribed' }) | (Command & { type: 'sightings' });

const init = await workerInit<IdleWatchersInit>();
const now = () => performance.timeOrigin + performance.now();
const sightings: Sightings = { sdk: [], supabase: [] };
const seen = (viewer: Viewer, reserved: number, committedAt = NaN) => {
  const list = sightings[viewer];
  if (list.length === 0 || list.at(-1)![0] < reserved) list.push([reserved, now(), committedAt]);
};

/** Commit times by reserved count, from the native updates' committedAt. */
const commits = new Map<number, number>();
const raw = new WebSocket(`${init.url.replace(/^http/, 'ws')}/realtime?token=${encodeURIComponent(init.token)}`, { perMessageDeflate: false });
raw.on('open', () => raw.send(JSON.stringify({ type: 'subscribe', eventId: init.eventId })));
raw.on('message', (data) => {
  const message = JSON.parse(String(data)) as { type: string; updates?: Array<{ committedAt: string; tickets: Array<{ ticketTypeId: string; reservedCount: number | null }> }> };
  for (const update of message.type === 'updates' ? (message.updates ?? []) : []) {
    const reserved = update.tickets.find((t) => t.ticketTypeId === init.ticketTypeId)?.reservedCount;
    if (typeof reserved === 'number' && !commits.has(reserved)) commits.set(reserved, Date.parse(update.committedAt));
  }
});

const manager = new TicketAvailabilityManager({ url: init.url, getToken: () => init.token, WebSocket });
manager.subscribeToEvent(init.eventId, (state) => {
  const reserved = state.availability.get(init.ticketTypeId)?.reservedCount;
  if (typeof reserved === 'number') seen('sdk', reserved);
});

const supabase = createClient(init.url, init.token, {
  auth: { persistSession: false, autoRefreshToken: false },
  realtime: { transport: WebSocket as unknown as WebSocketLikeConstructor },
});
let supabaseJoined = false;
supabase
  .channel(`idle-${init.eventId}`)
  .on('postgres_changes', { event: 'UPDATE', schema: 'public', table: 'event_tickets', filter: `id=eq.${init.ticketTypeId}` }, (payload) => {
    const reserved = (payload.new as { reserved_count?: unknown }).reserved_count;
    if (typeof reserved === 'number') seen('supabase', reserved, Date.parse(payload.commit_timestamp));
  })
  .subscribe((status) => {
    if (status === 'SUBSCRIBED') supabaseJoined = true;
  });

serve<IdleWatchersCommand>(async (command) => {
  if (command.type === 'subscribed') {
    const deadline = Date.now() + 30_000;
    while (!(supabaseJoined && manager.getEventState(init.eventId).version > 0)) {
      if (Date.now() > deadline) throw new Error('the viewers did not subscribe within 30 s');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return {};
  }
  for (const sighting of sightings.sdk) sighting[2] = commits.get(sighting[0]) ?? NaN;
  return { sightings };
});
