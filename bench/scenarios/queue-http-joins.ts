/**
 * The waiting room's joins over HTTP (issue 15, "Scale and speed": at least
 * 5,000 a second from separate processes), for the `queue` scenario: the
 * product's gateway in its own process (bench/workers/gateway.ts), and load
 * generators in theirs (bench/workers/queue-joiners.ts), each join a new
 * visitor with a token of their own. Baseline, same run, same generators:
 * GET /healthz, the gateway's HTTP ceiling on this machine.
 */
import { fileURLToPath } from 'node:url';
import { LatencyHistogram } from '../harness/histogram.ts';
import { ask, awaitReady, type Reply } from '../harness/ipc.ts';
import type { BenchContext, BenchDatabase, Check } from '../harness/scenario.ts';
import { benchJwtSecret, startGateway, UNLIMITED_CLIENTS, type ServerProcess } from '../harness/server-process.ts';
import { startWorker, type Worker } from '../harness/workers.ts';
import type { GatewaySample } from '../workers/gateway.ts';
import type { JoinersCommand, JoinersInit, JoinersResult } from '../workers/queue-joiners.ts';

const JOINERS = fileURLToPath(new URL('../workers/queue-joiners.ts', import.meta.url));

export interface HttpJoinsOptions {
  /** Load-generator processes. */
  processes: number;
  /** Requests in flight per process. */
  concurrency: number;
  ms: number;
  /** Tokens each process mints beforehand: more than it can send in `ms`. */
  tokensPerProcess: number;
}

interface Side {
  perSecond: number;
  p50: number;
  p99: number;
  statuses: Record<number, number>;
}

/** The gateway's CPU time per request answered, in µs, over one run of the generators: what it costs, whatever else the machine runs. */
async function timed<T extends Side>(gateway: ServerProcess<GatewaySample>, run: () => Promise<T>): Promise<T & { cpuUsPerRequest: number }> {
  const before = (await gateway.sample()).cpuMs;
  const side = await run();
  const cpuMs = (await gateway.sample()).cpuMs - before;
  const answered = Object.values(side.statuses).reduce((a, b) => a + b, 0);
  return { ...side, cpuUsPerRequest: (cpuMs * 1000) / Math.max(1, answered) };
}

async function runAll(workers: Array<Worker<Reply>>, command: JoinersCommand, timeoutMs: number): Promise<Side & { unminted: number }> {
  const results = await Promise.all(workers.map((w) => ask<Reply & JoinersResult>(w, command, timeoutMs)));
  const latency = new LatencyHistogram();
  const statuses: Record<number, number> = {};
  for (const r of results) {
    latency.add(r.latency);
    for (const [status, n] of Object.entries(r.statuses)) statuses[Number(status)] = (statuses[Number(status)] ?? 0) + n;
  }
  const answered = Object.values(statuses).reduce((a, b) => a + b, 0);
  return {
    perSecond: answered / Math.max(...results.map((r) => r.seconds)),
    p50: latency.percentile(50),
    p99: latency.percentile(99),
    statuses,
    unminted: results.reduce((sum, r) => sum + r.unminted, 0),
  };
}

/** Joins/s into one opened queue (`eventId`) over HTTP, and the bare route's requests/s. */
export async function measureHttpJoins(ctx: BenchContext, bench: BenchDatabase, eventId: string, options: HttpJoinsOptions) {
  const jwtSecret = benchJwtSecret();
  // All the joiners come from 127.0.0.1: the per-address join limit would stop them at once.
  const gateway = await startGateway(ctx, bench, { jwtSecret, env: { ...UNLIMITED_CLIENTS, TICKETPULSE_HTTP_QUEUE_JOINS_PER_MINUTE: '100000000' } });
  const workers = Array.from({ length: options.processes }, (_, p) => {
    const init: JoinersInit = { url: gateway.url, eventId, jwtSecret, prefix: `h${p}`, concurrency: options.concurrency };
    const worker = startWorker<Reply>(JOINERS, init);
    ctx.onCleanup(() => worker.stop());
    return worker;
  });
  await Promise.all(workers.map((w) => awaitReady(w)));
  ctx.progress(`http joins: minting ${(options.tokensPerProcess * options.processes).toLocaleString('en-US')} tokens in ${options.processes} processes`);
  await Promise.all(workers.map((w) => ask(w, { type: 'mint', count: options.tokensPerProcess }, 300_000)));
  const timeout = options.ms + 60_000;
  // Warm-up: connections, plans, JIT; these joins count in the entries checked below.
  const warm = await runAll(workers, { type: 'run', mode: 'join', ms: Math.min(1_000, options.ms) }, timeout);
  const joins = await timed(gateway, () => runAll(workers, { type: 'run', mode: 'join', ms: options.ms }, timeout));
  const bare = await timed(gateway, () => runAll(workers, { type: 'run', mode: 'bare', ms: options.ms }, timeout));
  await Promise.all(workers.map((w) => w.stop()));
  await gateway.stop();

  const created = (warm.statuses[201] ?? 0) + (joins.statuses[201] ?? 0);
  const { rows } = await bench.db.query<{ n: number; distinct_positions: number; max_position: number }>(
    `SELECT count(*)::integer AS n, count(DISTINCT position)::integer AS distinct_positions, coalesce(max(position), 0)::integer AS max_position
     FROM queue_entries WHERE event_id = $1`,
    [eventId],
  );
  const r = rows[0]!;
  const others = (side: Side) => Object.keys(side.statuses).filter((status) => status !== '201');
  const checks: Check[] = [
    {
      check: 'http joins: every join answered 201 (a new visitor each), and each is one entry with its own position, no gaps',
      ok: others(warm).length === 0 && others(joins).length === 0 && joins.unminted === 0 && r.n === created && r.distinct_positions === r.n && r.max_position === r.n,
      detail: `answers ${JSON.stringify(joins.statuses)} (warm-up ${JSON.stringify(warm.statuses)}), ${joins.unminted} without a token; ${r.n} entries for ${created} created, ${r.distinct_positions} distinct positions, max ${r.max_position}`,
    },
  ];
  return { joins, bare, checks };
}
