/** What every viewer worker does alike: connect in lanes, count, and check against the database. */
import { mismatch, type Counts, type ExpectedState } from './expected-state.ts';
import { LatencyHistogram } from './histogram.ts';
import { QueueFrameCounter, type QueueWatch } from './queue-frames.ts';
import { serve, type Command } from './ipc.ts';
import { watchedBy, type CheckReply, type ConnectedReply, type ViewersInit, type ViewerStats } from './viewer-fleet.ts';

/** The commands every viewer worker answers. */
export type ViewerCommand =
  | (Command & { type: 'connect'; concurrency: number })
  | (Command & { type: 'reset' })
  | (Command & { type: 'stats' })
  | (Command & { type: 'check'; expected: ExpectedState })
  | (Command & { type: 'close' });

export interface CheckedViewer {
  events: string[];
  /** Connects and joins its events; resolves with why it failed, or undefined. */
  open(): Promise<string | undefined>;
  /** Its copy of one event, if it has one. */
  view(eventId: string): { version: number; tickets: ReadonlyMap<string, Counts> } | undefined;
  /** Why it has no copy, for the check's example. */
  missing?(eventId: string): string;
}

/** A viewer's copies of the events it watches, by event id. */
export abstract class BaseViewer<Ticket extends Counts> implements CheckedViewer {
  readonly views = new Map<string, { version: number; tickets: Map<string, Ticket> }>();
  /** Set when the runner closes it, so that its close is not counted as a drop. */
  protected closing = false;

  constructor(readonly events: string[]) {}

  abstract open(): Promise<string | undefined>;
  protected abstract disconnect(): void;

  view(eventId: string) {
    return this.views.get(eventId);
  }

  close(): void {
    this.closing = true;
    this.disconnect();
  }
}

/** For `open()`: resolves once, with a failure or undefined, or with 'timed out' after `timeoutMs`. */
export function settleOnce(resolve: (failure: string | undefined) => void, timeoutMs = 60_000): (failure?: string) => void {
  let settled = false;
  const timer = setTimeout(() => done('timed out'), timeoutMs);
  const done = (failure?: string) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    resolve(failure);
  };
  return done;
}

/** Opens viewers `concurrency` at a time, so the handshakes come as a steady stream. */
export async function connectAll(viewers: readonly CheckedViewer[], concurrency: number): Promise<Omit<ConnectedReply, 'id'>> {
  let next = 0;
  let ok = 0;
  const failures: string[] = [];
  const lane = async () => {
    while (next < viewers.length) {
      const failure = await viewers[next++]!.open();
      if (failure) failures.push(failure);
      else ok += 1;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, viewers.length) }, lane));
  return { ok, failed: failures.length, errors: [...new Set(failures)].slice(0, 5) };
}

/** Viewers whose every watched event matches the database exactly. */
export function checkAll(viewers: readonly CheckedViewer[], expected: ExpectedState): Omit<CheckReply, 'id'> {
  let exact = 0;
  let example: string | undefined;
  for (const viewer of viewers) {
    let wrong: string | undefined;
    for (const id of viewer.events) {
      const view = viewer.view(id);
      wrong = view ? mismatch(id, view.version, view.tickets, expected) : `event ${id}: ${viewer.missing?.(id) ?? 'no state'}`;
      if (wrong) break;
    }
    if (wrong) example ??= wrong;
    else exact += 1;
  }
  return { exact, wrong: viewers.length - exact, ...(example && { example }) };
}

/** Counters since the last reset, as a `stats` reply. */
export class ViewerCounters {
  readonly latency = new LatencyHistogram();
  readonly queue = new QueueFrameCounter();
  /** Viewers that watch `queue` frames (the TicketPulse worker's), for their entry ids. */
  readonly queueWatches: QueueWatch[] = [];
  messages = 0;
  updates = 0;
  gaps = 0;
  closes = 0;
  errors: Record<string, number> = {};

  error(code: string): void {
    this.errors[code] = (this.errors[code] ?? 0) + 1;
  }

  reset(): void {
    this.latency.reset();
    this.queue.reset();
    this.messages = this.updates = this.gaps = this.closes = 0;
    this.errors = {};
  }

  reply(viewers: number): Omit<ViewerStats, 'id'> {
    const { messages, updates, gaps, closes } = this;
    return { viewers, messages, updates, gaps, closes, errors: { ...this.errors }, latency: this.latency.buckets(), queue: this.queue.stats(this.queueWatches) };
  }
}

/** Creates this process's viewers, one `make` per viewer with the events it watches, and serves the runner's commands. */
export function serveViewers<V extends CheckedViewer & { close(): void }>(init: ViewersInit, counters: ViewerCounters, make: (events: string[], token: string) => V): V[] {
  const viewers = Array.from({ length: init.count }, (_, i) => make(watchedBy(init.watch, init.offset + i), init.tokens?.[i] ?? init.token));
  serve<ViewerCommand>((command) =>
    answer(viewers, counters, command, () => {
      for (const viewer of viewers) viewer.close();
    }),
  );
  return viewers;
}

/** The commands every viewer worker answers alike; `close` is the worker's own. */
export function answer(viewers: readonly CheckedViewer[], counters: ViewerCounters, command: ViewerCommand, close: () => void): Promise<object> | object {
  switch (command.type) {
    case 'connect':
      return connectAll(viewers, command.concurrency);
    case 'reset':
      counters.reset();
      return {};
    case 'stats':
      return counters.reply(viewers.length);
    case 'check':
      return checkAll(viewers, command.expected);
    case 'close':
      close();
      return {};
  }
}
