/**
 * What waiting-room viewers count of the `queue` and `queue_entry` frames
 * they receive (bench/scenarios/queue-viewers.ts). A viewer process records,
 * for each new served-up-to mark, when each of its viewers first saw it
 * (absolute ms): the runner turns that into commit-to-client latency with the
 * admission ticks' times from the database, which the viewers do not know.
 */
import type { QueueEntryMessage, QueueMessage } from '@ticketpulse/protocol';
import { LatencyHistogram, type Buckets } from './histogram.ts';

export interface QueueFrameStats {
  /** `queue` frames received. */
  frames: number;
  /** `queue` frames with the same serverTime as the viewer's previous one: a second frame in one tick. */
  sameTick: number;
  /** `queue_entry` frames received. */
  entries: number;
  /** `queue_entry` frames for another entry than the viewer's first one. */
  foreignEntries: number;
  /** Each viewer's first entry id (those that got one). */
  entryIds: string[];
  /** Per served-up-to mark: when viewers first saw it, as a histogram of epoch ms. */
  arrivals: Array<[servedUpTo: number, Buckets]>;
}

/** One viewer's view of the queue frames: what it saw last, and whose entry is its own. */
export class QueueWatch {
  private servedUpTo = -1;
  private serverTime: string | undefined;
  entryId: string | undefined;

  constructor(private readonly counter: QueueFrameCounter) {}

  frame(message: QueueMessage, receivedAt: number): void {
    this.counter.frames += 1;
    if (message.serverTime === this.serverTime) this.counter.sameTick += 1;
    this.serverTime = message.serverTime;
    if (message.servedUpTo <= this.servedUpTo) return;
    this.servedUpTo = message.servedUpTo;
    this.counter.arrived(message.servedUpTo, receivedAt);
  }

  entry(message: QueueEntryMessage): void {
    this.counter.entries += 1;
    this.entryId ??= message.entry.id;
    if (message.entry.id !== this.entryId) this.counter.foreignEntries += 1;
  }
}

/** A viewer process's counts, since the last reset. */
export class QueueFrameCounter {
  frames = 0;
  sameTick = 0;
  entries = 0;
  foreignEntries = 0;
  private readonly arrivals = new Map<number, LatencyHistogram>();

  arrived(servedUpTo: number, at: number): void {
    let histogram = this.arrivals.get(servedUpTo);
    if (!histogram) this.arrivals.set(servedUpTo, (histogram = new LatencyHistogram()));
    histogram.record(at);
  }

  reset(): void {
    this.frames = this.sameTick = this.entries = this.foreignEntries = 0;
    this.arrivals.clear();
  }

  stats(watches: Iterable<QueueWatch>): QueueFrameStats {
    const entryIds: string[] = [];
    for (const watch of watches) if (watch.entryId) entryIds.push(watch.entryId);
    const { frames, sameTick, entries, foreignEntries } = this;
    return { frames, sameTick, entries, foreignEntries, entryIds, arrivals: [...this.arrivals].map(([mark, h]) => [mark, h.buckets()]) };
  }
}

/** Several processes' counts as one. */
export function addQueueFrameStats(all: QueueFrameStats[]): QueueFrameStats {
  const arrivals = new Map<number, LatencyHistogram>();
  for (const stats of all) {
    for (const [mark, buckets] of stats.arrivals) {
      let histogram = arrivals.get(mark);
      if (!histogram) arrivals.set(mark, (histogram = new LatencyHistogram()));
      histogram.add(buckets);
    }
  }
  const sum = (f: (s: QueueFrameStats) => number) => all.reduce((n, s) => n + f(s), 0);
  return {
    frames: sum((s) => s.frames),
    sameTick: sum((s) => s.sameTick),
    entries: sum((s) => s.entries),
    foreignEntries: sum((s) => s.foreignEntries),
    entryIds: all.flatMap((s) => s.entryIds),
    arrivals: [...arrivals].map(([mark, h]) => [mark, h.buckets()]),
  };
}

/** One admission tick that moved the mark: positions up to `servedUpTo` had their turn at `atMs` (database clock). */
export interface AdmissionMark {
  servedUpTo: number;
  atMs: number;
}

/**
 * Commit to client per admission tick and viewer: a tick's mark reaches a
 * viewer with the first frame carrying it or a later one (ticks the gateway
 * merged into one frame each count from their own time).
 */
export function admissionLatency(arrivals: QueueFrameStats['arrivals'], ticks: readonly AdmissionMark[]): LatencyHistogram {
  const marks = [...arrivals].sort((a, b) => a[0] - b[0]);
  const latency = new LatencyHistogram();
  for (const tick of ticks) {
    const delivered = marks.find(([mark]) => mark >= tick.servedUpTo);
    if (!delivered) continue;
    for (const [at, count] of delivered[1]) latency.record(at - tick.atMs, count);
  }
  return latency;
}
