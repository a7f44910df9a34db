import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { Database } from '../../db/database.ts';
import { isPrivileged, type Principal } from '../../auth/principal.ts';
import { type TokenVerifier } from '../../auth/token-verifier.ts';
import { ApiError } from '../../api-error.ts';
import type { EventAvailabilityWithRows } from '../../inventory/availability.ts';
import { userKeyOf, type Admission } from '../admission.ts';
import type { TickConsumer } from '../change-tick.ts';
import { announceRestart, type CloseOptions } from '../shutdown.ts';
import type { RealtimeSettings } from '../gateway.ts';
import { refuseUpgrade, type Handshake, type WebSocketEndpoint } from '../upgrade-router.ts';
import { BindingIndex } from './binding-index.ts';
import { ChangeRouter } from './change-router.ts';
import { EventTicketsCapture } from './event-tickets-capture.ts';
import { parseVsn } from './phoenix-codec.ts';
import { loadEventAccess } from './row-access.ts';
import { subjectOf, type RowChange } from './row-changes.ts';
import type { SupabaseChannel } from './supabase-channel.ts';
import { SocketClose, SupabaseSocket, type SocketHost, type SocketLimits } from './supabase-socket.ts';
import { loadTableColumns, type TableColumns } from '../../supabase/tables.ts';
import { TicketsOutbox } from './tickets-outbox.ts';

/** Where supabase-js connects (`<url>/realtime/v1`), and where self-hosted Realtime listens. */
export const SUPABASE_PATHS = ['/realtime/v1/websocket', '/socket/websocket'] as const;

/** A client that sent nothing for this many gateway heartbeat intervals is gone (Phoenix clients heartbeat every 25 s). */
const IDLE_HEARTBEATS = 4;

/** What the endpoint holds on to: every figure drops back once its clients leave. */
export interface SupabaseEndpointStats {
  sockets: number;
  /** Joined topics, over all sockets. */
  channels: number;
  /** Channels whose bindings are routed changes. */
  routedChannels: number;
  /** Events whose event_tickets rows are kept to diff; 'all' while some binding names no event. */
  trackedEvents: number | 'all';
  /** Channels listening to tickets changes (the outbox is read while there is one). */
  ticketsListeners: number;
}

export interface SupabaseEndpointOptions {
  db: Database;
  verifier: TokenVerifier;
  logger: Logger;
  settings: RealtimeSettings;
  /** Connection and message limits, shared with the native gateway: a client's connections count once, whichever endpoint. */
  admission: Admission;
  /** Has the tick check events next time ('all': every event, by version first): a join began to track them while the tick may have passed over a change. */
  recheck(eventIds: readonly string[] | 'all'): void;
}

/**
 * The Supabase Realtime-compatible endpoint: `postgres_changes` on
 * event_tickets and tickets for @supabase/supabase-js clients, so code
 * written for Supabase runs unchanged against TicketPulse (docs/supabase.md).
 * Fed by the gateway's tick (ChangeTick), which reads the changed events
 * once for both endpoints: each tick it diffs their ticket-type rows
 * (EventTicketsCapture), reads the tickets outbox (TicketsOutbox), reads who
 * may see the events they touch in one query, and routes the changes to the
 * joined channels in memory (ChangeRouter).
 */
export class SupabaseEndpoint implements WebSocketEndpoint, TickConsumer, SocketHost {
  readonly paths = SUPABASE_PATHS;
  readonly limits: SocketLimits;
  readonly verifier: TokenVerifier;
  readonly logger: Logger;
  private readonly sockets = new Set<SupabaseSocket>();
  private readonly index = new BindingIndex<SupabaseChannel>();
  private readonly eventTickets: EventTicketsCapture;
  private readonly outbox: TicketsOutbox;
  private tableColumns: TableColumns | undefined;
  private router: ChangeRouter<SupabaseChannel> | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private bindingIds = 0;
  /** Changes read but not yet routed (the access query failed): routed next tick. */
  private pending: RowChange[] = [];

  constructor(private readonly options: SupabaseEndpointOptions) {
    const { settings } = options;
    this.verifier = options.verifier;
    this.logger = options.logger;
    this.limits = { maxChannels: settings.maxSubscriptions, hardBufferBytes: settings.hardBufferBytes };
    this.eventTickets = new EventTicketsCapture(options.db);
    this.outbox = new TicketsOutbox(options.db);
  }

  async start(): Promise<void> {
    this.tableColumns = await loadTableColumns(this.options.db);
    this.router = new ChangeRouter(this.tableColumns);
    const { heartbeatMs } = this.options.settings;
    this.idleTimer = setInterval(() => this.closeIdle(heartbeatMs * IDLE_HEARTBEATS), heartbeatMs);
    this.idleTimer.unref();
  }

  /** Tells every client to reconnect (1012, as the gateway's clients): the gateway has stopped the tick that feeds this endpoint. */
  async close({ exiting = false }: CloseOptions = {}): Promise<void> {
    clearInterval(this.idleTimer);
    await announceRestart([...this.sockets].map((socket) => ({ ws: socket.ws, wire: socket.wire })));
    if (!exiting) for (const socket of this.sockets) socket.ws.terminate();
  }

  get stats(): SupabaseEndpointStats {
    let channels = 0;
    for (const socket of this.sockets) channels += socket.channelCount;
    return {
      sockets: this.sockets.size,
      channels,
      routedChannels: this.index.size,
      trackedEvents: this.eventTickets.trackedEvents,
      ticketsListeners: this.outbox.listenerCount,
    };
  }

  watched(): Iterable<string> | 'all' {
    return this.eventTickets.watched();
  }

  versionOf(eventId: string): number | undefined {
    return this.eventTickets.versionOf(eventId);
  }

  /** No frame limit per tick here: a tracked event's change goes out when read. */
  sendsNow(eventId: string): boolean {
    return this.eventTickets.tracks(eventId);
  }

  columns(): TableColumns {
    if (!this.tableColumns) throw new Error('SupabaseEndpoint used before start()');
    return this.tableColumns;
  }

  nextBindingId(): number {
    this.bindingIds += 1;
    return this.bindingIds;
  }

  async join(channel: SupabaseChannel): Promise<void> {
    const tickets = channel.bindings.some((b) => b.table === 'tickets');
    if (tickets) await this.outbox.listen();
    try {
      const eventTickets = channel.bindings.filter((b) => b.table === 'event_tickets');
      let tracked: string[] | 'all' = [];
      if (eventTickets.some((b) => !b.eventIds)) tracked = await this.eventTickets.track('all');
      else if (eventTickets.length > 0) tracked = await this.eventTickets.track([...new Set(eventTickets.flatMap((b) => b.eventIds ?? []))]);
      if (tracked === 'all' || tracked.length > 0) this.options.recheck(tracked);
    } catch (error) {
      if (tickets) this.outbox.release();
      throw error;
    }
    // Right after the baseline, with no await between: a leave cannot untrack these events first.
    this.index.add(channel);
  }

  leave(channel: SupabaseChannel): void {
    if (!this.index.remove(channel)) return;
    const watched = this.index.watched('event_tickets');
    this.eventTickets.retain(watched.eventIds, watched.anyEvent);
    if (channel.bindings.some((b) => b.table === 'tickets')) this.outbox.release();
  }

  upgrade(request: IncomingMessage, socket: Duplex, _head: Buffer, ip: string, handshake: Handshake): void {
    this.admit(request, socket, ip, handshake).catch((error: unknown) => {
      this.logger.error({ err: error }, 'supabase realtime upgrade failed');
      refuseUpgrade(socket, new ApiError(500, 'internal_error', 'Something went wrong on our side; retry'));
    });
  }

  /** The apikey (or access_token) is checked before the handshake: a refused client costs an HTTP response. */
  private async admit(request: IncomingMessage, socket: Duplex, ip: string, handshake: Handshake): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const vsn = parseVsn(url.searchParams.get('vsn'));
    if (!vsn) return refuseUpgrade(socket, new ApiError(400, 'unsupported_vsn', 'vsn must be 1.0.0 or 2.0.0'));
    const token = url.searchParams.get('access_token') ?? url.searchParams.get('apikey');
    if (!token) return refuseUpgrade(socket, new ApiError(401, 'unauthorized', 'apikey is required: a TicketPulse JWT'));
    let principal: Principal;
    try {
      principal = await this.verifier.verify(token);
    } catch (error) {
      return refuseUpgrade(socket, error instanceof ApiError ? error : new ApiError(401, 'invalid_token', 'Token is invalid'));
    }
    const release = this.options.admission.open(ip, userKeyOf(principal.userId, ip));
    if (!release) return refuseUpgrade(socket, tooMany());
    if (socket.destroyed) return release();
    handshake((ws) => {
      ws.on('error', (error) => this.logger.debug({ err: error }, 'supabase websocket error'));
      const client = new SupabaseSocket(ws, socket, vsn, principal, this, this.options.admission.messageBucket());
      this.sockets.add(client);
      ws.on('close', () => {
        this.sockets.delete(client);
        release();
      });
    });
  }

  private closeIdle(idleMs: number): void {
    const cutoff = Date.now() - idleMs;
    for (const socket of this.sockets) if (socket.lastSeen < cutoff) socket.close(SocketClose.idle, 'heartbeat timeout');
  }

  /** This endpoint's share of a tick: diff the tick's read, read the outbox, decide who may see what (one query), route in memory. */
  async consume(events: readonly EventAvailabilityWithRows[]): Promise<void> {
    const reads = await Promise.allSettled([this.eventTickets.diff(events), this.outbox.read()]);
    const changes = this.pending;
    this.pending = [];
    for (const read of reads) {
      // One by one: a tick after a mass expiry reads hundreds of thousands, past what a call's arguments can hold.
      if (read.status === 'fulfilled') for (const change of read.value) changes.push(change);
      else this.logger.warn({ err: read.reason }, 'supabase realtime: reading changes failed; retrying next tick');
    }
    if (changes.length === 0 || !this.router) return;
    const eventIds = [...new Set(changes.map((c) => String(subjectOf(c).event_id)))];
    const userIds = new Set<string>();
    for (const channel of this.index.channels()) {
      if (!isPrivileged(channel.principal) && channel.principal.userId) userIds.add(channel.principal.userId);
    }
    try {
      const access = await loadEventAccess(this.options.db, eventIds, [...userIds]);
      this.router.route(changes, this.index, access);
    } catch (error) {
      this.pending = changes;
      this.logger.warn({ err: error }, 'supabase realtime: access check failed; retrying next tick');
    }
  }
}

const tooMany = () => new ApiError(429, 'too_many_connections', 'Too many connections for this user or address');
