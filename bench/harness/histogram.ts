/**
 * Latencies in whole milliseconds, counted per millisecond: viewer processes
 * record millions of samples and send the runner a few hundred buckets.
 */
export type Buckets = Array<[ms: number, count: number]>;

export class LatencyHistogram {
  private readonly counts = new Map<number, number>();

  record(ms: number, count = 1): void {
    const bucket = Math.max(0, Math.ceil(ms));
    this.counts.set(bucket, (this.counts.get(bucket) ?? 0) + count);
  }

  add(buckets: Buckets): void {
    for (const [ms, count] of buckets) this.counts.set(ms, (this.counts.get(ms) ?? 0) + count);
  }

  buckets(): Buckets {
    return [...this.counts];
  }

  reset(): void {
    this.counts.clear();
  }

  get count(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c;
    return n;
  }

  /** Nearest-rank percentile, in ms; NaN when empty. */
  percentile(p: number): number {
    const sorted = [...this.counts].sort((a, b) => a[0] - b[0]);
    const total = this.count;
    if (total === 0) return NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * total));
    let seen = 0;
    for (const [ms, count] of sorted) {
      seen += count;
      if (seen >= rank) return ms;
    }
    return sorted[sorted.length - 1]![0];
  }

  get max(): number {
    return this.counts.size ? Math.max(...this.counts.keys()) : NaN;
  }
}
