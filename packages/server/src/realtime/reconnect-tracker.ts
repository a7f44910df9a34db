import type { RealtimeMetrics } from './metrics.ts';

const REMEMBER_MS = 15 * 60_000;
const MAX_SESSIONS = 50_000;

/**
 * Remembers when client sessions (the `session` URL parameter) disconnected,
 * so a reconnect can be counted and its gap measured: the design's
 * "average reconnection time".
 */
export class ReconnectTracker {
  private readonly disconnectedAt = new Map<string, number>();

  constructor(private readonly metrics: RealtimeMetrics) {}

  connected(session: string): void {
    const at = this.disconnectedAt.get(session);
    if (at === undefined) return;
    this.disconnectedAt.delete(session);
    this.metrics.reconnections.inc();
    this.metrics.reconnectGap.observe((Date.now() - at) / 1000);
  }

  disconnected(session: string): void {
    // Insertion order is age order: the oldest goes first when full.
    if (this.disconnectedAt.size >= MAX_SESSIONS) this.disconnectedAt.delete(this.disconnectedAt.keys().next().value!);
    this.disconnectedAt.delete(session);
    this.disconnectedAt.set(session, Date.now());
  }

  prune(): void {
    const cutoff = Date.now() - REMEMBER_MS;
    for (const [session, at] of this.disconnectedAt) {
      if (at >= cutoff) break;
      this.disconnectedAt.delete(session);
    }
  }
}
