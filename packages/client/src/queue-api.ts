import type { QueueEntry, QueueEntryPoll as PollBody } from '@ticketpulse/protocol';
import { ApiError } from './api-error.ts';
import { findFetch, httpClient, type HttpClientOptions, type SendRequest } from './http-client.ts';

/** What reading one's entry for the polling fallback found. */
export type QueueEntryPollAnswer =
  | { kind: 'entry'; entry: QueueEntry; pollAfterMs: number; etag: string | undefined }
  /** 304: the entry is as it was. */
  | { kind: 'unchanged' }
  /** No entry: `room` tells whether the event has a waiting room at all. */
  | { kind: 'none'; room: boolean }
  | { kind: 'failed' };

/** GET .../queue/entries/me with the ETag of the last answer. */
export type QueueEntryPoll = (eventId: string, etag: string | undefined) => Promise<QueueEntryPollAnswer>;

const entryPath = (eventId: string) => `/api/events/${encodeURIComponent(eventId)}/queue/entries`;

/** The visitor's waiting-room routes (docs/api.md): join, leave, and the polling read. */
export class QueueApi {
  private sender: SendRequest | undefined;

  constructor(private readonly options: HttpClientOptions) {}

  /** 201 the first time, 200 with the same entry after: never a better place. */
  async join(eventId: string): Promise<QueueEntry> {
    return (await this.http<{ entry: QueueEntry }>({ method: 'POST', path: entryPath(eventId), idempotent: true })).entry;
  }

  async leave(eventId: string): Promise<QueueEntry> {
    return (await this.http<{ entry: QueueEntry }>({ method: 'DELETE', path: `${entryPath(eventId)}/me` })).entry;
  }

  readonly poll: QueueEntryPoll = async (eventId, etag) => {
    try {
      const headers: Record<string, string> = { authorization: `Bearer ${await this.options.getToken()}` };
      if (etag) headers['if-none-match'] = etag;
      const url = this.options.url.replace(/\/+$/, '') + `${entryPath(eventId)}/me`;
      const response = await findFetch(this.options.fetch)(url, { headers });
      if (response.status === 304) return { kind: 'unchanged' };
      const body: unknown = await response.json().catch(() => null);
      if (response.ok) {
        const { entry, pollAfterMs } = body as PollBody;
        return { kind: 'entry', entry, pollAfterMs, etag: response.headers.get('etag') ?? undefined };
      }
      const { code } = ApiError.from(response.status, body);
      if (code === 'queue_entry_not_found' || code === 'queue_not_found') return { kind: 'none', room: code === 'queue_entry_not_found' };
    } catch {
      // Unreachable: asked again at the polling interval.
    }
    return { kind: 'failed' };
  };

  /** Created on first use: a manager made during server rendering needs no fetch. */
  private http<T>(request: Parameters<SendRequest>[0]): Promise<T> {
    this.sender ??= httpClient(this.options);
    return this.sender<T>(request);
  }
}
