/**
 * Scenario 3: connections. As many idle but subscribed viewers as one gateway
 * process holds, with its memory per connection; the same viewers on the
 * Socket.IO baseline, each in its event's room. After the memory is read,
 * every event changes once and every viewer must receive it: the connections
 * are live, not merely open.
 */
import { TokenVerifier } from '../../packages/server/src/auth/token-verifier.ts';
import { awaitExact } from '../harness/convergence.ts';
import type { ProcessSample } from '../harness/process-sample.ts';
import { goal } from '../harness/goal.ts';
import type { BenchContext, Check, Goal, Scenario } from '../harness/scenario.ts';
import { seedEvents } from '../harness/seed-events.ts';
import { benchJwtSecret, startGateway, startSocketIoServer, UNLIMITED_CLIENTS, type ServerProcess } from '../harness/server-process.ts';
import { round } from '../harness/stats.ts';
import { startViewerFleet, type ConnectedReply } from '../harness/viewer-fleet.ts';

const GOAL_CONNECTIONS = 50_000;
const GOAL_RSS_BYTES = 1.5 * 1024 ** 3;
const EVENTS = 10;
/** Connections per client process: well under one source address's ~28,000 ports and a process's file limit. */
const PER_PROCESS = 10_000;
/** File descriptors a server needs besides its clients' sockets (database pool, listener, stdio, modules). */
const SPARE_FILES = 200;
const MB = 1024 ** 2;

type System = 'TicketPulse' | 'Socket.IO';

interface Run {
  system: System;
  target: number;
  fileLimit: number;
  connected: number;
  errors: string[];
  idle: ProcessSample;
  loaded: ProcessSample;
  connectSeconds: number;
  live: { exact: number; wrong: number; example?: string; ms: number };
}

async function runSystem(ctx: BenchContext, system: System, wanted: number): Promise<Run> {
  const bench = await ctx.freshDatabase();
  const events = await seedEvents(bench.db, EVENTS, 1);
  const jwtSecret = benchJwtSecret();
  const server: ServerProcess<ProcessSample> =
    system === 'TicketPulse' ? await startGateway(ctx, bench, { jwtSecret, env: UNLIMITED_CLIENTS }) : await startSocketIoServer(ctx, bench);
  const target = Math.min(wanted, server.fileLimit - SPARE_FILES);
  const token = (await new TokenVerifier(jwtSecret).sign({ role: 'anon' }, 3600)).token;
  const idle = await server.sample(true);
  const processes = Math.max(2, Math.ceil(target / PER_PROCESS));
  ctx.progress(`${system}: opening ${target.toLocaleString('en-US')} connections from ${processes} processes (server file limit ${server.fileLimit.toLocaleString('en-US')})`);
  const fleet = await startViewerFleet(ctx, {
    worker: system === 'TicketPulse' ? 'ticketpulse-viewers.ts' : 'socketio-viewers.ts',
    processes,
    viewers: target,
    url: server.url,
    token,
    watch: { always: [], oneOf: events.map((e) => e.eventId) },
  });
  const started = performance.now();
  const replies = await fleet.askAll<ConnectedReply>({ type: 'connect', concurrency: 50 }, 600_000);
  const connectSeconds = (performance.now() - started) / 1000;
  const loaded = await server.sample(true);
  ctx.progress(`${system}: ${Math.round(loaded.rssBytes / MB)} MB resident; one change per event, checking every viewer gets it`);
  await bench.db.query('UPDATE event_tickets SET total_capacity = total_capacity + 1');
  const live = await awaitExact(fleet, bench.db, 30_000, 500);
  await fleet.askAll({ type: 'close' });
  await fleet.stop();
  await server.stop();
  return {
    system,
    target,
    fileLimit: server.fileLimit,
    connected: replies.reduce((n, r) => n + r.ok, 0),
    errors: [...new Set(replies.flatMap((r) => r.errors))].slice(0, 3),
    idle,
    loaded,
    connectSeconds,
    live,
  };
}

const perConnection = (r: Run, field: 'rssBytes' | 'heapUsedBytes') => (r.loaded[field] - r.idle[field]) / Math.max(1, r.connected);
const projectedRss = (r: Run) => r.idle.rssBytes + perConnection(r, 'rssBytes') * GOAL_CONNECTIONS;

export const connections: Scenario = {
  name: 'connections',
  title: 'Connections',
  async run(ctx) {
    const wanted = ctx.quick ? 1000 : GOAL_CONNECTIONS;
    const runs: Run[] = [];
    for (const system of ['TicketPulse', 'Socket.IO'] as const) {
      if (ctx.signal.aborted) break;
      runs.push(await runSystem(ctx, system, wanted));
    }
    const [tp, io] = runs as [Run, Run | undefined];

    const table = {
      columns: ['system', 'connections held', 'connect s', 'RSS MB', 'RSS KB / connection', 'heap KB / connection', `RSS MB at ${GOAL_CONNECTIONS.toLocaleString('en-US')} (projected)`, 'live after a change'],
      rows: runs.map((r) => [
        r.system,
        r.connected,
        round(r.connectSeconds, 1),
        round(r.loaded.rssBytes / MB, 0),
        round(perConnection(r, 'rssBytes') / 1024, 1),
        round(perConnection(r, 'heapUsedBytes') / 1024, 1),
        round(projectedRss(r) / MB, 0),
        `${r.live.exact}/${r.connected}`,
      ]),
    };

    const checks: Check[] = [];
    for (const r of runs) {
      checks.push(
        { check: `${r.system}: every connection opened and subscribed`, ok: r.connected === r.target, detail: `${r.connected}/${r.target}${r.errors.map((e) => `; ${e}`).join('')}` },
        {
          check: `${r.system}: every viewer received the change to its event (exact counts)`,
          ok: r.live.wrong === 0,
          detail: r.live.wrong === 0 ? `all exact ${round(r.live.ms, 0)} ms after the change` : `${r.live.wrong} wrong, e.g. ${r.live.example}`,
        },
      );
    }

    const goals: Goal[] = [];
    const notes = [
      'Each viewer is one WebSocket subscribed to one of 10 events (one room per event on Socket.IO), idle: nothing changes while memory is read. Memory is read in the server process after a full garbage collection; per connection is (with connections - without) / connections. The projection adds that per-connection figure up to 50,000 on top of the idle process.',
      `Viewers come from ${Math.max(2, Math.ceil((tp?.target ?? 0) / PER_PROCESS))} client processes, each on its own loopback address (127.0.0.2, .3, ...), ${PER_PROCESS.toLocaleString('en-US')} at most per process; the gateway's per-IP and per-user limits were raised for the bench.`,
    ];
    if (!ctx.quick) {
      const held = tp.connected;
      const rssOk = (held >= GOAL_CONNECTIONS ? tp.loaded.rssBytes : projectedRss(tp)) < GOAL_RSS_BYTES;
      const limitedByFiles = tp.target < GOAL_CONNECTIONS;
      goals.push(
        goal(
          `${GOAL_CONNECTIONS.toLocaleString('en-US')} connections on one 2-core machine, gateway RSS under 1.5 GB`,
          `${held.toLocaleString('en-US')} held at ${round(tp.loaded.rssBytes / MB, 0)} MB; ${round(projectedRss(tp) / MB, 0)} MB projected at ${GOAL_CONNECTIONS.toLocaleString('en-US')}`,
          held >= GOAL_CONNECTIONS && rssOk,
          limitedByFiles
            ? `this machine's open-file limit: ${tp.fileLimit.toLocaleString('en-US')} per process, and prlimit cannot raise it (the container lacks CAP_SYS_RESOURCE), so one process cannot hold ${GOAL_CONNECTIONS.toLocaleString('en-US')} sockets here; memory ${rssOk ? 'is within the goal' : 'would exceed the goal'} by the projection`
            : 'memory: see RSS per connection',
        ),
      );
      if (limitedByFiles) notes.push(`Run where \`prlimit --nofile=200000\` is allowed (root with CAP_SYS_RESOURCE) to hold the full ${GOAL_CONNECTIONS.toLocaleString('en-US')}: the scenario raises every process's limit itself and sizes to what it gets.`);
    }
    return {
      config: { wanted, events: EVENTS, perClientProcess: PER_PROCESS, fileLimit: tp?.fileLimit },
      table,
      ratios: io ? [{ name: 'RSS per connection, TicketPulse / Socket.IO', value: perConnection(tp, 'rssBytes') / perConnection(io, 'rssBytes') }] : [],
      goals,
      checks,
      notes,
    };
  },
};
