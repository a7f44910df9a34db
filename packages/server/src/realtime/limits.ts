/** Connection attempts per address: this node's token buckets, or counts shared through Redis. */
export interface ConnectAttemptLimiter {
  /** Counts an attempt from `key`; false when it is over the limit. */
  take(key: string): boolean | Promise<boolean>;
  /** Forgets keys with nothing to remember; called now and then. */
  prune(): void;
}

/** A token bucket: `ratePerSecond` on average, bursts up to `burst`. */
export class TokenBucket {
  private tokens: number;
  private updatedAt = Date.now();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  take(): boolean {
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedAt) / 1000) * this.ratePerSecond);
    this.updatedAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Full again: nothing to remember about this key. */
  get idle(): boolean {
    return this.tokens + ((Date.now() - this.updatedAt) / 1000) * this.ratePerSecond >= this.burst;
  }
}

/** One bucket per key (an IP address), forgotten once full again so the map stays small. */
export class KeyedRateLimiter implements ConnectAttemptLimiter {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
  ) {}

  take(key: string): boolean {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket(this.ratePerSecond, this.burst);
      this.buckets.set(key, bucket);
    }
    return bucket.take();
  }

  /** Drops buckets that have refilled; call now and then. */
  prune(): void {
    for (const [key, bucket] of this.buckets) if (bucket.idle) this.buckets.delete(key);
  }
}

/** Open connections per key (user id, IP address), with a ceiling. */
export class ConnectionCounter {
  private readonly counts = new Map<string, number>();

  constructor(private readonly max: number) {}

  /** Counts one more for `key` unless it is at the ceiling. */
  tryAdd(key: string): boolean {
    const count = this.counts.get(key) ?? 0;
    if (count >= this.max) return false;
    this.counts.set(key, count + 1);
    return true;
  }

  remove(key: string): void {
    const count = (this.counts.get(key) ?? 0) - 1;
    if (count > 0) this.counts.set(key, count);
    else this.counts.delete(key);
  }
}
