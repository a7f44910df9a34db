import type { ClientStats } from './types.ts';

/** The running average of latency covers at most this many recent samples. */
const LATENCY_SAMPLES = 100;

/** What `getStats()` reports, counted as things happen. */
export class StatsRecorder {
  private stats: ClientStats = {
    connectAttempts: 0,
    connectSuccesses: 0,
    reconnectionsMs: [],
    messagesReceived: 0,
    updatesApplied: 0,
    errorsByType: {},
    latencyMs: { last: null, average: null, samples: 0 },
    mode: 'idle',
  };

  /** A connect attempt ended; `reconnectedAfterMs` when it ended a drop. */
  connectAttempt(succeeded: boolean, reconnectedAfterMs?: number): void {
    this.stats.connectAttempts += 1;
    if (succeeded) this.stats.connectSuccesses += 1;
    else this.error('connection_failed');
    if (reconnectedAfterMs !== undefined) this.stats.reconnectionsMs.push(reconnectedAfterMs);
  }

  get everConnected(): boolean {
    return this.stats.connectSuccesses > 0;
  }

  /** A snapshot reached an event; `newer` when it moved the event on, with the latency since its commit if known. */
  delivered(newer: boolean, latencyMs?: number): void {
    this.stats.messagesReceived += 1;
    if (newer) this.stats.updatesApplied += 1;
    if (latencyMs !== undefined) this.latency(latencyMs);
  }

  error(code: string): void {
    this.stats.errorsByType[code] = (this.stats.errorsByType[code] ?? 0) + 1;
  }

  set mode(mode: ClientStats['mode']) {
    this.stats.mode = mode;
  }

  /** A copy: callers may keep it while counting goes on. */
  read(): ClientStats {
    const { stats } = this;
    return { ...stats, reconnectionsMs: [...stats.reconnectionsMs], errorsByType: { ...stats.errorsByType }, latencyMs: { ...stats.latencyMs } };
  }

  private latency(ms: number): void {
    const latency = this.stats.latencyMs;
    const samples = Math.min(latency.samples + 1, LATENCY_SAMPLES);
    latency.average = latency.average === null ? ms : latency.average + (ms - latency.average) / samples;
    latency.last = ms;
    latency.samples = samples;
  }
}
