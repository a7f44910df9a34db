import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { CloseCode, type ClientMessage, type RealtimeErrorCode, type RealtimeStats } from '@ticketpulse/protocol';
import { clientMessageSchema, clientMessageTypes } from '@ticketpulse/protocol/schemas';
import type { Logger } from 'pino';
import type { RawData, WebSocket } from 'ws';
import type { Database } from '../db/database.ts';
import type { ProxyTrust } from '../limits/client-address.ts';
import { ApiError } from '../api-error.ts';
import type { Principal } from '../auth/principal.ts';
import type { TokenVerifier } from '../auth/token-verifier.ts';
import type { ChangeBus } from './buses/change-bus.ts';
import { ChangeFeed } from './change-feed.ts';
import { ChangeTick, type TickConsumer, type TickTiming } from './change-tick.ts';
import { ClientConnection, type ConnectionLimits } from './connection.ts';
import { DatabaseClock } from './database-clock.ts';
import { userKeyOf, type Admission } from './admission.ts';
import type { RealtimeMetrics } from './metrics.ts';
import { PersonalFeed } from './personal-feed.ts';
import { Publisher } from './publisher.ts';
import { QueuePublisher } from './queue-publisher.ts';
import { realtimeStatsOf, type Watching } from './realtime-stats.ts';
import { ReconnectTracker } from './reconnect-tracker.ts';
import { SnapshotStore } from './snapshot-store.ts';
import { announceRestart, type CloseOptions } from './shutdown.ts';
import { Subscriptions } from './subscriptions.ts';
import type { Handshake, WebSocketEndpoint } from './upgrade-router.ts';
import type { WaitingRoom } from '../waiting-room/waiting-room.ts';

export const REALTIME_PATH = '/realtime';
/** How long a refused connection has to answer the close before its socket is destroyed. */
const CLOSE_GRACE_MS = 2000;
/**
 * Heartbeats visit one of this many slices of the connections every
 * heartbeatMs / HEARTBEAT_SLICES: each connection is still pinged once an
 * interval, with the same deadline, but the pings' writes are spread out
 * instead of one burst to every socket that holds up the tick behind it.
 */
const HEARTBEAT_SLICES = 10;

export interface RealtimeSettings extends TickTiming, ConnectionLimits {
  heartbeatMs: number;
  /** How long a connection without `?token=` has to send its `auth` message. */
  authTimeoutMs: number;
  maxFrameBytes: number;
  maxConnectionsPerUser: number;
  maxConnectionsPerIp: number;
  connectAttemptsPerIpPerSecond: number;
  /** Behind load balancers: which proxies may tell a client's address (X-Forwarded-For); see client-address.ts. */
  trustProxy: ProxyTrust;
}

export interface GatewayOptions {
  db: Database;
  verifier: TokenVerifier;
  bus: ChangeBus | undefined;
  metrics: RealtimeMetrics;
  logger: Logger;
  settings: RealtimeSettings;
  /** Connection and message limits, shared with the Supabase-compatible endpoint. */
  admission: Admission;
  /** Queued events' live state and visitors' entries (`queue`, `queue_entry` frames); none: no queue frames. */
  waitingRoom?: Pick<WaitingRoom, 'live' | 'entriesOf'>;
}

/**
 * The realtime gateway: WebSocket clients subscribe to events and receive
 * their availability as it changes. Stateless between processes: any number
 * of nodes can serve any event, each learning of changes through the database
 * (or NATS).
 */
export class RealtimeGateway implements WebSocketEndpoint {
  readonly paths = [REALTIME_PATH];
  private readonly connections = new Set<ClientConnection>();
  private readonly store = new SnapshotStore();
  private readonly clock = new DatabaseClock();
  private readonly feed: ChangeFeed;
  private readonly subscriptions: Subscriptions;
  private readonly tick: ChangeTick;
  private readonly personal: PersonalFeed;
  /** The waiting room's frames; none without a waiting room. */
  private readonly queues: QueuePublisher | undefined;
  private readonly reconnects: ReconnectTracker;
  private heartbeat: NodeJS.Timeout | undefined;
  /** The connections by heartbeat slice: a new one joins `joinSlice`, each beat visits `beatSlice` (round robin). */
  private readonly heartbeatSlices = Array.from({ length: HEARTBEAT_SLICES }, () => new Set<ClientConnection>());
  private joinSlice = 0;
  private beatSlice = 0;
  /** Shutting down: connections closing now take their bookkeeping with the node. */
  private closing = false;

  constructor(private readonly options: GatewayOptions) {
    const { settings, metrics, logger, db } = options;
    this.feed = new ChangeFeed(options.bus, logger);
    const queues =
      options.waitingRoom &&
      new QueuePublisher(
        options.waitingRoom,
        () => this.store.watchedIds(),
        (eventId) => this.subscriptions.subscribersOf(eventId),
        this.feed.holderChanges(),
        this.clock,
        logger,
        metrics,
        settings,
      );
    this.queues = queues;
    this.subscriptions = new Subscriptions(db, this.store, this.clock, metrics, (eventId) => this.feed.markDirty(eventId), queues);
    this.tick = new ChangeTick(db, this.feed, this.clock, logger, metrics, settings);
    this.tick.add(new Publisher(this.store, this.subscriptions, () => this.connections, this.clock, metrics, settings.tickMs));
    if (queues) {
      this.tick.add(queues);
      this.feed.onQueuesAdmitted((eventIds) => queues.admitted(eventIds));
    }
    this.personal = new PersonalFeed(db, this.feed, this.clock, logger);
    this.tick.add(this.personal);
    this.reconnects = new ReconnectTracker(metrics);
  }

  /** A change committed in this process: viewers hear of it next tick, other nodes too. */
  touch(eventId: string): void {
    this.feed.touch(eventId);
  }

  /** A change to a holder's own holds or entries committed in this process: their personal feed hears of it next tick, on every node. */
  touchHolder(holderId: string): void {
    this.feed.touchHolder(holderId);
  }

  /** This node's admission tick moved these events' queues: their `queue` frames go out now rather than at the next tick, here and on the other nodes. */
  queuesAdmitted(eventIds: readonly string[]): void {
    // Most admission ticks move no line: nothing to read, nobody to tell.
    if (eventIds.length === 0) return;
    if (this.queues?.admitted(eventIds)) void this.feed.announceAdmitted([...eventIds]);
  }

  /** Another endpoint fed by this gateway's change feed and tick (the Supabase-compatible one): no second read. */
  addTickConsumer(consumer: TickConsumer): void {
    this.tick.add(consumer);
  }

  /** Check events on the next tick, telling no other node (a consumer began watching them); 'all' checks versions first. */
  recheck(eventIds: readonly string[] | 'all'): void {
    if (eventIds === 'all') this.feed.markAll();
    else for (const eventId of eventIds) this.feed.markDirty(eventId);
  }

  async start(): Promise<void> {
    await this.feed.start();
    this.tick.start();
    this.heartbeat = setInterval(() => this.beat(), Math.max(1, Math.round(this.options.settings.heartbeatMs / HEARTBEAT_SLICES)));
    this.heartbeat.unref();
  }

  /** Stops fanning out to either endpoint (the tick feeds both) and pinging: first on shutdown, before any close frame. */
  async quiesce(): Promise<void> {
    clearInterval(this.heartbeat);
    await Promise.all([this.tick.stop(), this.queues?.stop()]);
  }

  /** Tells every client to reconnect elsewhere (1012), and closes: after quiesce(), as Service.close does (the router stops new upgrades first). */
  async close({ exiting = false }: CloseOptions = {}): Promise<void> {
    this.closing = true;
    // Begun first: its round trips overlap the frames' writes, which take the CPU until they are all written.
    const feedClosed = this.feed.close();
    await announceRestart([...this.connections].map((connection) => ({ ws: connection.socket, wire: connection.wire })));
    await feedClosed;
    if (!exiting) for (const connection of this.connections) connection.socket.terminate();
  }

  /** Sampled into the metrics right before each scrape. */
  sampleMetrics(): void {
    const { perConnection, perUser } = this.subscriptions.distribution(this.connections);
    this.options.metrics.sampleSubscriptions(perConnection, perUser);
    const { total, most } = this.buffered();
    this.options.metrics.bufferedBytes.set(total);
    this.options.metrics.maxBufferedBytes.set(most);
  }

  /**
   * Unsent bytes across connections and on the worst one: whether fan-out
   * keeps up (bounded by the soft limit per connection while it does not).
   * One read per socket, nothing else: cheap enough to sample under load.
   */
  buffered(): { total: number; most: number } {
    let total = 0;
    let most = 0;
    for (const connection of this.connections) {
      const buffered = connection.unsent;
      total += buffered;
      if (buffered > most) most = buffered;
    }
    return { total, most };
  }

  /** This node's connections and what they watch: its part of GET /api/realtime/stats. */
  get watching(): Watching {
    return { connections: this.connections.size, watchedEventIds: this.store.watchedIds(), viewers: this.subscriptions.viewerCounts() };
  }

  /** This node's figures of GET /api/realtime/stats. */
  get stats(): RealtimeStats {
    return realtimeStatsOf([this.watching]);
  }

  /** Past the router's checks (path, draining, attempts): the handshake, then authentication. */
  upgrade(request: IncomingMessage, socket: Duplex, _head: Buffer, ip: string, handshake: Handshake): void {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const token = url.searchParams.get('token');
    // A token in the URL (the SDK's way) is verified right after the
    // handshake: the 101 waits for the welcome (or the refusal) and both
    // leave in one write, one system call fewer per connection, which is
    // what a reconnect storm is made of.
    if (token) socket.cork();
    handshake((ws) => this.accept(ws, socket, ip, url, token));
  }

  /**
   * The token comes in the URL (`?token=`) or as the first message. Messages
   * sent while it is being verified wait in a short queue, so a client may
   * send `auth` and `subscribe` back to back.
   */
  private accept(ws: WebSocket, wire: Duplex, ip: string, url: URL, token: string | null): void {
    ws.on('error', (error) => this.options.logger.debug({ err: error }, 'websocket error'));
    const session = url.searchParams.get('session')?.slice(0, 64) ?? undefined;
    let connection: ClientConnection | undefined;
    let authenticating = false;
    const queued: Array<[RawData, boolean]> = [];
    // Corked in upgrade() when a token came in the URL (the same test): flushed once, whatever the verification's outcome.
    let corked = Boolean(token);
    const flush = () => {
      if (corked) wire.uncork();
      corked = false;
    };
    const timer = setTimeout(() => {
      if (!connection) this.reject(ws, CloseCode.authTimeout, 'auth timeout');
      flush();
    }, this.options.settings.authTimeoutMs);

    const authenticate = async (token: string) => {
      authenticating = true;
      try {
        connection = await this.authenticate(ws, wire, ip, session, token);
      } finally {
        flush();
      }
      clearTimeout(timer);
      if (connection) for (const [data, isBinary] of queued.splice(0)) this.onMessage(connection, data, isBinary);
    };
    ws.on('message', (data, isBinary) => {
      if (connection) return this.onMessage(connection, data, isBinary);
      if (authenticating) {
        if (queued.length < this.options.settings.messagesPerSecond) queued.push([data, isBinary]);
        return;
      }
      const message = isBinary ? undefined : parse(data);
      if (message?.type !== 'auth') return this.reject(ws, CloseCode.unauthorized, 'authenticate first');
      void authenticate(message.token);
    });
    if (token) void authenticate(token);
  }

  /** Verifies the token and admits the connection, or closes it with the reason. */
  private async authenticate(ws: WebSocket, wire: Duplex, ip: string, session: string | undefined, token: string): Promise<ClientConnection | undefined> {
    let principal: Principal;
    try {
      principal = await this.options.verifier.verify(token);
    } catch (error) {
      const expired = error instanceof ApiError && error.code === 'token_expired';
      this.reject(ws, expired ? CloseCode.tokenExpired : CloseCode.unauthorized, expired ? 'token expired' : 'invalid token');
      return undefined;
    }
    if (ws.readyState !== ws.OPEN) return undefined;
    const release = this.options.admission.open(ip, userKeyOf(principal.userId, ip));
    if (!release) {
      this.reject(ws, CloseCode.tooManyConnections, 'too many connections');
      return undefined;
    }
    const connection = new ClientConnection(ws, wire, principal, ip, this.options.settings, this.options.admission.messageBucket(), this.options.metrics);
    this.connections.add(connection);
    const slice = this.heartbeatSlices[this.joinSlice]!;
    this.joinSlice = (this.joinSlice + 1) % HEARTBEAT_SLICES;
    slice.add(connection);
    this.options.metrics.connections.inc();
    this.options.metrics.connectionAttempts.inc({ result: 'accepted' });
    if (session) this.reconnects.connected(session);

    ws.on('pong', () => (connection.alive = true));
    ws.on('close', () => {
      this.connections.delete(connection);
      slice.delete(connection);
      // Subscriptions, admission counts, metrics and sessions go with the node: not undone one connection at a time.
      if (this.closing) return;
      this.subscriptions.drop(connection);
      this.personal.drop(connection);
      release();
      this.options.metrics.connections.dec();
      if (session) this.reconnects.disconnected(session);
    });
    const { settings } = this.options;
    connection.send({
      type: 'welcome',
      connectionId: connection.id,
      serverTime: this.clock.now(),
      heartbeatMs: settings.heartbeatMs,
      limits: { maxSubscriptions: settings.maxSubscriptions, maxMessagesPerSecond: settings.messagesPerSecond, maxFrameBytes: settings.maxFrameBytes },
    });
    return connection;
  }

  private onMessage(connection: ClientConnection, data: RawData, isBinary: boolean): void {
    connection.alive = true;
    const admission = connection.admit();
    if (admission === 'close') return connection.close(CloseCode.rateLimited, 'rate limited');
    if (admission === 'rejected') {
      if (connection.shouldNotifyRateLimit()) this.error(connection, 'rate_limited', 'Too many messages; slow down');
      return;
    }
    if (isBinary) return this.error(connection, 'invalid_message', 'Send JSON text frames');
    const raw = parseJson(data);
    if (raw === undefined) return this.error(connection, 'invalid_message', 'Not valid JSON');
    const type = (raw as { type?: unknown } | null)?.type;
    if (typeof type === 'string' && !(clientMessageTypes as readonly string[]).includes(type)) {
      return this.error(connection, 'unknown_message_type', `Unknown message type "${type.slice(0, 40)}"`);
    }
    const parsed = clientMessageSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return this.error(connection, 'invalid_message', issue ? `${issue.path.join('.') || 'message'}: ${issue.message}` : 'Invalid message');
    }
    const message = parsed.data;
    this.handle(connection, message).catch((error: unknown) => {
      this.options.logger.error({ err: error }, 'realtime message failed');
      connection.send({
        type: 'error',
        code: 'internal_error',
        message: 'Something went wrong on our side; retry',
        ...('ref' in message && message.ref ? { ref: message.ref } : {}),
        ...('eventId' in message ? { eventId: message.eventId } : {}),
      });
    });
  }

  private async handle(connection: ClientConnection, message: ClientMessage): Promise<void> {
    const ref = 'ref' in message && message.ref ? { ref: message.ref } : {};
    switch (message.type) {
      case 'auth':
        return this.error(connection, 'already_authenticated', 'This connection is already authenticated; use refresh_token');
      case 'subscribe':
        return this.subscriptions.subscribe(connection, message);
      case 'unsubscribe':
        return this.subscriptions.unsubscribe(connection, message);
      case 'subscribe_personal':
        return this.personal.subscribe(connection, message);
      case 'unsubscribe_personal':
        return this.personal.unsubscribe(connection, message);
      case 'ping':
        return connection.send({ type: 'pong', serverTime: this.clock.now(), ...ref });
      case 'refresh_token': {
        let principal: Principal;
        try {
          principal = await this.options.verifier.verify(message.token);
        } catch {
          return this.error(connection, 'invalid_token', 'The new token is invalid or expired; the current one stays in use', ref);
        }
        // Same user and role only: what this connection may see was decided for them.
        if (principal.userId !== connection.principal.userId || principal.role !== connection.principal.role) {
          return this.error(connection, 'token_subject_mismatch', 'The new token is for another user or role; reconnect to switch', ref);
        }
        connection.principal = principal;
        return connection.send({ type: 'token_refreshed', expiresAt: new Date(principal.expiresAt).toISOString(), ...ref });
      }
    }
  }

  private error(connection: ClientConnection, code: RealtimeErrorCode, message: string, ref: { ref?: string } = {}): void {
    connection.send({ type: 'error', code, message, ...ref });
  }

  private reject(ws: WebSocket, code: number, reason: string): void {
    this.options.metrics.connectionAttempts.inc({ result: reason.replace(/ /g, '_') });
    ws.close(code, reason);
    // A peer that never answers the close would otherwise hold the socket for ws's 30 s close timeout.
    setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
  }

  /** One timer for every connection, a slice of them each beat: reap the dead, ping the rest. */
  private beat(): void {
    const slice = this.heartbeatSlices[this.beatSlice]!;
    this.beatSlice = (this.beatSlice + 1) % HEARTBEAT_SLICES;
    for (const connection of slice) {
      if (!connection.alive) {
        this.options.metrics.errors.inc({ code: 'heartbeat_timeout' });
        connection.socket.terminate();
      } else {
        connection.alive = false;
        connection.ping();
      }
    }
    // Once an interval, as before the slices.
    if (this.beatSlice !== 0) return;
    this.options.admission.prune();
    this.reconnects.prune();
  }
}

function parseJson(data: RawData): unknown {
  try {
    return JSON.parse(data.toString());
  } catch {
    return undefined;
  }
}

function parse(data: RawData): ClientMessage | undefined {
  const parsed = clientMessageSchema.safeParse(parseJson(data));
  return parsed.success ? parsed.data : undefined;
}
