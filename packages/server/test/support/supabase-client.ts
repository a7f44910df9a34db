import { createClient, type RealtimeChannel, type SupabaseClient, type SupabaseClientOptions, type WebSocketLikeConstructor } from '@supabase/supabase-js';
import WebSocket from 'ws';

type Options = SupabaseClientOptions<'public'>;

/**
 * The official client pointed at a TicketPulse server, as docs/supabase.md
 * says: no session of its own, and `ws` as its WebSocket (Node 20 has no
 * global one, and supabase-js builds its realtime client eagerly). `auth` and
 * `realtime` settings given here are added to those.
 */
export function supabaseClient(url: string, apikey: string, { auth, realtime, ...rest }: Options = {}): SupabaseClient {
  return createClient(url, apikey, {
    ...rest,
    auth: { persistSession: false, autoRefreshToken: false, ...auth },
    // ws accepts more than the client's WebSocketLike passes it; the client's type is stricter than it needs to be.
    realtime: { transport: WebSocket as unknown as WebSocketLikeConstructor, ...realtime },
  });
}

/** Subscribes; resolves with the first status subscribe() reports other than CLOSED. */
export function subscribeStatus(channel: RealtimeChannel): Promise<{ status: string; err: Error | undefined }> {
  return new Promise((resolve) => {
    channel.subscribe((status, err) => {
      if (status !== 'CLOSED') resolve({ status, err });
    });
  });
}
