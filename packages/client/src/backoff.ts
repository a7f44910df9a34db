/**
 * Exponential backoff with full jitter: the n-th retry waits a random time in
 * [0, min(cap, base * 2^n)), so a crowd of clients dropped together does not
 * come back together.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly baseMs: number,
    private readonly capMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next retry; each call counts as one more attempt. */
  next(): number {
    const ceiling = Math.min(this.capMs, this.baseMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    return Math.floor(this.random() * ceiling);
  }

  /** A random delay under min(cap, windowMs), not counted as an attempt. */
  within(windowMs: number): number {
    return Math.floor(this.random() * Math.min(this.capMs, windowMs));
  }

  get attempts(): number {
    return this.attempt;
  }

  reset(): void {
    this.attempt = 0;
  }
}
