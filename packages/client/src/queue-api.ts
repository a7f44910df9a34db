import type { QueueEntry, QueueEntryPoll as PollBody, QueueLive } from '@ticketpulse/protocol';
import { ApiError } from './api-error.ts';
import { findFetch, type HttpClientOptions } from './http-client.ts';

/** What reading one's entry for the polling fallback found. */
export type QueueEntryPollAnswer =
  /** `queue`: the room's live state; undefined from a server that does not send it. */
  | { kind: 'entry'; entry: QueueEntry; queue?: QueueLive | null; pollAfterMs: number; etag: string | undefined }
  /** 304: the entry is as it was. */
  | { kind: 'unchanged' }
  /** No entry: `room` tells whether the event has a waiting room at all. */
  | { kind: 'none'; room: boolean }
  | { kind: 'failed' };

/** GET .../queue/entries/me with the ETag of the last answer. */
export type QueueEntryPoll = (eventId: string, etag: string | undefined) => Promise<QueueEntryPollAnswer>;

export interface QueueApi {
  /** 201 the first time, 200 with the same entry after: never a better place. */
  join(eventId: string): Promise<QueueEntry>;
  leave(eventId: string): Promise<QueueEntry>;
  poll: QueueEntryPoll;
}

/**
 * The visitor's waiting-room routes (docs/api.md): join, leave, and the
 * polling read. One attempt each, failing with an ApiError: not the
 * HoldClient's retrying client, which would cost every app that imports the
 * manager its retry policy (joining again is always safe, so the app or the
 * visitor just asks again).
 */
export function queueApi({ url, getToken, fetch }: Pick<HttpClientOptions, 'url' | 'getToken' | 'fetch'>): QueueApi {
  const call = async (method: string, eventId: string, path: string, etag?: string) => {
    const headers: Record<string, string> = { authorization: `Bearer ${await getToken()}` };
    if (etag) headers['if-none-match'] = etag;
    const target = `${url.replace(/\/+$/, '')}/api/events/${encodeURIComponent(eventId)}/queue/entries${path}`;
    let response: Awaited<ReturnType<ReturnType<typeof findFetch>>>;
    try {
      response = await findFetch(fetch)(target, { method, headers });
    } catch (cause) {
      throw new ApiError('network_error', `Could not reach ${target}: ${cause}`, 0);
    }
    const body: unknown = await response.json().catch(() => null);
    if (response.ok) return { ...(body as PollBody), etag: response.headers.get('etag') ?? undefined };
    throw ApiError.from(response.status, body);
  };
  return {
    join: async (eventId) => (await call('POST', eventId, '')).entry,
    leave: async (eventId) => (await call('DELETE', eventId, '/me')).entry,
    async poll(eventId, etag) {
      try {
        return { kind: 'entry', ...(await call('GET', eventId, '/me', etag)) };
      } catch (error) {
        // 304 (no body, so not ok): the entry is as it was.
        const { status, code } = error as ApiError;
        if (status === 304) return { kind: 'unchanged' };
        if (code === 'queue_entry_not_found' || code === 'queue_not_found') return { kind: 'none', room: code === 'queue_entry_not_found' };
        return { kind: 'failed' };
      }
    },
  };
}
