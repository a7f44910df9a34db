import { randomUUID } from 'node:crypto';
import { CloseCode, type ServerMessage } from '@ticketpulse/protocol';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { isPrivileged, type Principal } from '../auth/principal.ts';
import { userKeyOf } from './admission.ts';
import type { TokenBucket } from './limits.ts';
import { PING_FRAME } from './text-frame.ts';
import type { UpdateSet } from './update-set.ts';
import type { RealtimeMetrics } from './metrics.ts';

export interface ConnectionLimits {
  maxSubscriptions: number;
  messagesPerSecond: number;
  /** Past this many unsent bytes the connection skips updates and later catches up with snapshots. */
  softBufferBytes: number;
  /** Past this many unsent bytes the connection is closed. */
  hardBufferBytes: number;
}

export type Admission = 'ok' | 'rejected' | 'close';

/** One authenticated client socket and what it is subscribed to. */
export class ClientConnection {
  readonly id = randomUUID();
  readonly subscriptions = new Set<string>();
  /** What the client subscribed with (a slug, an id in any case) to the event id, so it may unsubscribe with either. */
  readonly aliases = new Map<string, string>();
  /** Answered the last heartbeat (or sent anything since). */
  alive = true;
  /** Skipped updates because it could not keep up; gets snapshots once it has drained. */
  behind = false;
  /** When it was last sent an `updates` frame (Date.now()): at most one a tick. */
  updatedAt = -Infinity;
  /** The updates it gets in the fan-out under way (Publisher); undefined between fan-outs. */
  pending: UpdateSet | undefined = undefined;
  /** Whether the principal sees exact counts whatever the event discloses: worked out once per token, not per frame. */
  privileged: boolean;
  private current: Principal;
  private expiryTimer: NodeJS.Timeout | undefined;
  private rejectedInWindow = 0;
  private windowStart = Date.now();
  private lastRateLimitNotice = 0;

  constructor(
    readonly socket: WebSocket,
    /** The TCP (or TLS) socket under `socket`: shared frames, already framed, are written to it directly. */
    readonly wire: Duplex,
    principal: Principal,
    readonly ip: string,
    readonly limits: ConnectionLimits,
    /** Its inbound message budget (Admission). */
    private readonly bucket: TokenBucket,
    private readonly metrics: RealtimeMetrics,
  ) {
    this.current = principal;
    this.privileged = isPrivileged(principal);
    this.closeAtExpiry();
    socket.once('close', () => clearTimeout(this.expiryTimer));
  }

  get principal(): Principal {
    return this.current;
  }

  /** A refreshed token: same user and role, a later expiry. */
  set principal(principal: Principal) {
    this.current = principal;
    this.privileged = isPrivileged(principal);
    this.closeAtExpiry();
  }

  /** Closes with 4002 the moment the token expires, unless a refresh comes first. */
  private closeAtExpiry(): void {
    clearTimeout(this.expiryTimer);
    // setTimeout holds at most ~24.8 days; a longer-lived token is checked again then.
    const delay = Math.min(this.current.expiresAt - Date.now(), 2 ** 31 - 1);
    this.expiryTimer = setTimeout(() => {
      if (this.current.expiresAt <= Date.now()) this.close(CloseCode.tokenExpired, 'token expired');
      else this.closeAtExpiry();
    }, Math.max(0, delay));
    this.expiryTimer.unref();
  }

  /** Whom per-user limits count this connection against. */
  get userKey(): string {
    return userKeyOf(this.principal.userId, this.ip);
  }

  /** Rate limit for inbound messages: refuse past the rate, close when the flood goes on. */
  admit(): Admission {
    if (this.bucket.take()) return 'ok';
    const now = Date.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.rejectedInWindow = 0;
    }
    this.rejectedInWindow += 1;
    return this.rejectedInWindow > this.limits.messagesPerSecond ? 'close' : 'rejected';
  }

  /** At most one rate_limited notice a second, so refusing a flood does not become one. */
  shouldNotifyRateLimit(): boolean {
    const now = Date.now();
    if (now - this.lastRateLimitNotice < 1000) return false;
    this.lastRateLimitNotice = now;
    return true;
  }

  /** A reply or notice: never skipped, only refused past the hard limit. */
  send(message: ServerMessage): void {
    if (message.type === 'error') this.metrics.errors.inc({ code: message.code });
    this.write(JSON.stringify(message), false);
  }

  /**
   * An updates frame, a WebSocket frame many viewers share, framed once
   * (text-frame.ts): skipped while the socket is past the soft limit (the
   * client catches up with whole snapshots once it drains). `at` is the
   * fan-out's time, one for all its frames. Returns whether it was sent.
   */
  sendUpdates(frame: Buffer, at: number): boolean {
    const sent = this.write(frame, true);
    if (sent) this.updatedAt = at;
    return sent;
  }

  /** A frame many viewers share, framed once (text-frame.ts), that must not be skipped (it carries state, not a change to catch up on). Returns whether it was sent. */
  sendFrame(frame: Buffer): boolean {
    return this.write(frame, false);
  }

  /**
   * A message (a string, framed by ws) or a shared frame, already framed (a
   * Buffer), which goes straight to the wire, in order with ws's own writes:
   * ws writes each frame synchronously unless it is compressing, which this
   * server never does (upgrade-router.ts). Shared frames are counted in the
   * metrics by whoever fans them out, once per fan-out.
   */
  private write(frame: string | Buffer, skippable: boolean): boolean {
    if (this.socket.readyState !== this.socket.OPEN) return false;
    const buffered = this.unsent;
    if (buffered > this.limits.hardBufferBytes) {
      this.close(CloseCode.slowConsumer, 'slow consumer');
      return false;
    }
    if (skippable && buffered > this.limits.softBufferBytes) {
      this.behind = true;
      return false;
    }
    if (typeof frame !== 'string') {
      this.wire.write(frame);
      return true;
    }
    this.socket.send(frame);
    this.metrics.sent(1, Buffer.byteLength(frame));
    return true;
  }

  /** A heartbeat ping, one shared frame written as is: one write, where ws's ping corks two pieces into a writev. */
  ping(): void {
    if (this.socket.readyState === this.socket.OPEN) this.wire.write(PING_FRAME);
  }

  /**
   * Bytes written and not yet taken by the kernel: the wire's own, as ws
   * queues nothing of its own without compression (its bufferedAmount adds
   * only that), and read once per frame of every fan-out.
   */
  get unsent(): number {
    return this.wire.writableLength;
  }

  /** Drained enough to take snapshots again. */
  get drained(): boolean {
    return this.unsent <= this.limits.softBufferBytes;
  }

  close(code: number, reason: string): void {
    if (this.socket.readyState === this.socket.OPEN || this.socket.readyState === this.socket.CONNECTING) {
      if (code >= 4000) this.metrics.errors.inc({ code: `closed_${reason.replace(/ /g, '_')}` });
      this.socket.close(code, reason);
      // A peer that never answers the close must not hold the socket open.
      setTimeout(() => this.socket.terminate(), 2000).unref();
    }
  }
}
