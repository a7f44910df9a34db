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
import { raiseFileLimit } from './file-limit.ts';
import { ask, type Reply } from './ipc.ts';
import type { BenchContext, BenchDatabase } from './scenario.ts';
import { startWorker, type Worker } from './workers.ts';

const GATEWAY = fileURLToPath(new URL('../workers/gateway.ts', import.meta.url));
const SOCKET_IO = fileURLToPath(new URL('../baselines/socket-io-server.ts', import.meta.url));
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

type Ready = Reply & { type: 'ready'; url: string };

function nodeArgs(): string[] {
  const dir = process.env.BENCH_CPU_PROFILE_DIR;
  // --expose-gc lets a sample measure the live heap rather than garbage.
  return ['--expose-gc', '--max-old-space-size=4096', ...(dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [])];
}

async function startServer<Sample>(ctx: BenchContext, script: string, init: unknown): Promise<ServerProcess<Sample>> {
  const worker: Worker<Reply> = startWorker<Reply>(script, init, { nodeArgs: nodeArgs() });
  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= worker.stop());
  ctx.onCleanup(stop);
  const fileLimit = raiseFileLimit(worker.child.pid!);
  const ready = await worker.next((m: Reply): m is Ready => (m as Ready).type === 'ready', STARTUP_MS);
  return {
    url: ready.url,
    port: Number(new URL(ready.url).port),
    pid: worker.child.pid!,
    fileLimit,
    sample: async (gc = false) => (await ask<Reply & { sample: Sample }>(worker, { type: 'sample', gc }, 60_000)).sample,
    stop,
  };
}

/** A secret for one run's tokens, shared by the gateway and whoever signs them. */
export function benchJwtSecret(): string {
  return randomBytes(32).toString('hex');
}

export interface GatewayOptions {
  jwtSecret: string;
  /** TICKETPULSE_* overrides (limits raised for the bench, tick, ...). */
  env?: Record<string, string>;
  /** 0 for an ephemeral port; a restart passes the port it had. */
  port?: number;
}

export function startGateway(ctx: BenchContext, bench: BenchDatabase, options: GatewayOptions): Promise<ServerProcess<GatewaySample>> {
  const init: GatewayInit = { url: bench.url, options: bench.options, jwtSecret: options.jwtSecret, env: options.env ?? {}, port: options.port ?? 0 };
  return startServer<GatewaySample>(ctx, GATEWAY, init);
}

export function startSocketIoServer(ctx: BenchContext, bench: BenchDatabase): Promise<ServerProcess<SocketIoSample>> {
  const init: SocketIoInit = { url: bench.url, options: bench.options };
  return startServer<SocketIoSample>(ctx, SOCKET_IO, init);
}

/** Limits that would stop a load generator on one host from playing many clients, lifted. */
export const UNLIMITED_CLIENTS: Record<string, string> = {
  TICKETPULSE_WS_MAX_CONNECTIONS_PER_IP: '1000000',
  TICKETPULSE_WS_MAX_CONNECTIONS_PER_USER: '100000',
  TICKETPULSE_WS_CONNECTS_PER_IP_PER_SECOND: '1000000',
};
