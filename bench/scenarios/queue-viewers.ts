/**
 * The waiting room's fan-out (issue 15, "Scale and speed"): as many waiting
 * viewers as one gateway process can hold (20,000, less what the process's
 * open-file limit leaves after its other files), each its own user with its
 * own entry, subscribed to one queued event on the real service in a process
 * of its own, viewers in separate processes (the fan-out scenario's workers).
 * The service's own admission driver ticks; each tick's served-up-to mark is
 * timed from the tick (queue_admissions.at, database clock, taken before the
 * tick commits) to each viewer receiving the first `queue` frame that carries
 * it. Baseline, same run, same gateway, same viewers: the availability
 * fan-out, one committed change per admission tick, timed from its
 * committedAt to the viewer. Floor: a bare `ws` server writing the same kind
 * of frame, pre-framed, to as many viewers (bench/baselines/ws-broadcast-server.ts).
 */
import { readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../packages/server/src/config.ts';
import { TokenVerifier } from '../../packages/server/src/auth/token-verifier.ts';
import { DEFAULT_ADMISSION } from '../../packages/server/src/waiting-room/admission-driver.ts';
import { QueuePasses } from '../../packages/server/src/waiting-room/queue-pass.ts';
import { WaitingRoom } from '../../packages/server/src/waiting-room/waiting-room.ts';
import type { DriverCommand, DriverInit, DriverResult } from '../workers/change-driver.ts';
import { awaitExact } from '../harness/convergence.ts';
import { goal } from '../harness/goal.ts';
import { LatencyHistogram } from '../harness/histogram.ts';
import { ask, awaitReady, type Reply } from '../harness/ipc.ts';
import { cpuMsOf } from '../harness/proc-stat.ts';
import { admissionLatency, type AdmissionMark } from '../harness/queue-frames.ts';
import type { BenchContext, BenchDatabase, Check, Goal, Ratio } from '../harness/scenario.ts';
import { seedEvents } from '../harness/seed-events.ts';
import { benchJwtSecret, startGateway, startWsBroadcastServer, UNLIMITED_CLIENTS } from '../harness/server-process.ts';
import { round, sleep } from '../harness/stats.ts';
import { startViewerFleet, totalStats, type ConnectedReply, type ViewerFleet, type ViewerStats } from '../harness/viewer-fleet.ts';
import { startWorker } from '../harness/workers.ts';

const DRIVER = fileURLToPath(new URL('../workers/change-driver.ts', import.meta.url));
/** The issue's figure. */
const GOAL_VIEWERS = 20_000;
const ADMIT_PER_MINUTE = 6_000;
/** The realtime tick the service runs with when TICKETPULSE_TICK_MS is not set. */
const TICK_MS = loadConfig({}).realtime.tickMs;
const ADMISSION_TICK_MS = DEFAULT_ADMISSION.tickMs;
/** Files the gateway may open beyond those it has after booting: its database pool filling up, and some slack. */
const SPARE_FILES = 40;

interface Size {
  viewers: number;
  processes: number;
  seconds: number;
}

const FULL: Size = { viewers: GOAL_VIEWERS, processes: 2, seconds: 20 };
const QUICK: Size = { viewers: 300, processes: 2, seconds: 3 };

/** What queue.ts folds into its report. */
export interface QueueViewersReport {
  config: Record<string, unknown>;
  rows: Array<Array<string | number>>;
  ratios: Ratio[];
  goals: Goal[];
  checks: Check[];
  notes: string[];
}

const openFiles = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** `count` waiting entries, holder `queue-viewer-<n>` at position n, in a queue that opens later. */
async function queuedEvent(bench: BenchDatabase, jwtSecret: string, count: number) {
  const [event] = await seedEvents(bench.db, 1, 1);
  const room = new WaitingRoom(bench.db, new QueuePasses(jwtSecret));
  await room.configure(event!.eventId, { opensAt: new Date(Date.now() + 3_600_000).toISOString(), admitPerMinute: ADMIT_PER_MINUTE });
  await bench.db.query(
    `INSERT INTO queue_entries (event_id, holder_id, joined_at, last_seen_at, position)
     SELECT $1, 'queue-viewer-' || n, now(), now(), n FROM generate_series(1, $2::bigint) AS n`,
    [event!.eventId, count],
  );
  await bench.db.query('UPDATE event_queues SET shuffled_at = now(), last_position = $2, prequeue_count = 0 WHERE event_id = $1', [event!.eventId, count]);
  return event!;
}

/** Waits until every viewer saw a mark at least `servedUpTo` (or the deadline); returns the stats then. */
async function settle(fleet: ViewerFleet, viewers: number, servedUpTo: number, timeoutMs: number) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const stats = totalStats(await fleet.askAll<ViewerStats>({ type: 'stats' }));
    const reached = stats.queue.arrivals.filter(([mark]) => mark >= servedUpTo).reduce((n, [, buckets]) => n + buckets.reduce((m, [, c]) => m + c, 0), 0);
    if (reached >= viewers || performance.now() >= deadline) return { stats, reached };
    await sleep(250);
  }
}

export async function measureQueueViewers(ctx: BenchContext): Promise<QueueViewersReport> {
  const size = ctx.quick ? QUICK : FULL;
  const bench = await ctx.freshDatabase();
  const jwtSecret = benchJwtSecret();
  const gateway = await startGateway(ctx, bench, { jwtSecret, env: UNLIMITED_CLIENTS });
  // The gateway's socket ceiling: its open-file limit less the files it holds besides sockets.
  const bootFiles = openFiles(gateway.pid);
  const viewers = Math.min(size.viewers, gateway.fileLimit - bootFiles - SPARE_FILES);
  const event = await queuedEvent(bench, jwtSecret, viewers);
  const verifier = new TokenVerifier(jwtSecret);
  const tokens = await Promise.all(Array.from({ length: viewers }, async (_, i) => (await verifier.sign({ userId: `queue-viewer-${i + 1}`, role: 'authenticated' }, 3600)).token));

  ctx.progress(`queue fan-out: connecting ${fmt(viewers)} waiting viewers from ${size.processes} processes (gateway open-file limit ${fmt(gateway.fileLimit)}, ${bootFiles} files open after boot)`);
  const fleet = await startViewerFleet(ctx, { worker: 'ticketpulse-viewers.ts', processes: size.processes, viewers, url: gateway.url, token: tokens[0]!, tokens, watch: { always: [event.eventId], oneOf: [] } });
  const connected = await fleet.askAll<ConnectedReply>({ type: 'connect', concurrency: 50 }, 600_000);
  const connectedOk = connected.reduce((n, c) => n + c.ok, 0);
  const loadedFiles = openFiles(gateway.pid);
  // Each viewer's own entry arrives right after its subscribe reply.
  await sleep(1000);
  await fleet.askAll({ type: 'reset' });

  // The queue: opens now; the gateway's admission driver ticks every ADMISSION_TICK_MS.
  ctx.progress(`queue fan-out: admitting ${fmt(ADMIT_PER_MINUTE)}/min for ${size.seconds} s`);
  let cpuBefore = cpuMsOf(gateway.pid);
  let started = performance.now();
  await bench.db.query('UPDATE event_queues SET opens_at = now(), last_tick_at = NULL WHERE event_id = $1', [event.eventId]);
  await sleep(size.seconds * 1000);
  // Pausing stops admission (the tick takes the queue row's lock, so none is half done) and sends the last mark with status paused.
  await bench.db.query('UPDATE event_queues SET paused = true WHERE event_id = $1', [event.eventId]);
  const { rows } = await bench.db.query<{ to_position: string; at_ms: number }>(
    'SELECT to_position, extract(epoch FROM at)::double precision * 1000 AS at_ms FROM queue_admissions WHERE event_id = $1 ORDER BY to_position',
    [event.eventId],
  );
  const ticks: AdmissionMark[] = rows.map((r) => ({ servedUpTo: Number(r.to_position), atMs: r.at_ms }));
  const lastMark = ticks.at(-1)?.servedUpTo ?? 0;
  const { stats: queueStats, reached } = await settle(fleet, connectedOk, lastMark, 20_000);
  const queueMs = performance.now() - started;
  const queueCpuMs = cpuMsOf(gateway.pid) - cpuBefore;
  const queueLatency = admissionLatency(queueStats.queue.arrivals, ticks);
  // Runnable processes on the machine (1-minute average) as the window ends: other work shares the 2 cores.
  const load = round(loadavg()[0]!, 1);
  // Removing the queue stops its frames (the gateway drops its view and sends nothing more) before the baseline.
  await bench.db.query('DELETE FROM event_queues WHERE event_id = $1', [event.eventId]);

  // Baseline: the availability fan-out to the same viewers, one committed change per admission tick.
  await fleet.askAll({ type: 'reset' });
  const driverInit: DriverInit = { url: bench.url, options: bench.options, hot: event, slow: [], lanes: 1, tickMs: TICK_MS };
  const driver = startWorker<Reply>(DRIVER, driverInit);
  ctx.onCleanup(() => driver.stop());
  await awaitReady(driver);
  ctx.progress(`queue fan-out: baseline, ${1000 / ADMISSION_TICK_MS} availability changes/s for ${size.seconds} s`);
  cpuBefore = cpuMsOf(gateway.pid);
  started = performance.now();
  const command: DriverCommand = { type: 'run', seconds: size.seconds, hotPerSecond: 1000 / ADMISSION_TICK_MS, slowPerSecond: 0 };
  const { result: driven } = await ask<Reply & { result: DriverResult }>(driver, command, (size.seconds + 60) * 1000);
  const baselineMs = performance.now() - started;
  const baselineCpuMs = cpuMsOf(gateway.pid) - cpuBefore;
  const converged = await awaitExact(fleet, bench.db, 20_000);
  const baselineStats = totalStats(await fleet.askAll<ViewerStats>({ type: 'stats' }));
  const baselineLatency = new LatencyHistogram();
  for (const buckets of baselineStats.latency) baselineLatency.add(buckets);
  await fleet.askAll({ type: 'close' });
  await fleet.stop();
  await driver.stop();
  await gateway.stop();

  // The floor: a bare `ws` server writing one pre-framed frame per tick to as many viewers (fresh ones: the sockets above are gone).
  const floorServer = await startWsBroadcastServer(ctx);
  ctx.progress(`queue fan-out: floor, a bare ws server broadcasting to ${fmt(viewers)} viewers`);
  const floorFleet = await startViewerFleet(ctx, { worker: 'ticketpulse-viewers.ts', processes: size.processes, viewers, url: floorServer.url, token: tokens[0]!, watch: { always: [event.eventId], oneOf: [] } });
  const floorConnected = (await floorFleet.askAll<ConnectedReply>({ type: 'connect', concurrency: 50 }, 600_000)).reduce((n, c) => n + c.ok, 0);
  await floorFleet.askAll({ type: 'reset' });
  cpuBefore = cpuMsOf(floorServer.pid);
  const floorTicks = await floorServer.broadcast(size.seconds, ADMISSION_TICK_MS, (ADMIT_PER_MINUTE * ADMISSION_TICK_MS) / 60_000);
  const floorCpuMs = cpuMsOf(floorServer.pid) - cpuBefore;
  const floorSettled = await settle(floorFleet, floorConnected, floorTicks.at(-1)?.servedUpTo ?? 0, 10_000);
  const floorLatency = admissionLatency(floorSettled.stats.queue.arrivals, floorTicks);
  await floorFleet.askAll({ type: 'close' });
  await floorFleet.stop();
  await floorServer.stop();

  const q = queueStats.queue;
  const realtimeTicks = queueMs / TICK_MS;
  const framesPerViewer = q.frames / Math.max(1, connectedOk);
  const p50 = queueLatency.percentile(50);
  const p99 = queueLatency.percentile(99);
  const baseP99 = baselineLatency.percentile(99);
  const floorP99 = floorLatency.percentile(99);
  const floorUsPerFrame = (floorCpuMs * 1000) / Math.max(1, floorSettled.stats.queue.frames);
  const budget = TICK_MS + 100;
  const cpuUsPerFrame = (queueCpuMs * 1000) / Math.max(1, q.frames);
  ctx.progress(`queue fan-out: p50 ${p50} ms, p99 ${p99} ms over ${ticks.length} ticks (baseline availability p99 ${baseP99} ms)`);

  const distinctEntries = new Set(q.entryIds).size;
  const checks: Check[] = [
    {
      check: 'queue fan-out: every waiting viewer connected, subscribed and got its snapshot',
      ok: connectedOk === viewers,
      detail: `${connectedOk}/${viewers}${connected.flatMap((c) => c.errors).slice(0, 2).map((e) => `; ${e}`).join('')}`,
    },
    {
      check: 'queue fan-out: every viewer got the last admission tick\'s mark, no connection dropped',
      ok: ticks.length > 0 && reached === connectedOk && queueStats.closes === 0,
      detail: `${reached}/${connectedOk} reached served-up-to ${lastMark} after ${ticks.length} admission ticks; ${queueStats.closes} unexpected closes`,
    },
    {
      check: 'queue fan-out: at most one `queue` frame per viewer per realtime tick',
      ok: q.sameTick === 0,
      detail: `${q.sameTick} frames shared a tick (serverTime) with the viewer's previous one, of ${fmt(q.frames)}`,
    },
    {
      check: 'queue fan-out: `queue_entry` frames only to their owner',
      ok: q.foreignEntries === 0 && distinctEntries === q.entryIds.length,
      detail: `${q.entries} entry frames during admission; ${q.foreignEntries} for another entry than the viewer's own; ${distinctEntries} distinct entries among ${q.entryIds.length} viewers that got one`,
    },
    {
      check: 'queue fan-out floor: every viewer connected to the bare ws server and got its last frame',
      ok: floorConnected === viewers && floorSettled.reached === viewers,
      detail: `${floorConnected}/${viewers} connected, ${floorSettled.reached} got the last of ${floorTicks.length} frames`,
    },
    {
      check: 'queue fan-out baseline: every viewer ends exact after the availability changes',
      ok: converged.wrong === 0,
      detail: converged.wrong === 0 ? `${converged.exact} exact` : `${converged.wrong} wrong, e.g. ${converged.example}`,
    },
  ];

  const short = viewers < GOAL_VIEWERS ? ` (${fmt(viewers)}, not ${fmt(GOAL_VIEWERS)}: the gateway's open-file limit is ${fmt(gateway.fileLimit)}, hard, and it holds ${bootFiles} other files after boot, ${SPARE_FILES} kept spare for its database pool)` : '';
  const goals: Goal[] = ctx.quick
    ? []
    : [
        goal(
          `${fmt(GOAL_VIEWERS)} waiting viewers on one gateway process get each \`queue\` frame with p99 at most the tick plus 100 ms (${budget} ms)${short}`,
          `p99 ${p99} ms, p50 ${p50} ms, max ${queueLatency.max} ms over ${ticks.length} admission ticks × ${fmt(connectedOk)} viewers`,
          p99 <= budget,
          `one write system call per socket. Profiled (node --cpu-prof of the gateway, BENCH_CPU_PROFILE_DIR, second by second): through the admission window the gateway's main thread spent about 95% of its time in the \`queue\` frame's send loop, and about 90% of that in the writev system call under ws's send, one per socket (on loopback it also runs the receiving side's TCP stack); entry reads, presence and everything else took under 5%. ` +
            `Even a bare ws server writing the same pre-framed bytes to as many viewers, with no database and no tick, reached p99 ${floorP99} ms here (${round(floorUsPerFrame, 1)} µs CPU per frame: ${fmt((floorUsPerFrame * viewers) / 1000)} ms of CPU to reach every viewer once). ` +
            `The gateway spent ${round(cpuUsPerFrame, 1)} µs per frame (${round(cpuUsPerFrame / floorUsPerFrame, 2)}× the floor) and got ${round(queueCpuMs / queueMs, 2)} cores on average beside ${size.processes} viewer processes and PostgreSQL on 2 cores, so each fan-out held its event loop for longer than a tick and the admission driver waited behind it (${ticks.length} ticks in ${size.seconds} s instead of ${Math.round((size.seconds * 1000) / ADMISSION_TICK_MS)}). ` +
            `The frame leaves right after each admission tick (the leader's leading edge), so its p99 is ${round(p99 / floorP99, 2)}× the bare floor's in this run; waiting for the next realtime tick instead, it was 1.22-1.52× (p99 426-692 ms, 3 runs), against 0.80-1.08× with it (p99 298-366 ms, 5 of 6 runs; the sixth, on a slow stretch of a shared machine, 2.17×), in an alternating A/B on this machine class on 2026-12-04`,
        ),
      ];

  return {
    config: { viewers, goalViewers: GOAL_VIEWERS, viewerProcesses: size.processes, seconds: size.seconds, tickMs: TICK_MS, admissionTickMs: ADMISSION_TICK_MS, fanOutAdmitPerMinute: ADMIT_PER_MINUTE, gatewayFileLimit: gateway.fileLimit, gatewayFilesAfterBoot: bootFiles, gatewayFilesLoaded: loadedFiles, loadAverage: load },
    rows: [
      [`queue frame, admission tick to ${fmt(connectedOk)} viewers, p50 ms (baseline: an availability change to the same viewers)`, p50, baselineLatency.percentile(50), '-'],
      [`queue frame, admission tick to ${fmt(connectedOk)} viewers, p99 ms (baseline: the same)`, p99, baseP99, `<= ${budget}`],
      ['queue frames per viewer per realtime tick (baseline: availability frames)', round(framesPerViewer / realtimeTicks, 3), round(baselineStats.messages / Math.max(1, connectedOk) / (baselineMs / TICK_MS), 3), '<= 1'],
      ['gateway CPU µs per frame delivered (baseline: availability frames)', round(cpuUsPerFrame, 1), round((baselineCpuMs * 1000) / Math.max(1, baselineStats.messages), 1), '-'],
      [`queue frame to ${fmt(viewers)} viewers, p50 ms (baseline: bare ws floor, frame ready to viewer)`, p50, floorLatency.percentile(50), '-'],
      [`queue frame to ${fmt(viewers)} viewers, p99 ms (baseline: bare ws floor)`, p99, floorP99, `<= ${budget}`],
      ['server CPU µs per frame delivered (baseline: bare ws floor)', round(cpuUsPerFrame, 1), round(floorUsPerFrame, 1), '-'],
    ],
    ratios: [
      { name: `queue frame p99 / availability update p99, ${fmt(connectedOk)} viewers on one gateway`, value: p99 / baseP99 },
      { name: `queue frame p99 / bare ws floor p99, ${fmt(viewers)} viewers`, value: p99 / floorP99 },
      { name: 'server CPU per frame delivered, gateway queue frames / bare ws floor', value: cpuUsPerFrame / floorUsPerFrame },
    ],
    goals,
    checks,
    notes: [
      `Queue fan-out: ${fmt(connectedOk)} viewers in ${size.processes} processes, each its own user (token sub) with its own waiting entry (positions 1..${fmt(viewers)}), subscribed to one queued event on the real service in its own process (bench/workers/gateway.ts, TICKETPULSE_TICK_MS ${TICK_MS} by default). The queue opens and the service's own admission driver ticks every ${ADMISSION_TICK_MS} ms at ${fmt(ADMIT_PER_MINUTE)}/min for ${size.seconds} s (${ticks.length} ticks; ${q.entries} \`queue_entry\` frames to the visitors admitted meanwhile). ` +
        `Latency: from each admission tick's time (queue_admissions.at, the database clock when the tick ran, before it committed, so a little early) to each viewer's receipt of the first \`queue\` frame whose servedUpTo reaches that tick's mark; one host, one clock. The gateway runs the admission driver (it is the leader), so right after each admission tick it reads queue_live() once for the event and writes the frame, serialized once, to every socket, unless its viewers had a \`queue\` frame within the last realtime tick (${TICK_MS} ms): then it waits for that tick.`,
      `Queue fan-out baseline: after the queue is removed, the same viewers on the same gateway get ${1000 / ADMISSION_TICK_MS} availability changes a second (one per admission tick, ${driven.hotChanges} in all) from a separate driver process, timed from each update's committedAt (the fan-out scenario's measure). Frames per viewer per tick: frames received / viewers / (window / ${TICK_MS} ms); the queue's window runs from its opening until every viewer had the last mark (admission paused after ${size.seconds} s). CPU per frame: the gateway's CPU time in the window / frames delivered.`,
      `Queue fan-out floor: a bare \`ws\` server in its own process (bench/baselines/ws-broadcast-server.ts; no database, no auth, no checks) writes one \`queue\`-shaped frame every ${ADMISSION_TICK_MS} ms for ${size.seconds} s (${floorTicks.length} frames), the WebSocket frame built once, with one socket.write per socket, to ${fmt(floorConnected)} fresh viewers from the same worker processes; latency from the frame being built to each viewer's receipt (no database and no tick to wait for, so it is the least any Node process here can do).`,
      `Machine load: 1-minute load average ${load} as the queue window ended, on 2 cores (above 2, processes waited for a core: the gateway, the viewer processes, PostgreSQL and anything else running here; every latency above grows with it).`,
      `Gateway files: open-file limit ${fmt(gateway.fileLimit)} (soft and hard; raising it needs CAP_SYS_RESOURCE, which this machine does not give), ${bootFiles} open after boot, ${loadedFiles} with every viewer connected.`,
    ],
  };
}
