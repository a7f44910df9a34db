import type { ServerMessage, WelcomeMessage } from '@ticketpulse/protocol';
import { Backoff } from '../backoff.ts';
import { findFetch } from '../http-client.ts';
import type { StatsRecorder } from '../client-stats.ts';
import type { ServerClock } from '../server-clock.ts';
import type { AnalyticsEvent, AvailabilityTransport, ConnectionStatus, FetchLike, TicketAvailabilityManagerOptions, TransportSink, WebSocketConstructor } from '../types.ts';
import { EventChannel } from './event-channel.ts';
import { POLL_INTERVAL_MS, PollingFallback } from './polling-fallback.ts';
import { RealtimeSocket, type SocketStatus } from './realtime-socket.ts';

/** What the transport tells the manager about its one connection, which every event shares. */
export interface ConnectionMonitor {
  readonly clock: ServerClock;
  readonly stats: StatsRecorder;
  report(event: AnalyticsEvent): void;
  /** The connection's status, `polling` while polling stands in for it. */
  status(status: ConnectionStatus): void;
}

/**
 * TicketPulse's own service: every event over one WebSocket (`/realtime`,
 * docs/protocol.md), each an EventChannel, with HTTP polling standing in
 * while the WebSocket cannot connect.
 */
export class TicketPulseTransport implements AvailabilityTransport {
  private readonly channels = new Map<string, EventChannel>();
  private readonly socket: RealtimeSocket;
  private readonly fallback: PollingFallback;
  private readonly replyTimeoutMs: number;
  private readonly backoff: () => Backoff;
  private welcomed = false;
  private droppedAt: number | undefined;

  constructor(
    options: TicketAvailabilityManagerOptions,
    private readonly monitor: ConnectionMonitor,
  ) {
    const { reconnect = {} } = options;
    const url = options.url.replace(/\/+$/, '');
    this.backoff = () => new Backoff(reconnect.baseMs ?? 500, reconnect.capMs ?? 20_000, options.random);
    this.replyTimeoutMs = reconnect.connectTimeoutMs ?? 10_000;
    // Looked up when first needed: creating a manager during server rendering opens nothing and needs neither.
    const webSocket = (): WebSocketConstructor => {
      const found = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
      if (!found) throw new Error('No WebSocket here: pass one in options (for example from the ws package)');
      return found;
    };
    const fetchImpl: FetchLike = (input, init) => findFetch(options.fetch)(input, init);
    this.socket = new RealtimeSocket({
      url,
      getToken: options.getToken,
      WebSocket: webSocket,
      backoff: this.backoff(),
      connectTimeoutMs: this.replyTimeoutMs,
      session: Math.random().toString(36).slice(2, 14),
      handlers: {
        welcome: (message) => this.onWelcome(message),
        message: (message) => this.onMessage(message),
        status: (status) => this.onSocketStatus(status),
        failed: (failures) => this.onSocketFailed(failures),
      },
    });
    this.fallback = new PollingFallback({
      url,
      fetch: fetchImpl,
      getToken: options.getToken,
      intervalMs: options.pollIntervalMs ?? POLL_INTERVAL_MS,
      afterFailures: reconnect.pollAfterFailures ?? 3,
      report: monitor.report,
      channels: () => this.channels.values(),
      clock: monitor.clock,
    });
  }

  watch(eventId: string, sink: TransportSink): () => void {
    const channel = new EventChannel(eventId, sink, {
      send: (message) => this.socket.send(message),
      replyTimeoutMs: this.replyTimeoutMs,
      backoff: this.backoff,
      timedOut: () => this.monitor.stats.error('join_timeout'),
    });
    this.channels.set(eventId, channel);
    if (this.socket.isOpen) {
      sink.status(this.fallback.isActive ? 'polling' : 'connecting');
      channel.join();
    } else {
      channel.connection(this.status);
      this.socket.start();
    }
    this.monitor.status(this.status);
    return () => {
      channel.leave();
      if (this.channels.get(eventId) === channel) this.channels.delete(eventId);
      // Not at once: an event admitted in the same task (one waiting for room) keeps the socket.
      queueMicrotask(() => {
        if (this.channels.size > 0) return;
        this.socket.stop();
        this.fallback.stop();
      });
    };
  }

  private get status(): ConnectionStatus {
    return this.fallback.isActive ? 'polling' : this.socket.status;
  }

  private find(eventId: string): EventChannel | undefined {
    for (const channel of this.channels.values()) if (channel.is(eventId)) return channel;
    return undefined;
  }

  private onWelcome(message: WelcomeMessage): void {
    this.monitor.clock.observe(message.serverTime);
    const afterMs = this.droppedAt === undefined ? undefined : Date.now() - this.droppedAt;
    this.monitor.stats.connectAttempt(true, afterMs);
    if (afterMs !== undefined) this.monitor.report({ type: 'reconnected', afterMs });
    this.welcomed = true;
    this.droppedAt = undefined;
    this.fallback.stop();
    // Rejoin with what we have: the server answers "unchanged" or with a newer snapshot.
    for (const channel of this.channels.values()) channel.join();
    this.monitor.status(this.status);
  }

  private onMessage(message: ServerMessage): void {
    switch (message.type) {
      case 'subscribed': {
        this.monitor.clock.observe(message.serverTime);
        const channel = (message.ref && this.channels.get(message.ref)) || this.find(message.eventId);
        return channel?.joined(message);
      }
      case 'updates':
        this.monitor.clock.observe(message.serverTime);
        for (const update of message.updates) this.find(update.eventId)?.apply(update);
        return;
      case 'error': {
        const channel = (message.ref && this.channels.get(message.ref)) || (message.eventId && this.find(message.eventId));
        if (channel && message.code !== 'rate_limited') channel.fail(message.code, message.message);
        else this.monitor.stats.error(message.code);
        return;
      }
      case 'queue': {
        const { type, serverTime, ...live } = message;
        this.monitor.clock.observe(serverTime);
        return this.find(message.eventId)?.queue(live);
      }
      case 'queue_entry':
        return this.find(message.eventId)?.queueEntry(message.entry);
      case 'pong':
        return this.monitor.clock.observe(message.serverTime);
      default:
        return;
    }
  }

  private onSocketStatus(status: SocketStatus): void {
    if (status !== 'connected') for (const channel of this.channels.values()) channel.connection(this.status);
    this.monitor.status(this.status);
  }

  private onSocketFailed(failures: number): void {
    if (this.welcomed && this.droppedAt === undefined) this.droppedAt = Date.now();
    this.monitor.stats.connectAttempt(false);
    // Not while the server restarts: its HTTP API is restarting too, and a crowd polling it would cost a query per viewer.
    if (this.socket.restarting || this.channels.size === 0) return;
    if (this.fallback.socketFailed(failures)) this.onSocketStatus(this.socket.status);
  }
}
