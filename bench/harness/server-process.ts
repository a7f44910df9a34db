/**
 * Servers under test, each in a process of its own so that its CPU time and
 * memory are its own: the TicketPulse gateway (bench/workers/gateway.ts) and
 * the Socket.IO baseline (bench/baselines/socket-io-server.ts).
 *
 * Set BENCH_CPU_PROFILE_DIR to have every server process write a V8 CPU
 * profile there when it stops (node --cpu-prof), for finding what limits a goal.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { GatewayInit, GatewaySample } from '../workers/gateway.ts';
import type { SocketIoInit, SocketIoSample } from '../baselines/socket-io-server.ts';
import type { BroadcastCommand, UpdatesBroadcast, UpdatesBroadcastResult } from '../baselines/ws-broadcast-server.ts';
import type { ProcessSample } from './process-sample.ts';
import type { AdmissionMark } from './queue-frames.ts';
import { raiseFileLimit } from './file-limit.ts';
import { ask, type Reply } from './ipc.ts';
import type { BenchContext, BenchDatabase } from './scenario.ts';
import { startWorker, type Worker } from './workers.ts';

const GATEWAY = fileURLToPath(new URL('../workers/gateway.ts', import.meta.url));
const SOCKET_IO = fileURLToPath(new URL('../baselines/socket-io-server.ts', import.meta.url));
const WS_BROADCAST = fileURLToPath(new URL('../baselines/ws-broadcast-server.ts', import.meta.url));
const STARTUP_MS = 60_000;

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

export function startGateway(ctx: BenchContext, bench: BenchDatabase, options: GatewayOptions): Promise<ServerProcess<GatewaySample>> {
  return startServer<GatewaySample>(ctx, GATEWAY, gatewayInit(bench, options, options.port ?? 0));
}

/**
 * A gateway process booted (code loaded, database pool open) but not yet
 * listening: a replacement standing by, to listen the moment the old one is gone.
 */
export async function bootGateway(ctx: BenchContext, bench: BenchDatabase, options: GatewayOptions): Promise<{ listen(port: number): Promise<ServerProcess<GatewaySample>> }> {
  const { worker, server } = await bootServer<GatewaySample>(ctx, GATEWAY, gatewayInit(bench, options, null));
  return {
    listen: async (port) => server((await ask<Reply & { url: string }>(worker, { type: 'listen', port })).url),
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
