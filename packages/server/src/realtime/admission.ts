import { ConnectionCounter, KeyedRateLimiter, TokenBucket, type ConnectAttemptLimiter } from './limits.ts';

export interface AdmissionLimits {
  maxFrameBytes: number;
  maxConnectionsPerUser: number;
  maxConnectionsPerIp: number;
  connectAttemptsPerIpPerSecond: number;
  messagesPerSecond: number;
}

/**
 * Who may connect, and how much each connection may send, for every realtime
 * endpoint (native and Supabase-compatible) alike: a client cannot double its
 * share by using both. Connection attempts per address, open connections per
 * address and per user, frame size, inbound message rate.
 */
export class Admission {
  readonly maxFrameBytes: number;
  private readonly attempts: ConnectAttemptLimiter;
  private readonly perIp: ConnectionCounter;
  private readonly perUser: ConnectionCounter;

  /** `attempts`: shared through Redis when given, this node's own token buckets otherwise. */
  constructor(
    private readonly limits: AdmissionLimits,
    attempts?: ConnectAttemptLimiter,
  ) {
    this.maxFrameBytes = limits.maxFrameBytes;
    this.attempts = attempts ?? new KeyedRateLimiter(limits.connectAttemptsPerIpPerSecond, limits.connectAttemptsPerIpPerSecond);
    this.perIp = new ConnectionCounter(limits.maxConnectionsPerIp);
    this.perUser = new ConnectionCounter(limits.maxConnectionsPerUser);
  }

  /** Counts a connection attempt from `ip`; false when it is over the limit. */
  attempt(ip: string): boolean | Promise<boolean> {
    return this.attempts.take(ip);
  }

  /**
   * Counts an open connection against its address and its user; returns the
   * function that gives the places back when it closes, or undefined when
   * either is full.
   */
  open(ip: string, userKey: string): (() => void) | undefined {
    if (!this.perIp.tryAdd(ip)) return undefined;
    if (!this.perUser.tryAdd(userKey)) {
      this.perIp.remove(ip);
      return undefined;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.perIp.remove(ip);
      this.perUser.remove(userKey);
    };
  }

  /** A new connection's inbound message budget: the rate on average, bursts of twice it. */
  messageBucket(): TokenBucket {
    return new TokenBucket(this.limits.messagesPerSecond, this.limits.messagesPerSecond * 2);
  }

  /** Forgets addresses with nothing to remember; called now and then. */
  prune(): void {
    this.attempts.prune();
  }
}

/** Whom per-user limits count a connection against: its user, or an anonymous one per address. */
export const userKeyOf = (userId: string | undefined, ip: string): string => userId ?? `anon@${ip}`;
