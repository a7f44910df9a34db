/**
 * Viewers are played by several client processes (bench/workers/*-viewers.ts),
 * never by the process under test. Each process connects from its own
 * loopback address (127.0.0.2, .3, ...): a socket bound to a source address
 * before it connects takes one of that address's 28,000 or so ephemeral
 * ports, whatever it connects to. A closed viewer's port stays taken for a
 * minute (TIME_WAIT), so each fleet takes the next addresses after the
 * last fleet's, not the same ones: a fleet of 10,000 right after another
 * would otherwise find its ports in use (EADDRINUSE). A fleet may instead give every
 * viewer an address of its own (127.1.x.y), as real viewers come from many
 * addresses: then the service's per-address limits apply as they would.
 */
import { fileURLToPath } from 'node:url';
import { raiseFileLimit } from './file-limit.ts';
import type { Buckets } from './histogram.ts';
import { addQueueFrameStats, type QueueFrameStats } from './queue-frames.ts';
import { ask, awaitReady, type Command, type Reply } from './ipc.ts';
import type { BenchContext } from './scenario.ts';
import { startWorker, type Worker } from './workers.ts';

/** Which events each viewer watches: all of `always`, and one of `oneOf` in turn. */
export interface WatchPlan {
  always: string[];
  oneOf: string[];
}

/** What every viewer process is started with. */
export interface ViewersInit {
  url: string;
  token: string;
  /** One token per viewer of this process, in place of `token` (viewers who are each their own user). */
  tokens?: string[];
  count: number;
  /** Index of this process's first viewer among all viewers (picks its `oneOf` event). */
  offset: number;
  localAddress: string;
  /** Whether each viewer connects from an address of its own (viewerAddress) rather than `localAddress`. */
  addressPerViewer?: boolean;
  watch: WatchPlan;
}

/** The loopback address viewer `index` (over all processes) connects from when each has its own: 127.1.0.0 on, up to 65,536 viewers. */
export function viewerAddress(index: number): string {
  if (index >= 65_536) throw new Error(`viewerAddress: ${index} is past the 127.1.0.0/16 block`);
  return `127.1.${index >> 8}.${index & 255}`;
}

export function watchedBy(plan: WatchPlan, viewer: number): string[] {
  return plan.oneOf.length ? [...plan.always, plan.oneOf[viewer % plan.oneOf.length]!] : [...plan.always];
}

/** Answer to `connect`: viewers that got every snapshot they asked for. */
export interface ConnectedReply extends Reply {
  ok: number;
  failed: number;
  errors: string[];
}

/** Answer to `stats` (counted since the last `reset`). */
export interface ViewerStats extends Reply {
  viewers: number;
  /** `updates` frames (TicketPulse) or change messages (Socket.IO). */
  messages: number;
  /** Availability updates received: one per event per frame. */
  updates: number;
  /** Updates that did not apply on the viewer's version and needed a resubscribe. */
  gaps: number;
  /** Connections closed without being asked to. */
  closes: number;
  errors: Record<string, number>;
  /** Commit to client, per update. */
  latency: Buckets;
  queue: QueueFrameStats;
}

/** Answer to `check`: how many viewers hold exactly the database's state. */
export interface CheckReply extends Reply {
  exact: number;
  wrong: number;
  example?: string;
}

export interface ViewerFleet {
  workers: Array<Worker<Reply>>;
  /** The same command to every process; their replies in process order. */
  askAll<R extends Reply>(command: Command, timeoutMs?: number): Promise<R[]>;
  stop(): Promise<void>;
}

export interface FleetOptions {
  /** A viewer worker, relative to bench/workers/. */
  worker: string;
  processes: number;
  viewers: number;
  url: string;
  token: string;
  /** One token per viewer (by index over all processes), in place of `token`. */
  tokens?: string[];
  /** Each viewer on a loopback address of its own (viewerAddress), not one per process. */
  addressPerViewer?: boolean;
  watch: WatchPlan;
}

/** The last octet of the next fleet process's address: 2 to 254, then round again (by then its ports are free). */
let nextAddress = 2;

function takeAddress(): string {
  const address = `127.0.0.${nextAddress}`;
  nextAddress = nextAddress === 254 ? 2 : nextAddress + 1;
  return address;
}

export async function startViewerFleet(ctx: BenchContext, options: FleetOptions): Promise<ViewerFleet> {
  const script = fileURLToPath(new URL(`../workers/${options.worker}`, import.meta.url));
  const workers: Array<Worker<Reply>> = [];
  let offset = 0;
  for (let i = 0; i < options.processes; i++) {
    const count = Math.floor(options.viewers / options.processes) + (i < options.viewers % options.processes ? 1 : 0);
    const init: ViewersInit = {
      url: options.url,
      token: options.token,
      ...(options.tokens && { tokens: options.tokens.slice(offset, offset + count) }),
      count,
      offset,
      localAddress: takeAddress(),
      ...(options.addressPerViewer && { addressPerViewer: true }),
      watch: options.watch,
    };
    const worker = startWorker<Reply>(script, init, { nodeArgs: ['--max-old-space-size=4096'] });
    raiseFileLimit(worker.child.pid!);
    workers.push(worker);
    offset += count;
  }
  const stop = async () => {
    await Promise.all(workers.map((w) => w.stop()));
  };
  ctx.onCleanup(stop);
  await Promise.all(workers.map((w) => awaitReady(w)));
  return {
    workers,
    askAll: <R extends Reply>(command: Command, timeoutMs?: number) => Promise.all(workers.map((w) => ask<R>(w, command, timeoutMs))),
    stop,
  };
}

/** Sums the processes' stats. */
export function totalStats(replies: ViewerStats[]): Omit<ViewerStats, 'id' | 'latency'> & { latency: Buckets[] } {
  const errors: Record<string, number> = {};
  for (const r of replies) for (const [code, n] of Object.entries(r.errors)) errors[code] = (errors[code] ?? 0) + n;
  const sum = (f: (r: ViewerStats) => number) => replies.reduce((n, r) => n + f(r), 0);
  return {
    viewers: sum((r) => r.viewers),
    messages: sum((r) => r.messages),
    updates: sum((r) => r.updates),
    gaps: sum((r) => r.gaps),
    closes: sum((r) => r.closes),
    errors,
    latency: replies.map((r) => r.latency),
    queue: addQueueFrameStats(replies.map((r) => r.queue)),
  };
}

export function totalCheck(replies: CheckReply[]): { exact: number; wrong: number; example?: string } {
  const example = replies.find((r) => r.example)?.example;
  return { exact: replies.reduce((n, r) => n + r.exact, 0), wrong: replies.reduce((n, r) => n + r.wrong, 0), ...(example && { example }) };
}
