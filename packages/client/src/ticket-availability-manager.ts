import type { AvailabilitySnapshot, ServerMessage, TicketAvailability, WelcomeMessage } from '@ticketpulse/protocol';
import { Backoff } from './backoff.ts';
import { EventChannel, type TicketChange } from './event-channel.ts';
import { Poller } from './poller.ts';
import { RealtimeSocket, type SocketStatus } from './realtime-socket.ts';
import { ServerClock } from './server-clock.ts';
import { detectTransition } from './transitions.ts';
import type {
  AnalyticsEvent,
  AvailabilityTransport,
  ClientStats,
  ConnectionStatus,
  EventListener,
  EventState,
  FetchLike,
  TicketAvailabilityManagerOptions,
  Transition,
  TransportManagerOptions,
  TransportSink,
  WebSocketConstructor,
} from './types.ts';

/** Default for `lingerMs`. */
const LINGER_MS = 10_000;
const LATENCY_SAMPLES = 100;

interface TransitionListener {
  listener: (transition: Transition) => void;
  eventId: string | undefined;
  threshold: number;
}

interface CachedEvent {
  snapshot: Pick<AvailabilitySnapshot, 'eventId' | 'version' | 'tickets'>;
  savedAt: number;
}

function emptyStats(): ClientStats {
  return {
    connectAttempts: 0,
    connectSuccesses: 0,
    reconnectionsMs: [],
    messagesReceived: 0,
    updatesApplied: 0,
    errorsByType: {},
    latencyMs: { last: null, average: null, samples: 0 },
    mode: 'idle',
  };
}

/**
 * Live ticket availability for any number of events over one WebSocket, with
 * reconnects, version resync, a polling fallback, a cache, transitions
 * (low stock, sold out, back in stock) and client-side statistics. Given a
 * transport instead of a service URL, events are watched through it.
 */
export class TicketAvailabilityManager {
  /** The server's clock, corrected for this device's offset. */
  readonly clock = new ServerClock();
  private readonly channels = new Map<string, EventChannel>();
  private readonly byServerId = new Map<string, EventChannel>();
  private readonly lingering = new Map<EventChannel, ReturnType<typeof setTimeout>>();
  private readonly statusListeners = new Set<(status: ConnectionStatus) => void>();
  private readonly transitionListeners = new Set<TransitionListener>();
  private readonly pending = new Set<EventChannel>();
  private readonly socket: RealtimeSocket;
  private readonly poller: Poller;
  private readonly maxChannels: number;
  private readonly debounceMs: number;
  private readonly lowStockThreshold: number;
  private readonly pollAfterFailures: number;
  private notifyTimer: ReturnType<typeof setTimeout> | undefined;
  private stats = emptyStats();
  private droppedAt: number | undefined;
  private overall: ConnectionStatus = 'disconnected';
  private readonly unknown = new Map<string, EventState>();
  private readonly transport: AvailabilityTransport | undefined;
  /** With a transport: how to stop watching each event. */
  private readonly watches = new Map<EventChannel, () => void>();

  constructor(private readonly options: TicketAvailabilityManagerOptions | TransportManagerOptions) {
    this.transport = 'transport' in options ? options.transport : undefined;
    // With a transport the socket and the poller are never started; they are built anyway so the service path needs no checks.
    const service: TicketAvailabilityManagerOptions = 'transport' in options ? { url: '', getToken: () => '' } : options;
    this.maxChannels = options.maxChannels ?? 10;
    this.debounceMs = options.debounceMs ?? 50;
    this.lowStockThreshold = options.lowStockThreshold ?? 10;
    this.pollAfterFailures = service.reconnect?.pollAfterFailures ?? 3;
    // Looked up when first needed: creating a manager during server rendering opens nothing and needs neither.
    const webSocket = (): WebSocketConstructor => {
      const found = service.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
      if (!found) throw new Error('No WebSocket here: pass one in options (for example from the ws package)');
      return found;
    };
    const fetchImpl: FetchLike = (input, init) => {
      const found = service.fetch ?? (globalThis as { fetch?: FetchLike }).fetch;
      if (!found) throw new Error('No fetch here: pass one in options');
      return found(input, init);
    };
    const url = service.url.replace(/\/+$/, '');
    this.socket = new RealtimeSocket({
      url,
      getToken: service.getToken,
      WebSocket: webSocket,
      backoff: new Backoff(service.reconnect?.baseMs ?? 500, service.reconnect?.capMs ?? 20_000, service.random),
      connectTimeoutMs: service.reconnect?.connectTimeoutMs ?? 10_000,
      session: Math.random().toString(36).slice(2, 14),
      handlers: {
        welcome: (message) => this.onWelcome(message),
        message: (message) => this.onMessage(message),
        status: (status) => this.onSocketStatus(status),
        failed: (failures) => this.onSocketFailed(failures),
      },
    });
    this.poller = new Poller({
      url,
      fetch: fetchImpl,
      getToken: service.getToken,
      intervalMs: service.pollIntervalMs ?? 5000,
      targets: () => [...this.activeChannels()].map((c) => ({ key: c.serverId ?? c.key, version: c.version })),
      snapshot: (key, snapshot) => {
        this.clock.observe(snapshot.serverTime);
        const channel = this.find(key);
        if (channel) this.changed(channel, channel.load(snapshot));
      },
      unchanged: (key) => {
        const channel = this.find(key);
        if (!channel) return;
        channel.confirmed();
        this.schedule(channel);
      },
      failed: (key, status) => {
        const channel = this.find(key);
        if (!channel || (status !== 404 && status !== 403)) return;
        this.fail(channel, 'event_not_found', 'Event not found');
      },
    });
  }

  /**
   * Watches an event (id or slug). `listener` hears every change, at most once
   * per debounce window. Returns the function that stops listening.
   */
  subscribeToEvent(eventId: string, listener: EventListener): () => void {
    const channel = this.open(eventId);
    channel.listeners.add(listener);
    channel.lastUsed = Date.now();
    clearTimeout(this.lingering.get(channel));
    this.lingering.delete(channel);
    return () => {
      if (!channel.listeners.delete(listener) || channel.listeners.size > 0) return;
      // Someone refused for lack of room gets it now; otherwise linger for a quick return.
      if (this.someoneWaiting()) return this.close(channel);
      this.lingering.set(
        channel,
        setTimeout(() => this.close(channel), this.options.lingerMs ?? LINGER_MS),
      );
    };
  }

  /** The current state of an event: the same object until something changes (for useSyncExternalStore). */
  getEventState(eventId: string): EventState {
    const channel = this.channels.get(eventId);
    if (channel) return channel.state;
    let state = this.unknown.get(eventId);
    if (!state) {
      // Not subscribed yet (the first render, before effects run): about to connect.
      state = { eventId, availability: new Map(), version: 0, status: 'connecting', isStale: false, lastUpdated: null, error: null };
      this.unknown.set(eventId, state);
    }
    return state;
  }

  getCurrentAvailability(eventId: string): ReadonlyMap<string, TicketAvailability> | undefined {
    return this.channels.get(eventId)?.state.availability;
  }

  getTicketAvailability(eventId: string, ticketTypeId: string): TicketAvailability | undefined {
    return this.getCurrentAvailability(eventId)?.get(ticketTypeId);
  }

  /** Overall, or for one event (as in its current EventState). */
  getConnectionStatus(eventId?: string): ConnectionStatus {
    if (eventId === undefined) return this.overall;
    return this.getEventState(eventId).status;
  }

  onStatusChange(listener: (status: ConnectionStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /** Low stock, sold out and back in stock, each once per change, for one event or all. */
  onTransition(listener: (transition: Transition) => void, filter: { eventId?: string; lowStockThreshold?: number } = {}): () => void {
    const entry = { listener, eventId: filter.eventId, threshold: filter.lowStockThreshold ?? this.lowStockThreshold };
    this.transitionListeners.add(entry);
    return () => this.transitionListeners.delete(entry);
  }

  /**
   * Shows the user's own hold at once. The next server version includes it;
   * call `rollback()` if the hold failed.
   */
  applyOptimisticHold(eventId: string, items: ReadonlyArray<{ ticketTypeId: string; quantity: number }>): { rollback(): void } {
    const channel = this.channels.get(eventId);
    if (!channel) return { rollback() {} };
    const id = channel.addOptimistic(items);
    this.schedule(channel);
    return {
      rollback: () => {
        channel.removeOptimistic(id);
        this.schedule(channel);
      },
    };
  }

  /** Reports an analytics event through `onEvent` (the reservation manager uses it too). */
  report(event: AnalyticsEvent): void {
    this.options.onEvent?.(event);
  }

  getStats(): ClientStats {
    return { ...this.stats, reconnectionsMs: [...this.stats.reconnectionsMs], errorsByType: { ...this.stats.errorsByType }, latencyMs: { ...this.stats.latencyMs } };
  }

  /** Closes everything; the manager can be used again afterwards. */
  cleanup(): void {
    for (const timer of this.lingering.values()) clearTimeout(timer);
    this.lingering.clear();
    clearTimeout(this.notifyTimer);
    this.notifyTimer = undefined;
    this.pending.clear();
    for (const unwatch of this.watches.values()) unwatch();
    this.watches.clear();
    this.channels.clear();
    this.byServerId.clear();
    this.socket.stop();
    this.stopPolling();
    this.setOverall('disconnected');
  }

  // ---- channels

  private *activeChannels(): Iterable<EventChannel> {
    for (const channel of this.channels.values()) if (channel.error?.code !== 'too_many_channels') yield channel;
  }

  private someoneWaiting(): boolean {
    for (const channel of this.channels.values()) if (channel.error?.code === 'too_many_channels' && channel.listeners.size > 0) return true;
    return false;
  }

  private find(key: string): EventChannel | undefined {
    return this.byServerId.get(key) ?? this.channels.get(key);
  }

  private open(key: string): EventChannel {
    const existing = this.channels.get(key);
    if (existing) return existing;
    const channel = new EventChannel(key);
    this.channels.set(key, channel);
    if (!this.makeRoom(channel)) {
      this.fail(channel, 'too_many_channels', `At most ${this.maxChannels} events at once, and all have listeners`);
      return channel;
    }
    this.report({ type: 'subscription_started', eventId: key });
    void this.restore(channel);
    this.join(channel);
    return channel;
  }

  /** Evicts the least recently used event nobody listens to; false when every one has listeners. */
  private makeRoom(channel: EventChannel): boolean {
    const active = [...this.activeChannels()].filter((c) => c !== channel);
    if (active.length < this.maxChannels) return true;
    const idle = active.filter((c) => c.listeners.size === 0).sort((a, b) => a.lastUsed - b.lastUsed)[0];
    if (!idle) return false;
    this.close(idle);
    return true;
  }

  private join(channel: EventChannel): void {
    if (this.transport) return this.watch(channel, this.transport);
    channel.status = this.poller.isActive ? 'polling' : this.socket.isOpen ? 'connecting' : this.socket.status;
    this.schedule(channel);
    if (this.socket.isOpen) this.sendSubscribe(channel);
    else this.socket.start();
    this.mode();
  }

  private close(channel: EventChannel): void {
    clearTimeout(this.lingering.get(channel));
    this.lingering.delete(channel);
    this.channels.delete(channel.key);
    if (channel.serverId) this.byServerId.delete(channel.serverId);
    this.unknown.delete(channel.key);
    const unwatch = this.watches.get(channel);
    this.watches.delete(channel);
    if (unwatch) unwatch();
    else if (channel.serverId) this.socket.send({ type: 'unsubscribe', eventId: channel.serverId });
    // Someone refused for lack of room may now have it.
    for (const waiting of this.channels.values()) {
      if (waiting.error?.code === 'too_many_channels' && waiting.listeners.size > 0 && this.makeRoom(waiting)) {
        waiting.error = null;
        this.join(waiting);
        break;
      }
    }
    if (this.channels.size === 0) {
      this.socket.stop();
      this.stopPolling();
    }
    this.mode();
  }

  private sendSubscribe(channel: EventChannel): void {
    this.socket.send({
      type: 'subscribe',
      eventId: channel.serverId ?? channel.key,
      ref: channel.key,
      ...(channel.version > 0 ? { sinceVersion: channel.version } : {}),
    });
  }

  private fail(channel: EventChannel, code: string, message: string): void {
    channel.error = { code, message };
    channel.status = 'error';
    this.countError(code);
    this.schedule(channel);
  }

  // ---- a transport

  private watch(channel: EventChannel, transport: AvailabilityTransport): void {
    channel.status = 'connecting';
    this.schedule(channel);
    const sink: TransportSink = {
      snapshot: (snapshot, committedAt) => {
        this.stats.messagesReceived += 1;
        this.stats.updatesApplied += 1;
        if (committedAt) this.recordLatency(this.clock.now() - Date.parse(committedAt));
        this.changed(channel, channel.load(snapshot));
      },
      status: (status) => {
        channel.status = status;
        this.schedule(channel);
        this.mode();
      },
      error: (code, message) => this.fail(channel, code, message),
    };
    this.watches.set(channel, transport.watch(channel.key, sink));
    this.mode();
  }

  /** Through a transport each event connects on its own: connected when every event is, else the state of one that is not. */
  private transportStatus(): ConnectionStatus {
    let status: ConnectionStatus = 'connected';
    for (const channel of this.activeChannels()) if (channel.status !== 'connected' && channel.status !== 'error') status = channel.status;
    return status;
  }

  // ---- the socket

  private onWelcome(message: WelcomeMessage): void {
    this.clock.observe(message.serverTime);
    this.stats.connectAttempts += 1;
    this.stats.connectSuccesses += 1;
    if (this.droppedAt !== undefined) {
      const afterMs = Date.now() - this.droppedAt;
      this.stats.reconnectionsMs.push(afterMs);
      this.droppedAt = undefined;
      this.report({ type: 'reconnected', afterMs });
    }
    this.stopPolling();
    // Resubscribe with what we have: the server answers "unchanged" or with a newer snapshot.
    for (const channel of this.activeChannels()) this.sendSubscribe(channel);
    this.mode();
  }

  private onMessage(message: ServerMessage): void {
    this.stats.messagesReceived += 1;
    switch (message.type) {
      case 'subscribed': {
        this.clock.observe(message.serverTime);
        const channel = (message.ref && this.channels.get(message.ref)) || this.byServerId.get(message.eventId);
        if (!channel) return;
        channel.serverId = message.eventId;
        this.byServerId.set(message.eventId, channel);
        channel.status = 'connected';
        if (message.snapshot) this.changed(channel, channel.load(message.snapshot));
        else {
          channel.confirmed();
          this.schedule(channel);
        }
        return;
      }
      case 'updates': {
        this.clock.observe(message.serverTime);
        for (const update of message.updates) {
          const channel = this.byServerId.get(update.eventId);
          if (!channel) continue;
          const changes: TicketChange[] = [];
          const result = channel.apply(update, changes);
          if (result === 'gap') this.sendSubscribe(channel);
          if (result !== 'applied') continue;
          this.stats.updatesApplied += 1;
          this.recordLatency(this.clock.now() - Date.parse(update.committedAt));
          this.changed(channel, changes);
        }
        return;
      }
      case 'error': {
        const channel = (message.ref && this.channels.get(message.ref)) || (message.eventId && this.find(message.eventId));
        if (channel && message.code !== 'rate_limited') this.fail(channel, message.code, message.message);
        else this.countError(message.code);
        return;
      }
      case 'pong':
        this.clock.observe(message.serverTime);
        return;
      default:
        return;
    }
  }

  private onSocketStatus(status: SocketStatus): void {
    if (status !== 'connected') {
      for (const channel of this.activeChannels()) {
        if (channel.status !== 'error') channel.status = this.poller.isActive ? 'polling' : this.socket.status;
        this.schedule(channel);
      }
    }
    this.mode();
  }

  private onSocketFailed(failures: number): void {
    if (this.droppedAt === undefined && this.stats.connectSuccesses > 0) this.droppedAt = Date.now();
    this.stats.connectAttempts += 1;
    this.countError('connection_failed');
    // Not while the server restarts: its HTTP API is restarting too, and a crowd polling it would cost a query per viewer.
    if (failures >= this.pollAfterFailures && !this.socket.restarting && this.channels.size > 0 && !this.poller.isActive) {
      this.poller.start();
      this.report({ type: 'polling_started' });
      this.onSocketStatus(this.socket.status);
    }
  }

  private stopPolling(): void {
    if (!this.poller.isActive) return;
    this.poller.stop();
    this.report({ type: 'polling_stopped' });
  }

  /** Overall status and mode, recomputed from the socket and the poller. */
  private mode(): void {
    this.stats.mode = this.channels.size === 0 ? 'idle' : this.poller.isActive ? 'polling' : 'websocket';
    const connection = this.transport ? this.transportStatus() : this.socket.status;
    this.setOverall(this.channels.size === 0 ? 'disconnected' : this.poller.isActive ? 'polling' : connection);
  }

  private setOverall(status: ConnectionStatus): void {
    if (status === this.overall) return;
    this.overall = status;
    for (const listener of this.statusListeners) listener(status);
  }

  // ---- changes, notifications, cache

  private changed(channel: EventChannel, changes: TicketChange[]): void {
    for (const { before, after } of changes) {
      for (const entry of this.transitionListeners) {
        if (entry.eventId !== undefined && entry.eventId !== channel.key && entry.eventId !== channel.serverId) continue;
        const kind = detectTransition(before, after, entry.threshold);
        if (!kind) continue;
        entry.listener({ kind, eventId: channel.serverId ?? channel.key, ticket: after });
        this.report({ type: 'transition_shown', eventId: channel.serverId ?? channel.key, ticketTypeId: after.ticketTypeId, transition: kind });
      }
    }
    this.schedule(channel);
  }

  /** Listeners hear at most once per debounce window, whatever happened in it. */
  private schedule(channel: EventChannel): void {
    this.pending.add(channel);
    this.notifyTimer ??= setTimeout(() => this.flush(), this.debounceMs);
  }

  private flush(): void {
    this.notifyTimer = undefined;
    const channels = [...this.pending];
    this.pending.clear();
    for (const channel of channels) {
      const state = channel.refresh();
      if (!state.isStale && state.version > 0) this.persist(channel);
      for (const listener of channel.listeners) listener(state);
    }
  }

  private persist(channel: EventChannel): void {
    const storage = this.options.storage;
    if (!storage) return;
    const cached: CachedEvent = {
      snapshot: { eventId: channel.serverId ?? channel.key, version: channel.version, tickets: [...channel.state.availability.values()] },
      savedAt: channel.lastUpdated ?? Date.now(),
    };
    void Promise.resolve(storage.setItem(`event:${channel.key}`, JSON.stringify(cached))).catch(() => {});
  }

  /** Shows the cached snapshot, marked stale, until the server answers. */
  private async restore(channel: EventChannel): Promise<void> {
    const storage = this.options.storage;
    if (!storage) return;
    try {
      const raw = await storage.getItem(`event:${channel.key}`);
      if (!raw || channel.version > 0) return;
      const cached = JSON.parse(raw) as CachedEvent;
      channel.load(cached.snapshot, true);
      channel.lastUpdated = cached.savedAt;
      this.schedule(channel);
    } catch {
      // A corrupt cache entry is ignored; the server's answer replaces it.
    }
  }

  private countError(code: string): void {
    this.stats.errorsByType[code] = (this.stats.errorsByType[code] ?? 0) + 1;
  }

  private recordLatency(ms: number): void {
    const latency = this.stats.latencyMs;
    const samples = Math.min(latency.samples + 1, LATENCY_SAMPLES);
    latency.average = latency.average === null ? ms : latency.average + (ms - latency.average) / samples;
    latency.last = ms;
    latency.samples = samples;
  }
}
