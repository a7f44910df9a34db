/**
 * The waiting room's joins over HTTP (issue 15, "Scale and speed": at least
 * 5,000 a second from separate processes), for the `queue` scenario: the
 * product's gateway in its own process (bench/workers/gateway.ts), and `wrk`
 * in its own (bench/workers/queue-joins.lua), each join a new visitor with a
 * token of their own, minted beforehand into a file. Baseline, same run, same
 * generator: GET /healthz, the gateway's HTTP ceiling on this machine.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TokenVerifier } from '../../packages/server/src/auth/token-verifier.ts';
import type { BenchContext, BenchDatabase, Check } from '../harness/scenario.ts';
import { benchJwtSecret, startGateway, UNLIMITED_CLIENTS, type ServerProcess } from '../harness/server-process.ts';
import { transportErrors, wrk, type WrkRun } from '../harness/wrk.ts';
import type { GatewaySample } from '../workers/gateway.ts';

const QUEUE_JOINS = fileURLToPath(new URL('../workers/queue-joins.lua', import.meta.url));
// Tokens signed at once (each sign is a promise).
const MINT_BATCH = 1_000;

export interface HttpJoinsOptions {
  threads: number;
  /** Keep-alive connections, one request in flight on each. */
  connections: number;
  seconds: number;
  warmSeconds: number;
  /** Tokens minted per second of a run: more than the gateway can answer. */
  tokensPerSecond: number;
}

/** What queue-joins.lua adds to wrk's summary. */
interface JoinsExtra {
  exhausted: number;
  positions: { count: number; distinct: number; min: number; max: number };
}

interface Side {
  perSecond: number;
  p50: number;
  p99: number;
  statuses: Record<string, number>;
}

const answered = (r: WrkRun) => Object.values(r.statuses).reduce((a, b) => a + b, 0);

function side(r: WrkRun): Side {
  return { perSecond: answered(r) / (r.durationUs / 1e6), p50: r.p50Us / 1000, p99: r.p99Us / 1000, statuses: r.statuses };
}

/**
 * The gateway's CPU time per request answered, in µs, over one wrk run: what it costs, whatever else the machine runs;
 * and the statements it sent to PostgreSQL per request (joins are decided in batches).
 */
async function timed<Extra>(gateway: ServerProcess<GatewaySample>, run: () => Promise<WrkRun<Extra>>) {
  const before = await gateway.sample();
  const r = await run();
  const after = await gateway.sample();
  const n = Math.max(1, answered(r));
  return { run: r, cpuUsPerRequest: ((after.cpuMs - before.cpuMs) * 1000) / n, statementsPerRequest: (after.queries - before.queries) / n };
}

/** `count` tokens with distinct subs (`prefix`-n) into `file`, one a line. */
async function mint(signer: TokenVerifier, file: string, prefix: string, count: number) {
  const tokens: string[] = [];
  while (tokens.length < count) {
    const batch = Math.min(MINT_BATCH, count - tokens.length);
    const signed = await Promise.all(Array.from({ length: batch }, (_, i) => signer.sign({ userId: `${prefix}-${tokens.length + i}`, role: 'anon' }, 3600)));
    tokens.push(...signed.map((t) => t.token));
  }
  await writeFile(file, tokens.join('\n'));
}

/** Joins/s into one opened queue (`eventId`) over HTTP, and the bare route's requests/s. */
export async function measureHttpJoins(ctx: BenchContext, bench: BenchDatabase, eventId: string, options: HttpJoinsOptions) {
  const jwtSecret = benchJwtSecret();
  const signer = new TokenVerifier(jwtSecret);
  const dir = await mkdtemp(join(tmpdir(), 'queue-joins-'));
  ctx.onCleanup(() => rm(dir, { recursive: true, force: true }));
  const runs = [
    { file: join(dir, 'warm'), seconds: options.warmSeconds },
    { file: join(dir, 'measured'), seconds: options.seconds },
  ];
  const tokens = runs.reduce((sum, r) => sum + r.seconds * options.tokensPerSecond, 0);
  ctx.progress(`http joins: minting ${tokens.toLocaleString('en-US')} tokens`);
  for (const [i, r] of runs.entries()) await mint(signer, r.file, `h${i}`, r.seconds * options.tokensPerSecond);

  // All the joiners come from 127.0.0.1: the per-address join limit would stop them at once.
  const gateway = await startGateway(ctx, bench, { jwtSecret, env: { ...UNLIMITED_CLIENTS, TICKETPULSE_HTTP_QUEUE_JOINS_PER_MINUTE: '100000000' } });
  const load = (mode: 'join' | 'bare', seconds: number, file = '') =>
    wrk<JoinsExtra>(QUEUE_JOINS, gateway.url, {
      threads: options.threads,
      connections: options.connections,
      seconds,
      args: mode === 'join' ? ['join', file, eventId, String(options.threads)] : ['bare'],
    });
  // Warm-up: connections, plans, JIT; these joins count in the entries checked below.
  const warm = await load('join', runs[0]!.seconds, runs[0]!.file);
  const joins = await timed(gateway, () => load('join', runs[1]!.seconds, runs[1]!.file));
  const bare = await timed(gateway, () => load('bare', options.seconds));
  await gateway.stop();

  const { rows } = await bench.db.query<{ n: number; distinct_positions: number; max_position: number; last_position: number }>(
    `SELECT count(*)::integer AS n, count(DISTINCT position)::integer AS distinct_positions, coalesce(max(position), 0)::integer AS max_position,
            (SELECT last_position::integer FROM event_queues WHERE event_id = $1) AS last_position
     FROM queue_entries WHERE event_id = $1`,
    [eventId],
  );
  const r = rows[0]!;
  const joinRuns = [warm, joins.run];
  const created = joinRuns.reduce((sum, w) => sum + (w.statuses['201'] ?? 0), 0);
  const others = joinRuns.flatMap((w) => Object.keys(w.statuses).filter((status) => status !== '201'));
  const exhausted = joinRuns.reduce((sum, w) => sum + w.exhausted, 0);
  const placed = joinRuns.every((w) => w.positions.count === (w.statuses['201'] ?? 0) && w.positions.distinct === w.positions.count && w.positions.min >= 1);
  // wrk stops at its deadline without reading the answers in flight (one per connection): those joins are in the database, unanswered.
  const unanswered = r.n - created;
  const checks: Check[] = [
    {
      check: 'http joins: every join answered 201 (a new visitor each), no transport errors, no visitor without a token',
      ok: others.length === 0 && exhausted === 0 && [...joinRuns, bare.run].every((w) => transportErrors(w) === 0),
      detail: `answers ${JSON.stringify(joins.run.statuses)} (warm-up ${JSON.stringify(warm.statuses)}), ${exhausted} without a token; errors ${JSON.stringify(joinRuns.map((w) => w.errors))}`,
    },
    {
      check: 'http joins: every 201 carries its own position, the measured run\'s all after the warm-up\'s',
      ok: placed && joins.run.positions.min > warm.positions.max,
      detail: `warm-up ${JSON.stringify(warm.positions)}, measured ${JSON.stringify(joins.run.positions)}`,
    },
    {
      check: 'http joins: the database has one entry per join, positions 1..n without a gap or a repeat, and the queue row agrees (beyond the 201s, at most the requests in flight when wrk stopped)',
      ok: r.distinct_positions === r.n && r.max_position === r.n && r.last_position === r.n && Math.max(warm.positions.max, joins.run.positions.max) <= r.n &&
        unanswered >= 0 && unanswered <= options.connections * joinRuns.length,
      detail: `${r.n} entries for ${created} answered 201, ${r.distinct_positions} distinct positions, max ${r.max_position}, last_position ${r.last_position}`,
    },
  ];
  const figures = (t: Awaited<ReturnType<typeof timed>>) => ({ ...side(t.run), cpuUsPerRequest: t.cpuUsPerRequest, statementsPerRequest: t.statementsPerRequest });
  return { joins: figures(joins), bare: figures(bare), checks };
}
