/**
 * Scenario 2: fan-out under an on-sale. K viewers on real WebSockets, spread
 * over several client processes, all watching one hot event that changes
 * 1,000+ times a second, and each also one of several slow events. The same
 * change stream is then pushed by a plain Socket.IO server (a room per event,
 * one emit per change) to the same number of socket.io-client viewers.
 */
import { fileURLToPath } from 'node:url';
import { TokenVerifier } from '../../packages/server/src/auth/token-verifier.ts';
import type { DriverCommand, DriverInit, DriverResult } from '../workers/change-driver.ts';
import { signalEveryChange } from '../harness/change-signals.ts';
import { awaitExact, type Convergence } from '../harness/convergence.ts';
import { LatencyHistogram } from '../harness/histogram.ts';
import { ask, awaitReady, type Reply } from '../harness/ipc.ts';
import { cpuMsOf } from '../harness/proc-stat.ts';
import type { ProcessSample } from '../harness/process-sample.ts';
import type { GatewaySample } from '../workers/gateway.ts';
import { goal } from '../harness/goal.ts';
import type { BenchContext, Check, Goal, Scenario } from '../harness/scenario.ts';
import { seedEvents } from '../harness/seed-events.ts';
import { benchJwtSecret, startGateway, startSocketIoServer, UNLIMITED_CLIENTS, type ServerProcess } from '../harness/server-process.ts';
import { round } from '../harness/stats.ts';
import { startViewerFleet, totalStats, watchedBy, type ConnectedReply, type ViewerStats, type WatchPlan } from '../harness/viewer-fleet.ts';
import { startWorker } from '../harness/workers.ts';

const DRIVER = fileURLToPath(new URL('../workers/change-driver.ts', import.meta.url));
const TICK_MS = 100;
const SLOW_EVENTS = 20;
const TICKET_TYPES = 4;

interface Size {
  viewers: number;
  processes: number;
  seconds: number;
  hotPerSecond: number;
  slowPerSecond: number;
  /** How long viewers get to reach the final state after the last change. */
  settleMs: number;
}

const FULL: Size = { viewers: 10_000, processes: 4, seconds: 10, hotPerSecond: 1000, slowPerSecond: SLOW_EVENTS, settleMs: 20_000 };
const QUICK: Size = { viewers: 300, processes: 2, seconds: 3, hotPerSecond: 300, slowPerSecond: SLOW_EVENTS, settleMs: 10_000 };

type System = 'TicketPulse' | 'Socket.IO';

interface Run {
  system: System;
  connected: ConnectedReply[];
  driven: DriverResult;
  /** Each change times the viewers watching its event. */
  changeDeliveries: number;
  stats: ReturnType<typeof totalStats>;
  latency: LatencyHistogram;
  converged: Convergence;
  cpuMs: number;
  windowMs: number;
  rssPerConnection: number;
  /** TicketPulse: p99 bound of commit to the tick's frames being built, from the gateway's histogram. */
  serverSide: number | undefined;
}

async function runSystem(ctx: BenchContext, system: System, size: Size): Promise<Run> {
  const bench = await ctx.freshDatabase();
  const [hot, ...slow] = await seedEvents(bench.db, 1 + SLOW_EVENTS, TICKET_TYPES);
  const jwtSecret = benchJwtSecret();
  if (system === 'TicketPulse') await signalEveryChange(bench.db);
  const gateway = system === 'TicketPulse' ? await startGateway(ctx, bench, { jwtSecret, env: { ...UNLIMITED_CLIENTS, TICKETPULSE_TICK_MS: String(TICK_MS) } }) : undefined;
  const server: ServerProcess<ProcessSample> = gateway ?? (await startSocketIoServer(ctx, bench));
  const token = (await new TokenVerifier(jwtSecret).sign({ role: 'anon' }, 3600)).token;
  const watch: WatchPlan = { always: [hot!.eventId], oneOf: slow.map((e) => e.eventId) };

  const idle = await server.sample(true);
  ctx.progress(`${system}: connecting ${size.viewers.toLocaleString('en-US')} viewers from ${size.processes} processes`);
  const fleet = await startViewerFleet(ctx, {
    worker: system === 'TicketPulse' ? 'ticketpulse-viewers.ts' : 'socketio-viewers.ts',
    processes: size.processes,
    viewers: size.viewers,
    url: server.url,
    token,
    watch,
  });
  const connected = await fleet.askAll<ConnectedReply>({ type: 'connect', concurrency: 50 }, 300_000);
  const loaded = await server.sample(true);

  const driverInit: DriverInit = { url: bench.url, options: bench.options, hot: hot!, slow, lanes: 12 };
  const driver = startWorker<Reply>(DRIVER, driverInit);
  ctx.onCleanup(() => driver.stop());
  await awaitReady(driver);
  await fleet.askAll({ type: 'reset' });
  ctx.progress(`${system}: ${size.hotPerSecond} changes/s on the hot event for ${size.seconds} s`);
  const cpuBefore = cpuMsOf(server.pid);
  const started = performance.now();
  const command: DriverCommand = { type: 'run', seconds: size.seconds, hotPerSecond: size.hotPerSecond, slowPerSecond: size.slowPerSecond };
  const { result: driven } = await ask<Reply & { result: DriverResult }>(driver, command, (size.seconds + 60) * 1000);
  const converged = await awaitExact(fleet, bench.db, size.settleMs);
  const cpuMs = cpuMsOf(server.pid) - cpuBefore;
  const windowMs = performance.now() - started;
  const serverSide = gateway && commitToSendP99((await gateway.sample()).commitToSend);
  // Viewers first, so that their sockets closing is not counted as a drop; a server that
  // fell behind stops sending once its viewers are gone.
  await fleet.askAll({ type: 'close' });
  const stats = totalStats(await fleet.askAll<ViewerStats>({ type: 'stats' }));
  const latency = new LatencyHistogram();
  for (const buckets of stats.latency) latency.add(buckets);

  let changeDeliveries = 0;
  for (let v = 0; v < size.viewers; v++) for (const id of watchedBy(watch, v)) changeDeliveries += driven.perEvent[id] ?? 0;
  await fleet.stop();
  await server.stop();
  await driver.stop();
  ctx.progress(`${system}: ${stats.updates} updates delivered, p99 ${latency.percentile(99)} ms, ${round(cpuMs / 1000, 2)} CPU s, ${converged.exact}/${size.viewers} exact`);
  return {
    system,
    connected,
    driven,
    changeDeliveries,
    stats,
    latency,
    converged,
    cpuMs,
    windowMs,
    rssPerConnection: (loaded.rssBytes - idle.rssBytes) / size.viewers,
    serverSide,
  };
}

/** The bucket bound (ms) under which 99% of the gateway's own commit-to-send observations fall. */
function commitToSendP99(buckets: GatewaySample['commitToSend']): number {
  const total = buckets.at(-1)?.[1] ?? 0;
  const bound = buckets.find(([, count]) => count >= 0.99 * total)?.[0] ?? Infinity;
  return bound * 1000;
}

const per100k = (cpuMs: number, n: number) => (n > 0 ? (cpuMs / 1000 / n) * 100_000 : NaN);

/** Change deliveries a run completed: all of them for viewers that ended exact (TicketPulse), one per message otherwise (Socket.IO). */
function completedDeliveries(run: Run, viewers: number): number {
  return run.system === 'TicketPulse' ? run.changeDeliveries * (run.converged.exact / viewers) : run.stats.updates;
}

export const fanOut: Scenario = {
  name: 'fan-out',
  title: 'Fan-out under an on-sale',
  async run(ctx) {
    const size = ctx.quick ? QUICK : FULL;
    const runs: Run[] = [];
    for (const system of ['TicketPulse', 'Socket.IO'] as const) {
      if (ctx.signal.aborted) break;
      runs.push(await runSystem(ctx, system, size));
    }
    const [tp, io] = runs as [Run, Run | undefined];

    const row = (r: Run) => {
      const seconds = r.windowMs / 1000;
      return [
        r.system,
        r.connected.reduce((n, c) => n + c.ok, 0),
        r.driven.hotChanges + r.driven.slowChanges,
        round(r.driven.hotChanges / r.driven.seconds, 0),
        r.stats.messages,
        r.stats.updates,
        round(r.stats.updates / seconds, 0),
        r.latency.percentile(50),
        r.latency.percentile(99),
        r.latency.max,
        r.serverSide === undefined ? '—' : `≤ ${r.serverSide}`,
        round(r.cpuMs / 1000, 2),
        round(per100k(r.cpuMs, r.stats.updates), 3),
        round((r.cpuMs * 1e6) / completedDeliveries(r, size.viewers), 1),
        round(r.rssPerConnection / 1024, 1),
        `${r.converged.exact}/${size.viewers}`,
      ];
    };
    const table = {
      columns: [
        'system',
        'viewers',
        'changes',
        'hot changes/s',
        'messages delivered',
        'updates delivered',
        'updates/s',
        'p50 ms',
        'p99 ms',
        'max ms',
        'gateway commit-to-send p99 ms',
        'server CPU s',
        'CPU s / 100k updates',
        'CPU ns / change delivery',
        'RSS KB / connection',
        'viewers exact',
      ],
      rows: runs.map(row),
    };

    const tpConnected = tp.connected.reduce((n, c) => n + c.ok, 0);
    const checks: Check[] = [
      {
        check: 'every TicketPulse viewer connected and got its snapshots',
        ok: tpConnected === size.viewers,
        detail: `${tpConnected}/${size.viewers}${tp.connected.flatMap((c) => c.errors).slice(0, 2).map((e) => `; ${e}`).join('')}`,
      },
      {
        check: 'every TicketPulse viewer ends exact (counts and version equal to the database)',
        ok: tp.converged.wrong === 0,
        detail: tp.converged.wrong === 0 ? `${tp.converged.exact} viewers exact ${round(tp.converged.ms, 0)} ms after the last change` : `${tp.converged.wrong} wrong, e.g. ${tp.converged.example}`,
      },
      {
        check: 'the change stream was delivered (updates reached the viewers, none lost to gaps or closes)',
        ok: tp.stats.updates > 0 && tp.stats.closes === 0,
        detail: `${tp.stats.updates} updates, ${tp.stats.gaps} gaps resynced, ${tp.stats.closes} unexpected closes`,
      },
      {
        // The tick's leading edge sends a quiet event's change at once; under load it must not add frames.
        check: 'TicketPulse: at most one frame per viewer per tick (slow events’ changes ride on the hot event’s frames)',
        ok: tp.stats.messages / size.viewers <= tp.windowMs / TICK_MS + 2,
        detail: `${round(tp.stats.messages / size.viewers, 1)} frames per viewer in ${round(tp.windowMs / 1000, 1)} s: at most ${Math.floor(tp.windowMs / TICK_MS) + 2}`,
      },
    ];
    if (io) {
      const ioConnected = io.connected.reduce((n, c) => n + c.ok, 0);
      checks.push({ check: 'every Socket.IO viewer connected and joined', ok: ioConnected === size.viewers, detail: `${ioConnected}/${size.viewers}` });
    }

    const ratios = io
      ? [
          { name: 'server CPU per delivered update, TicketPulse / Socket.IO', value: per100k(tp.cpuMs, tp.stats.updates) / per100k(io.cpuMs, io.stats.updates) },
          {
            name: 'server CPU per change delivered to a viewer, TicketPulse / Socket.IO',
            value: per100k(tp.cpuMs, completedDeliveries(tp, size.viewers)) / per100k(io.cpuMs, completedDeliveries(io, size.viewers)),
          },
          { name: 'p99 commit-to-client latency, TicketPulse / Socket.IO', value: tp.latency.percentile(99) / io.latency.percentile(99) },
        ]
      : [];

    const goals: Goal[] = [];
    if (!ctx.quick && io) {
      const p99 = tp.latency.percentile(99);
      const cpuRatio = ratios[0]!.value;
      const cores = tp.cpuMs / tp.windowMs;
      const perFrameUs = (tp.cpuMs * 1000) / Math.max(1, tp.stats.messages);
      const demand = (perFrameUs * size.viewers * (1000 / TICK_MS)) / 1e6;
      const perChange = ratios[1]!.value;
      goals.push(
        goal(
          `p99 commit-to-client at most the tick plus 100 ms (${TICK_MS + 100} ms)`,
          `${p99} ms`,
          p99 <= TICK_MS + 100,
          `CPU on this 2-core machine: the gateway spent ${round(perFrameUs, 1)} µs per frame (profile: mostly the writev system call, which on loopback also runs the receiving side's TCP stack), one frame per viewer per tick: ${round(demand, 2)} cores to send every tick on time to ${size.viewers.toLocaleString('en-US')} viewers. It got ${round(cores, 2)} on average, beside ${size.processes} viewer processes, the change driver and PostgreSQL, so ticks came late and merged more`,
        ),
        goal(
          'gateway CPU per delivered update at most half of Socket.IO’s',
          `${cpuRatio.toFixed(2)}× (per change delivered to a viewer: ${perChange.toFixed(4)}×)`,
          cpuRatio <= 0.5,
          `what an update is: a TicketPulse update carries the final state of every ticket type that changed in its tick (full ticket objects), one write per viewer per tick, while a Socket.IO message carries one change's counts and, once the server falls behind, many queue per socket and leave in one write. For the same changes TicketPulse sends ${round(io.stats.messages / Math.max(1, tp.stats.messages), 0)}× fewer messages and spends ${perChange.toFixed(4)}× the CPU per change delivered`,
        ),
        { goal: 'every viewer ends exact', measured: `${tp.converged.exact}/${size.viewers}`, met: tp.converged.wrong === 0 },
      );
    }

    const notes = [
      'Messages delivered: frames a viewer received (TicketPulse: one `updates` frame per viewer per tick; Socket.IO: one message per change). Updates delivered: availability updates in them, one per event per frame. TicketPulse coalesces every change in a tick into one update carrying the final state, so it delivers far fewer updates for the same changes.',
      'CPU per 100k updates divides the server’s CPU time over the run (first change until every viewer was exact, or the settle deadline) by updates delivered. CPU per change delivery divides it by changes × viewers of the changed event that reached the viewers: for TicketPulse every change counts for every viewer that ended exact (the coalesced update contains it); for Socket.IO each message is one change delivered. The second is the fairer comparison of fan-out work.',
      'Gateway commit-to-send: the gateway’s own ticketpulse_commit_to_send_seconds histogram (commit to the tick having built the event’s update, before the frames are written), as the upper bound of its bucket; the rest of the client-side latency is writing the frames and the viewers reading them.',
      'Latency is commit to client on one host: the update’s `committedAt` (events.availability_changed_at by the database clock, for the last change merged into the update) to its arrival at the viewer. Socket.IO’s is the same column, carried in each change’s payload. Only delivered updates are counted: if Socket.IO had not delivered everything by the deadline, the rest are missing from its percentiles, not counted as late.',
      'Changes: each is one committed capacity edit of a ticket type (hot event: 4 types round-robin; slow events: one of 20 in turn), from a separate driver process with synchronous_commit=off. Both servers learn of each change the same way, from a per-change NOTIFY trigger on events: TicketPulse gets the event id on its bus channel (as from another TicketPulse node) and re-reads the event at its next tick; Socket.IO gets the event’s counts and emits them (a smaller payload than TicketPulse’s full ticket objects).',
      `RSS per connection: the server’s resident memory after all viewers joined minus before, divided by viewers. Each system ran alone, on its own schema, with the same viewers in ${size.processes} client processes.`,
    ];
    if (io && io.converged.wrong > 0) notes.push(`Socket.IO had not brought every viewer to the final state ${size.settleMs / 1000} s after the last change (${io.converged.wrong} behind, e.g. ${io.converged.example}).`);

    return {
      config: { ...size, tickMs: TICK_MS, slowEvents: SLOW_EVENTS, ticketTypesPerEvent: TICKET_TYPES, watchedPerViewer: 2 },
      table,
      ratios,
      goals,
      checks,
      notes,
    };
  },
};
