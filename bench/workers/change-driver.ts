/**
 * The change stream for the realtime scenarios, from its own process: one
 * hot event changes `hotPerSecond` times a second (round-robin over its ticket
 * types) and the other events `slowPerSecond` times a second between them.
 * A change is one committed organizer edit, a ticket type's capacity raised
 * by one seat: the same triggers and version bump as a hold, without holds'
 * own cost (measured by hot-holds). Commits are asynchronous
 * (synchronous_commit=off) so that one hot row can take 1,000+ changes a
 * second on any disk; what viewers see is unchanged by that.
 *
 * TicketPulse servers learn of the changes as from a second TicketPulse node
 * that made them: this process runs the product's own ChangeFeed and
 * ChangeTick (with no viewers of its own) on the PostgreSQL bus, so a quiet
 * event's change is signalled at once and a busy event's once a tick, as
 * docs/architecture.md describes. The Socket.IO baseline installs a trigger
 * of its own (bench/baselines/socket-io-server.ts).
 */
import pino from 'pino';
import { loadConfig } from '../../packages/server/src/config.ts';
import { openPostgres } from '../../packages/server/src/db/postgres.ts';
import { PostgresChangeBus } from '../../packages/server/src/realtime/buses/postgres-bus.ts';
import { ChangeFeed } from '../../packages/server/src/realtime/change-feed.ts';
import { ChangeTick } from '../../packages/server/src/realtime/change-tick.ts';
import { DatabaseClock } from '../../packages/server/src/realtime/database-clock.ts';
import { RealtimeMetrics } from '../../packages/server/src/realtime/metrics.ts';
import { serve, type Command } from '../harness/ipc.ts';
import type { SeededEvent } from '../harness/seed-events.ts';
import { sleep } from '../harness/stats.ts';
import { workerInit } from '../harness/workers.ts';

export interface DriverInit {
  url: string;
  options: string;
  hot: SeededEvent;
  slow: SeededEvent[];
  /** Concurrent connections for the hot event's changes. */
  lanes: number;
  /** The tick of the TicketPulse node this process stands in for (TICKETPULSE_TICK_MS): busy events are signalled once per tick. */
  tickMs: number;
}

export type DriverCommand = Command & { type: 'run'; seconds: number; hotPerSecond: number; slowPerSecond: number };

export interface DriverResult {
  hotChanges: number;
  slowChanges: number;
  /** Changes per event id. */
  perEvent: Record<string, number>;
  seconds: number;
}

const CHANGE = 'UPDATE event_tickets SET total_capacity = total_capacity + 1 WHERE id = $1';

const init = await workerInit<DriverInit>();
const db = await openPostgres({
  connectionString: init.url,
  options: `${init.options} -c synchronous_commit=off`,
  maxConnections: init.lanes + 2,
  onError: () => {},
});
const logger = pino({ level: 'warn' });
const feed = new ChangeFeed(new PostgresChangeBus(db, 'bench-change-driver'), logger);
const tick = new ChangeTick(db, feed, new DatabaseClock(), logger, new RealtimeMetrics({ processMetrics: false }), loadConfig({ TICKETPULSE_TICK_MS: String(init.tickMs) }).realtime);
await feed.start();
tick.start();

/** Runs `count` changes spread evenly over `seconds`, from `lanes` connections; returns how many were made. */
async function paced(count: number, seconds: number, lanes: number, change: (i: number) => Promise<void>): Promise<number> {
  const start = performance.now();
  let next = 0;
  let made = 0;
  const lane = async () => {
    while (next < count) {
      const i = next++;
      const due = start + (i * seconds * 1000) / count;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      // Behind schedule (the database is the limit): stop at the deadline rather than run over.
      if (performance.now() - start > seconds * 1000 + 1000) return;
      await change(i);
      made += 1;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(lanes, count)) }, lane));
  return made;
}

async function run(command: DriverCommand): Promise<DriverResult> {
  const perEvent: Record<string, number> = {};
  const touch = async (eventId: string, ticketTypeId: string) => {
    await db.query(CHANGE, [ticketTypeId]);
    feed.touch(eventId);
    perEvent[eventId] = (perEvent[eventId] ?? 0) + 1;
  };
  const started = performance.now();
  const { hot, slow } = init;
  const [hotChanges, slowChanges] = await Promise.all([
    paced(Math.round(command.hotPerSecond * command.seconds), command.seconds, init.lanes, (i) =>
      touch(hot.eventId, hot.ticketTypeIds[i % hot.ticketTypeIds.length]!),
    ),
    paced(Math.round(command.slowPerSecond * command.seconds), command.seconds, 1, (i) => {
      const event = slow[i % slow.length]!;
      return touch(event.eventId, event.ticketTypeIds[0]!);
    }),
  ]);
  const seconds = (performance.now() - started) / 1000;
  return { hotChanges, slowChanges, perEvent, seconds };
}

serve<DriverCommand>(async (command) => ({ result: await run(command) }));
process.on('SIGTERM', () => void (async () => {
  await tick.stop();
  await feed.close();
  await db.close();
})().finally(() => process.exit(0)));
