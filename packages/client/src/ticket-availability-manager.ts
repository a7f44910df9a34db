import type { QueueEntry, TicketAvailability } from '@ticketpulse/protocol';
import { AvailabilityCache } from './availability-cache.ts';
import { StatsRecorder } from './client-stats.ts';
import { NotificationQueue } from './notification-queue.ts';
import type { HeldItems, OptimisticHold } from './optimistic-holds.ts';
import { queueApi, type QueueApi } from './queue-api.ts';
import { QueueWatch } from './queue-watch.ts';
import { ServerClock } from './server-clock.ts';
import { POLL_INTERVAL_MS } from './ticketpulse/polling-fallback.ts';
import { TicketPulseTransport } from './ticketpulse/ticketpulse-transport.ts';
import { TransitionListeners } from './transition-listeners.ts';
import type { AnalyticsEvent, AvailabilityTransport, ClientStats, ConnectionStatus, EventListener, EventState, QueueListener, QueueState } from './types.ts';
import type { TicketAvailabilityManagerOptions, Transition, TransportManagerOptions, TransportSink } from './types.ts';
import { WatchedEvent } from './watched-event.ts';

/** Default for `lingerMs`. */
const LINGER_MS = 10_000;

/**
 * Live ticket availability for any number of events: a registry of the
 * events watched (at most `maxChannels`, the least recently used without
 * listeners evicted, each lingering a while after its last listener) over
 * one AvailabilityTransport, TicketPulse's own service unless given another,
 * with debounced notifications, transitions, a cache, optimistic holds and
 * client-side statistics.
 */
export class TicketAvailabilityManager {
  /** The server's clock, corrected for this device's offset. */
  readonly clock = new ServerClock();
  private readonly events = new Map<string, WatchedEvent>();
  private readonly lingering = new Map<WatchedEvent, ReturnType<typeof setTimeout>>();
  /** With the transport: how to stop watching each event. */
  private readonly watches = new Map<WatchedEvent, () => void>();
  /** States handed out for events nobody subscribed to yet (the first render, before effects run). */
  private readonly unknown = new Map<string, EventState>();
  private readonly statusListeners = new Set<(status: ConnectionStatus) => void>();
  private readonly stats = new StatsRecorder();
  private readonly transport: AvailabilityTransport;
  private readonly transitions: TransitionListeners;
  private readonly notifications: NotificationQueue;
  private readonly cache: AvailabilityCache;
  private readonly maxChannels: number;
  /** Waiting rooms by the key their event is watched with. */
  private readonly queues = new Map<string, QueueWatch>();
  /** TicketPulse's service only: the visitor's waiting-room routes. */
  private readonly queueApi: QueueApi | undefined;
  /** The status of a transport's one shared connection; undefined when each event connects on its own. */
  private connection: ConnectionStatus | undefined;
  private overall: ConnectionStatus = 'disconnected';

  constructor(private readonly options: TicketAvailabilityManagerOptions | TransportManagerOptions) {
    const report = (event: AnalyticsEvent) => options.onEvent?.(event);
    this.maxChannels = options.maxChannels ?? 10;
    this.transitions = new TransitionListeners(options.lowStockThreshold ?? 10, report);
    this.cache = new AvailabilityCache(options.storage);
    this.notifications = new NotificationQueue(options.debounceMs ?? 50, (event) => {
      const state = event.refresh();
      if (!state.isStale && state.version > 0) this.cache.save(event);
      for (const listener of event.listeners) listener(state);
    });
    if ('url' in options) this.queueApi = queueApi(options);
    this.transport =
      'transport' in options
        ? options.transport
        : new TicketPulseTransport(options, {
            clock: this.clock,
            stats: this.stats,
            report,
            status: (status) => {
              this.connection = status;
              this.updateStatus();
            },
          });
  }

  /**
   * Watches an event (id or slug). `listener` hears every change, at most once
   * per debounce window. Returns the function that stops listening.
   */
  subscribeToEvent(eventId: string, listener: EventListener): () => void {
    const event = this.open(eventId);
    event.listeners.add(listener);
    event.lastUsed = Date.now();
    clearTimeout(this.lingering.get(event));
    this.lingering.delete(event);
    return () => {
      if (!event.listeners.delete(listener) || event.listeners.size > 0) return;
      // Someone refused for lack of room gets it now; otherwise linger for a quick return.
      if (this.someoneWaiting()) return this.close(event);
      this.lingering.set(
        event,
        setTimeout(() => this.close(event), this.options.lingerMs ?? LINGER_MS),
      );
    };
  }

  /** The current state of an event: the same object until something changes (for useSyncExternalStore). */
  getEventState(eventId: string): EventState {
    const event = this.events.get(eventId);
    if (event) return event.state;
    let state = this.unknown.get(eventId);
    if (!state) {
      // Not subscribed yet: about to connect.
      state = { eventId, availability: new Map(), version: 0, status: 'connecting', isStale: false, lastUpdated: null, error: null };
      this.unknown.set(eventId, state);
    }
    return state;
  }

  getCurrentAvailability(eventId: string): ReadonlyMap<string, TicketAvailability> | undefined {
    return this.events.get(eventId)?.state.availability;
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
    return this.transitions.add(listener, filter);
  }

  /**
   * Shows the user's own hold at once. Call `settle(reservation.availabilityVersion)`
   * with the hold response: the seats stay shown until that version is applied,
   * whatever unrelated updates come first. Unsettled, the next newer version is
   * taken to include it. Call `rollback()` if the hold failed.
   */
  applyOptimisticHold(eventId: string, items: HeldItems): OptimisticHold {
    const event = this.events.get(eventId);
    if (!event) return { rollback() {}, settle() {} };
    const id = event.addHold(items);
    this.notifications.schedule(event);
    const changed = () => this.notifications.schedule(event);
    return {
      rollback: () => {
        event.removeHold(id);
        changed();
      },
      settle: (availabilityVersion) => {
        event.settleHold(id, availabilityVersion);
        changed();
      },
    };
  }

  /**
   * The user's place in the event's waiting room (docs/waiting-room.md),
   * live: `listener` hears each change and each second of a countdown.
   * Keeps the event subscribed, which is what keeps a joined visitor present
   * (no extra requests). Returns the function that stops listening.
   */
  watchQueue(eventId: string, listener: QueueListener): () => void {
    const watch = this.queueOf(eventId);
    const unlisten = watch.listen(listener);
    const unsubscribe = this.subscribeToEvent(eventId, () => {});
    watch.connection(this.getEventState(eventId).status);
    return () => {
      unlisten();
      unsubscribe();
    };
  }

  /** The current QueueState: the same object until something changes (for useSyncExternalStore). */
  getQueueState(eventId: string): QueueState {
    return this.queueOf(eventId).state;
  }

  /**
   * Joins the waiting room, or answers the entry the user has: never a better
   * place. Rejects with an ApiError. Name the event as `watchQueue` does (the
   * same id or slug), so the answer reaches that watch at once.
   */
  joinQueue(eventId: string): Promise<QueueEntry> {
    return this.queueOf(eventId).run(() => this.queueRoutes().join(eventId));
  }

  /** Leaves the waiting room (the entry reads `closed`). Rejects with an ApiError. */
  async leaveQueue(eventId: string): Promise<void> {
    await this.queueOf(eventId).run(() => this.queueRoutes().leave(eventId));
  }

  /** The user's running pass for the event (id or slug), which HoldClient sends with holds. */
  queuePass(eventId: string): string | undefined {
    for (const watch of this.queues.values()) if (watch.is(eventId) && watch.pass) return watch.pass;
    return undefined;
  }

  getStats(): ClientStats {
    return this.stats.read();
  }

  /** Closes everything; the manager can be used again afterwards. */
  cleanup(): void {
    for (const timer of this.lingering.values()) clearTimeout(timer);
    this.lingering.clear();
    this.notifications.clear();
    for (const unwatch of this.watches.values()) unwatch();
    this.watches.clear();
    for (const watch of this.queues.values()) watch.stop();
    this.queues.clear();
    this.events.clear();
    this.unknown.clear();
    this.updateStatus();
  }

  // ---- the registry

  private queueOf(key: string): QueueWatch {
    let watch = this.queues.get(key);
    if (!watch) {
      const pollIntervalMs = ('url' in this.options && this.options.pollIntervalMs) || POLL_INTERVAL_MS;
      watch = new QueueWatch(key, this.clock, this.queueApi?.poll, pollIntervalMs);
      this.queues.set(key, watch);
    }
    return watch;
  }

  private queueRoutes(): QueueApi {
    if (!this.queueApi) throw new Error("The waiting room needs TicketPulse's own service (a manager created with `url`)");
    return this.queueApi;
  }

  private someoneWaiting(): boolean {
    for (const event of this.events.values()) if (event.isWaiting && event.listeners.size > 0) return true;
    return false;
  }

  private open(key: string): WatchedEvent {
    const existing = this.events.get(key);
    if (existing) return existing;
    const event = new WatchedEvent(key);
    this.events.set(key, event);
    if (!this.makeRoom(event)) {
      this.fail(event, 'too_many_channels', `At most ${this.maxChannels} events at once, and all have listeners`);
      return event;
    }
    this.options.onEvent?.({ type: 'subscription_started', eventId: key });
    void this.cache.restore(event).then((loaded) => loaded && this.notifications.schedule(event));
    this.watch(event);
    return event;
  }

  /** Evicts the least recently used event nobody listens to; false when every one has listeners. */
  private makeRoom(event: WatchedEvent): boolean {
    const watched = [...this.events.values()].filter((e) => e !== event && !e.isWaiting);
    if (watched.length < this.maxChannels) return true;
    const idle = watched.filter((e) => e.listeners.size === 0).sort((a, b) => a.lastUsed - b.lastUsed)[0];
    if (!idle) return false;
    this.close(idle);
    return true;
  }

  private close(event: WatchedEvent): void {
    clearTimeout(this.lingering.get(event));
    this.lingering.delete(event);
    this.events.delete(event.key);
    this.unknown.delete(event.key);
    this.watches.get(event)?.();
    this.watches.delete(event);
    // Someone refused for lack of room may now have it.
    for (const waiting of this.events.values()) {
      if (waiting.isWaiting && waiting.listeners.size > 0 && this.makeRoom(waiting)) {
        waiting.error = null;
        this.watch(waiting);
        break;
      }
    }
    this.updateStatus();
  }

  private fail(event: WatchedEvent, code: string, message: string): void {
    event.fail(code, message);
    this.stats.error(code);
    this.notifications.schedule(event);
  }

  // ---- the transport

  private watch(event: WatchedEvent): void {
    event.status = 'connecting';
    this.notifications.schedule(event);
    const sink: TransportSink = {
      snapshot: (snapshot, committedAt) => {
        const newer = snapshot.version > event.version || event.isStale;
        this.stats.delivered(newer, committedAt ? this.clock.now() - Date.parse(committedAt) : undefined);
        this.transitions.announce(event, event.load(snapshot));
        this.notifications.schedule(event);
      },
      status: (status) => {
        this.queues.get(event.key)?.connection(status);
        event.status = status;
        this.notifications.schedule(event);
        this.updateStatus();
      },
      error: (code, message) => this.fail(event, code, message),
      queue: (live) => this.queueOf(event.key).setLive(live),
      queueEntry: (entry) => this.queueOf(event.key).setEntry(entry),
    };
    this.watches.set(event, this.transport.watch(event.key, sink));
    this.updateStatus();
  }

  /** Overall status and the statistics' mode. */
  private updateStatus(): void {
    const idle = this.events.size === 0;
    const status = idle ? 'disconnected' : (this.connection ?? this.eachEventStatus());
    this.stats.mode = idle ? 'idle' : status === 'polling' ? 'polling' : 'websocket';
    if (status === this.overall) return;
    this.overall = status;
    for (const listener of this.statusListeners) listener(status);
  }

  /** When each event connects on its own: connected when every event is, else the state of one that is not. */
  private eachEventStatus(): ConnectionStatus {
    let status: ConnectionStatus = 'connected';
    for (const event of this.events.values()) if (!event.isWaiting && event.status !== 'connected' && event.status !== 'error') status = event.status;
    return status;
  }
}
