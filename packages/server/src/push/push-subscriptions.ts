import type { PushWatch } from '@ticketpulse/protocol';
import { ApiError } from '../api-error.ts';
import type { Audience } from '../auth/principal.ts';
import type { Queryable } from '../db/database.ts';
import type { AvailabilityListener } from '../inventory/availability-listener.ts';
import { refusalsAsErrors } from '../inventory/errors.ts';
import { isAllowedEndpoint, type EndpointHost } from './endpoint-hosts.ts';
import { isoTime } from '../iso-time.ts';

/** A browser's PushSubscription as it sends it (PushSubscription.toJSON()). */
export interface BrowserSubscription {
  endpoint: string;
  expirationTime?: number | null | undefined;
  keys: { p256dh: string; auth: string };
}

/**
 * Buyers' browsers subscribed to Web Push, and their "notify me" watches on
 * sold-out ticket types (docs/push.md). Each call is one SQL function
 * (db/repeatable/80_push.sql) with the holder from a verified token.
 */
export class PushSubscriptions {
  constructor(
    private readonly db: Queryable,
    private readonly endpointHosts: readonly EndpointHost[],
    /** A watch changes its type's watcher count, which is a change of the event's row like any other. */
    private readonly onChange: AvailabilityListener = () => {},
  ) {}

  /** Stores the browser for this holder; created: false when that endpoint was stored already. */
  async subscribe(holderId: string, subscription: BrowserSubscription): Promise<{ created: boolean }> {
    // The service will POST to this URL: only push services on the allow-list, never an arbitrary host.
    if (!isAllowedEndpoint(subscription.endpoint, this.endpointHosts)) {
      throw new ApiError(400, 'push_endpoint_not_allowed', 'The endpoint must be an https:// URL of an allowed push service');
    }
    const expiration = subscription.expirationTime == null ? null : new Date(subscription.expirationTime).toISOString();
    return this.call<{ created: boolean }>('push_subscribe($1, $2, $3, $4, $5)', [
      holderId,
      subscription.endpoint,
      subscription.keys.p256dh,
      subscription.keys.auth,
      expiration,
    ]);
  }

  /** Forgets one of the holder's browsers; another holder's endpoint is not found. */
  async unsubscribe(holderId: string, endpoint: string): Promise<void> {
    if (!(await this.call<boolean>('push_unsubscribe($1, $2)', [holderId, endpoint]))) {
      throw new ApiError(404, 'push_subscription_not_found', 'No push subscription of yours has this endpoint');
    }
  }

  /** Starts watching a sold-out type; created: false when the holder already was. */
  async watch(ticketTypeId: string, holderId: string, audience: Audience): Promise<{ ticketTypeId: string; created: boolean }> {
    const { eventId, ...watch } = await this.call<{ ticketTypeId: string; eventId: string; created: boolean }>('push_watch($1, $2, $3, $4)', [
      ticketTypeId,
      holderId,
      audience.userId ?? null,
      audience.privileged,
    ]);
    if (watch.created) this.onChange(eventId);
    return watch;
  }

  async unwatch(ticketTypeId: string, holderId: string): Promise<void> {
    const eventId = await this.call<string | null>('push_unwatch($1, $2)', [ticketTypeId, holderId]);
    if (eventId === null) throw new ApiError(404, 'push_watch_not_found', 'You are not watching this ticket type');
    this.onChange(eventId);
  }

  async watchesOf(holderId: string): Promise<PushWatch[]> {
    const watches = await this.call<PushWatch[]>('push_watches_of($1)', [holderId]);
    return watches.map((watch) => ({ ...watch, createdAt: isoTime(watch.createdAt) }));
  }

  private async call<Row>(fn: string, params: unknown[]): Promise<Row> {
    const { rows } = await refusalsAsErrors(this.db.query<{ r: Row }>(`SELECT ${fn} AS r`, params));
    return rows[0]!.r;
  }
}
