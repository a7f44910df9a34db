import type { ClientMessage, ServerMessage, WelcomeMessage } from '@ticketpulse/protocol';
import { Backoff } from '../backoff.ts';
import type { WebSocketConstructor, WebSocketLike } from '../types.ts';

export type SocketStatus = 'connecting' | 'connected' | 'reconnecting' | 'disconnected';

export interface SocketHandlers {
  welcome(message: WelcomeMessage): void;
  message(message: ServerMessage): void;
  status(status: SocketStatus): void;
  /** A connect attempt failed or a live connection dropped; `failures` in a row so far. */
  failed(failures: number, closeCode: number | undefined): void;
}

export interface SocketOptions {
  url: string;
  getToken: () => string | Promise<string>;
  /** Looked up at connect time, so a manager can be created where there is none (server rendering). */
  WebSocket: () => WebSocketConstructor;
  backoff: Backoff;
  /** A connect attempt without a welcome by then is abandoned and retried. */
  connectTimeoutMs: number;
  session: string;
  handlers: SocketHandlers;
}

const OPEN = 1;
/** Refresh the token this long before it expires. */
const REFRESH_MARGIN_MS = 60_000;
/** CloseCode.serviceRestart: the server is restarting and expects to be back within seconds. */
const SERVICE_RESTART = 1012;
/** After a restart was announced, retries are spread over this window instead of backing off further... */
const RESTART_WINDOW_MS = 2000;
/** ...for this long; a restart that takes longer is an outage, and backoff resumes. */
const RESTART_GRACE_MS = 30_000;

/** The `exp` of a JWT, without verifying it (the server does that). */
function tokenExpiry(token: string): number | undefined {
  try {
    const payload = token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/');
    const exp = (JSON.parse(atob(payload)) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

interface Connectivity {
  addEventListener?: (type: string, listener: () => void) => void;
  removeEventListener?: (type: string, listener: () => void) => void;
  navigator?: { onLine?: boolean };
}

/**
 * One WebSocket for everything. Reconnects with jittered backoff and never
 * gives up; retries at once when the browser comes back online and waits
 * while it is offline; notices a half-open connection by its silence; and
 * refreshes the token before it expires.
 */
export class RealtimeSocket {
  private ws: WebSocketLike | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private connectTimer: ReturnType<typeof setTimeout> | undefined;
  private lastHeard = 0;
  private failures = 0;
  private restartAnnouncedAt: number | undefined;
  private stopped = true;
  private current: SocketStatus = 'disconnected';
  private readonly env = globalThis as Connectivity;
  private readonly online = () => this.retryNow();
  private readonly offline = () => this.ws?.close(4000, 'offline');

  constructor(private readonly options: SocketOptions) {}

  get status(): SocketStatus {
    return this.current;
  }

  get isOpen(): boolean {
    return this.current === 'connected';
  }

  /** The server announced a restart (1012) less than RESTART_GRACE_MS ago and is not back yet. */
  get restarting(): boolean {
    return this.restartAnnouncedAt !== undefined && Date.now() - this.restartAnnouncedAt < RESTART_GRACE_MS;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.env.addEventListener?.('online', this.online);
    this.env.addEventListener?.('offline', this.offline);
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.env.removeEventListener?.('online', this.online);
    this.env.removeEventListener?.('offline', this.offline);
    this.clearTimers();
    const ws = this.ws;
    this.ws = undefined;
    ws?.close(1000, 'client done');
    this.setStatus('disconnected');
  }

  send(message: ClientMessage): boolean {
    if (!this.ws || this.ws.readyState !== OPEN || this.current !== 'connected') return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }

  /** Skip the wait: the network is back. */
  retryNow(): void {
    if (this.stopped || this.current === 'connected' || this.current === 'connecting') return;
    clearTimeout(this.retryTimer);
    this.options.backoff.reset();
    void this.connect();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    if (this.env.navigator?.onLine === false) return this.setStatus('disconnected'); // 'online' brings us back
    this.setStatus(this.failures === 0 ? 'connecting' : 'reconnecting');
    let token: string;
    try {
      token = await this.options.getToken();
    } catch {
      return this.dropped(undefined);
    }
    if (this.stopped) return;
    const url = new URL('/realtime', this.options.url.replace(/^http/, 'ws'));
    url.searchParams.set('token', token);
    url.searchParams.set('session', this.options.session);
    let ws: WebSocketLike;
    try {
      const WebSocketImpl = this.options.WebSocket();
      ws = new WebSocketImpl(url.toString()) as WebSocketLike;
    } catch {
      return this.dropped(undefined);
    }
    this.ws = ws;
    // A handshake lost in a half-open network never ends by itself: give up on it and retry.
    this.connectTimer = setTimeout(() => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      ws.close(4000, 'connect timeout');
      this.dropped(undefined);
    }, this.options.connectTimeoutMs);
    ws.onmessage = (event) => {
      this.lastHeard = Date.now();
      let message: ServerMessage;
      try {
        message = JSON.parse(String(event.data)) as ServerMessage;
      } catch {
        return;
      }
      if (message.type === 'welcome') this.welcomed(message, token);
      else this.options.handlers.message(message);
    };
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      this.dropped(event.code);
    };
    ws.onerror = () => {};
  }

  private welcomed(message: WelcomeMessage, token: string): void {
    clearTimeout(this.connectTimer);
    this.failures = 0;
    this.restartAnnouncedAt = undefined;
    this.options.backoff.reset();
    this.setStatus('connected');
    this.watchHeartbeat(message.heartbeatMs);
    this.scheduleRefresh(token);
    this.options.handlers.welcome(message);
  }

  private dropped(code: number | undefined): void {
    this.clearTimers();
    if (this.stopped) return;
    this.failures += 1;
    if (code === SERVICE_RESTART) this.restartAnnouncedAt = Date.now();
    this.setStatus('reconnecting');
    this.options.handlers.failed(this.failures, code);
    this.retryTimer = setTimeout(() => void this.connect(), this.retryDelay());
  }

  /**
   * Full-jitter exponential backoff, except just after the server announced a
   * restart (1012): it should be back within seconds, so retries stay spread
   * over a short window instead of growing to many seconds each. A crowd then
   * returns soon after the server does, still spread out, and the server's
   * admission control refuses what comes too fast (429) until it has capacity.
   */
  private retryDelay(): number {
    return this.restarting ? this.options.backoff.within(RESTART_WINDOW_MS) : this.options.backoff.next();
  }

  /** A connection that hears nothing for two heartbeats is dead, whatever TCP thinks. */
  private watchHeartbeat(heartbeatMs: number): void {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = setInterval(() => {
      if (Date.now() - this.lastHeard > heartbeatMs * 2) {
        const ws = this.ws;
        this.ws = undefined;
        ws?.close(4000, 'heartbeat timeout');
        this.dropped(undefined);
        return;
      }
      this.send({ type: 'ping' });
    }, heartbeatMs);
  }

  private scheduleRefresh(token: string): void {
    clearTimeout(this.refreshTimer);
    const expiry = tokenExpiry(token);
    if (expiry === undefined) return;
    this.refreshTimer = setTimeout(async () => {
      try {
        const fresh = await this.options.getToken();
        if (fresh !== token && this.send({ type: 'refresh_token', token: fresh })) this.scheduleRefresh(fresh);
      } catch {
        // The server closes with 4002 at expiry; the reconnect asks for a token again.
      }
    }, Math.max(1000, expiry - Date.now() - REFRESH_MARGIN_MS));
  }

  private clearTimers(): void {
    clearTimeout(this.retryTimer);
    clearInterval(this.heartbeatTimer);
    clearTimeout(this.refreshTimer);
    clearTimeout(this.connectTimer);
  }

  private setStatus(status: SocketStatus): void {
    if (status === this.current) return;
    this.current = status;
    this.options.handlers.status(status);
  }
}
