/**
 * Servers under test, each in a process of its own so that its CPU time and
 * memory are its own: the TicketPulse gateway (bench/workers/gateway.ts), the
 * real `ticketpulse start --workers N` (startService), and the Socket.IO
 * baseline (bench/baselines/socket-io-server.ts).
 *
 * Set BENCH_CPU_PROFILE_DIR to have every server process write a V8 CPU
 * profile there when it stops (node --cpu-prof), for finding what limits a goal.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { GatewayBuffered, GatewayInit, GatewaySample } from '../workers/gateway.ts';
import type { SocketIoInit, SocketIoSample } from '../baselines/socket-io-server.ts';
import type { BroadcastCommand, UpdatesBroadcast, UpdatesBroadcastResult } from '../baselines/ws-broadcast-server.ts';
import type { ProcessSample } from './process-sample.ts';
import type { AdmissionMark } from './queue-frames.ts';
import { raiseFileLimit } from './file-limit.ts';
import { childrenOf, cpuMsOf, rssBytesOf } from './proc-stat.ts';
import { ask, type Reply } from './ipc.ts';
import type { BenchContext, BenchDatabase } from './scenario.ts';
import { startWorker, type Worker } from './workers.ts';

const GATEWAY = fileURLToPath(new URL('../workers/gateway.ts', import.meta.url));
const SOCKET_IO = fileURLToPath(new URL('../baselines/socket-io-server.ts', import.meta.url));
const WS_BROADCAST = fileURLToPath(new URL('../baselines/ws-broadcast-server.ts', import.meta.url));
const CLI = fileURLToPath(new URL('../../packages/server/bin/ticketpulse.js', import.meta.url));
const STARTUP_MS = 60_000;
/** The real CLI loads its sources through tsx in the primary and again in each worker: slow on a loaded 2-core machine. */
const SERVICE_STARTUP_MS = 180_000;

export interface ServerProcess<Sample> {
  url: string;
  port: number;
  pid: number;
  /** The open-file limit it runs with: a ceiling on its connections. */
  fileLimit: number;
  sample(gc?: boolean): Promise<Sample>;
  /** SIGTERM, wait for the exit (SIGKILL after 5 s). */
  stop(): Promise<void>;
}

type Ready = Reply & { type: 'ready'; url?: string };

function nodeArgs(): string[] {
  const dir = process.env.BENCH_CPU_PROFILE_DIR;
  // --expose-gc lets a sample measure the live heap rather than garbage.
  return ['--expose-gc', '--max-old-space-size=4096', ...(dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [])];
}

/** A server process that has booted; `url` once it listens. */
async function bootServer<Sample>(ctx: BenchContext, script: string, init: unknown): Promise<{ worker: Worker<Reply>; server: (url: string) => ServerProcess<Sample>; url?: string }> {
  const worker: Worker<Reply> = startWorker<Reply>(script, init, { nodeArgs: nodeArgs() });
  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= worker.stop());
  ctx.onCleanup(stop);
  const fileLimit = raiseFileLimit(worker.child.pid!);
  const ready = await worker.next((m: Reply): m is Ready => (m as Ready).type === 'ready', STARTUP_MS);
  const server = (url: string): ServerProcess<Sample> => ({
    url,
    port: Number(new URL(url).port),
    pid: worker.child.pid!,
    fileLimit,
    sample: async (gc = false) => (await ask<Reply & { sample: Sample }>(worker, { type: 'sample', gc }, 60_000)).sample,
    stop,
  });
  return { worker, server, ...(ready.url && { url: ready.url }) };
}

async function startServer<Sample>(ctx: BenchContext, script: string, init: unknown): Promise<ServerProcess<Sample>> {
  const { server, url } = await bootServer<Sample>(ctx, script, init);
  return server(url!);
}

/** A secret for one run's tokens, shared by the gateway and whoever signs them. */
export function benchJwtSecret(): string {
  return randomBytes(32).toString('hex');
}

export interface GatewayOptions {
  jwtSecret: string;
  /** TICKETPULSE_* overrides (limits raised for the bench, tick, ...). */
  env?: Record<string, string>;
  /** 0 (the default) for an ephemeral port. */
  port?: number;
}

const gatewayInit = (bench: BenchDatabase, options: GatewayOptions, port: number | null): GatewayInit => ({
  url: bench.url,
  options: bench.options,
  jwtSecret: options.jwtSecret,
  env: options.env ?? {},
  port,
});

export interface GatewayProcess extends ServerProcess<GatewaySample> {
  /** Unsent bytes on its sockets, and nothing else: cheap enough to sample under load without adding to what is measured. */
  buffered(): Promise<GatewayBuffered>;
}

function gatewayProcess(worker: Worker<Reply>, server: ServerProcess<GatewaySample>): GatewayProcess {
  return { ...server, buffered: async () => (await ask<Reply & { buffered: GatewayBuffered }>(worker, { type: 'buffered' }, 60_000)).buffered };
}

export async function startGateway(ctx: BenchContext, bench: BenchDatabase, options: GatewayOptions): Promise<GatewayProcess> {
  const { worker, server, url } = await bootServer<GatewaySample>(ctx, GATEWAY, gatewayInit(bench, options, options.port ?? 0));
  return gatewayProcess(worker, server(url!));
}

/**
 * A gateway process booted (code loaded, database pool open) but not yet
 * listening: a replacement standing by, to listen the moment the old one is gone.
 */
export async function bootGateway(ctx: BenchContext, bench: BenchDatabase, options: GatewayOptions): Promise<{ listen(port: number): Promise<GatewayProcess> }> {
  const { worker, server } = await bootServer<GatewaySample>(ctx, GATEWAY, gatewayInit(bench, options, null));
  return {
    listen: async (port) => gatewayProcess(worker, server((await ask<Reply & { url: string }>(worker, { type: 'listen', port })).url)),
  };
}

export interface ServiceOptions extends GatewayOptions {
  /** `ticketpulse start --workers N`: worker processes behind the one port. */
  workers: number;
}

export interface ServiceSample extends ProcessSample {
  /** Each worker's figures from the service's own GET /metrics (which answers for every worker), by slot. */
  workers: Array<{ slot: number; connections: number; rssBytes: number }>;
}

/** `name{worker="<slot>"} value` lines of a Prometheus scrape: each worker's figure, by slot. */
function perWorker(scrape: string, name: string): Map<number, number> {
  const figures = new Map<number, number>();
  for (const match of scrape.matchAll(new RegExp(`^${name}\\{worker="(\\d+)"\\} (\\S+)$`, 'gm'))) figures.set(Number(match[1]), Number(match[2]));
  return figures;
}

async function freePort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  probe.close();
  await once(probe, 'close');
  return port;
}

/**
 * The real service, `ticketpulse start --workers N` (packages/server/bin), as
 * a user runs it: a primary forking N workers on one port. Resolves once its
 * /metrics shows all N workers. A sample reads CPU time and RSS of the primary
 * and every worker from /proc (no forced GC: `gc` is ignored), and each
 * worker's connections from /metrics. Workers inherit the primary's open-file
 * limit, raised right after the spawn, before it forks them.
 */
export async function startService(ctx: BenchContext, bench: BenchDatabase, options: ServiceOptions): Promise<ServerProcess<ServiceSample>> {
  const databaseUrl = new URL(bench.url);
  databaseUrl.searchParams.set('options', bench.options);
  const port = options.port || (await freePort());
  const child = spawn(process.execPath, [...nodeArgs(), CLI, 'start', '--workers', String(options.workers)], {
    env: {
      ...process.env,
      ...options.env,
      DATABASE_URL: databaseUrl.toString(),
      TICKETPULSE_JWT_SECRET: options.jwtSecret,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'json',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const pid = child.pid!;
  const fileLimit = raiseFileLimit(pid);
  const exited = once(child, 'exit');
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      // The primary drains its workers; past that, each is killed by its pid.
      const killer = setTimeout(() => {
        for (const worker of childrenOf(pid)) process.kill(worker, 'SIGKILL');
        child.kill('SIGKILL');
      }, 15_000);
      await exited;
      clearTimeout(killer);
    })());
  ctx.onCleanup(stop);

  const url = `http://127.0.0.1:${port}`;
  const scrape = async () => (await fetch(`${url}/metrics`)).text();
  const deadline = Date.now() + SERVICE_STARTUP_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`ticketpulse start --workers ${options.workers} exited with code ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error(`ticketpulse start --workers ${options.workers}: not every worker serving within ${SERVICE_STARTUP_MS / 1000}s`);
    const serving = await scrape().then((text) => perWorker(text, 'ticketpulse_ws_connections').size, () => 0);
    if (serving === options.workers) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return {
    url,
    port,
    pid,
    fileLimit,
    sample: async () => {
      const text = await scrape();
      const pids = [pid, ...childrenOf(pid)];
      const connections = perWorker(text, 'ticketpulse_ws_connections');
      const rss = perWorker(text, 'ticketpulse_process_resident_memory_bytes');
      return {
        cpuMs: pids.reduce((n, p) => n + cpuMsOf(p), 0),
        rssBytes: pids.reduce((n, p) => n + rssBytesOf(p), 0),
        heapUsedBytes: [...perWorker(text, 'ticketpulse_nodejs_heap_size_used_bytes').values()].reduce((a, b) => a + b, 0),
        workers: [...connections].sort(([a], [b]) => a - b).map(([slot, n]) => ({ slot, connections: n, rssBytes: rss.get(slot) ?? 0 })),
      };
    },
    stop,
  };
}

export function startSocketIoServer(ctx: BenchContext, bench: BenchDatabase): Promise<ServerProcess<SocketIoSample>> {
  const init: SocketIoInit = { url: bench.url, options: bench.options };
  return startServer<SocketIoSample>(ctx, SOCKET_IO, init);
}

/**
 * The bare `ws` server of the fan-outs' floor: `broadcast` writes one pre-framed `queue` frame per tick to every socket,
 * and returns when each was built; `updates` writes `updates` frames the same way.
 */
export async function startWsBroadcastServer(ctx: BenchContext): Promise<
  ServerProcess<ProcessSample> & { broadcast(seconds: number, tickMs: number, perTick: number): Promise<AdmissionMark[]>; updates(o: UpdatesBroadcast): Promise<UpdatesBroadcastResult> }
> {
  const { worker, server, url } = await bootServer<ProcessSample>(ctx, WS_BROADCAST, {});
  return {
    ...server(url!),
    broadcast: async (seconds, tickMs, perTick) => {
      const command: BroadcastCommand = { type: 'broadcast', seconds, tickMs, perTick };
      return (await ask<Reply & { ticks: AdmissionMark[] }>(worker, command, (seconds + 60) * 1000)).ticks;
    },
    updates: async (o) => {
      const command: BroadcastCommand = { type: 'updates', ...o };
      return (await ask<Reply & { result: UpdatesBroadcastResult }>(worker, command, (o.seconds + 60) * 1000)).result;
    },
  };
}

/** Limits that would stop a load generator on one host from playing many clients, lifted. */
export const UNLIMITED_CLIENTS: Record<string, string> = {
  TICKETPULSE_HTTP_HOLDS_PER_MINUTE: '100000000',
  TICKETPULSE_HTTP_WRITES_PER_MINUTE: '100000000',
  TICKETPULSE_HTTP_READS_PER_MINUTE: '100000000',
  TICKETPULSE_WS_MAX_CONNECTIONS_PER_IP: '1000000',
  TICKETPULSE_WS_MAX_CONNECTIONS_PER_USER: '100000',
  TICKETPULSE_WS_CONNECTS_PER_IP_PER_SECOND: '1000000',
};
