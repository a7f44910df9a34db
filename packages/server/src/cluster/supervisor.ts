import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { ConfigError } from '../config.ts';
import { serveWorkerGathers } from './worker-gather.ts';

/** Names a worker's slot (0..N-1) in its environment: a replacement takes the slot of the worker it replaces. */
export const WORKER_SLOT_ENV = 'TICKETPULSE_WORKER_SLOT';

/** A worker that dies this soon after starting is crash-looping: its replacement waits, doubling up to MAX_RESTART_DELAY_MS. */
const STABLE_AFTER_MS = 10_000;
const MAX_RESTART_DELAY_MS = 30_000;
/** How long SIGTERM waits for the workers to drain before killing them. */
const DRAIN_MS = 30_000;

export interface Supervisor {
  /** Where the workers listen, once all of them do. */
  url: string;
}

/** The slot this process serves as a worker of `ticketpulse start --workers`; undefined in a process of its own. */
export function workerSlot(): number | undefined {
  return cluster.isWorker ? Number(process.env[WORKER_SLOT_ENV]) : undefined;
}

/**
 * The primary process of `ticketpulse start --workers N`: it serves nothing
 * itself. It forks N workers, each a whole node (HTTP API and realtime
 * gateway) listening on the one port, which Node's cluster module shares:
 * the primary accepts connections and hands them to the workers in turn.
 * A worker that exits unasked is replaced in its slot (after a growing delay
 * when it keeps dying at start). SIGTERM or SIGINT drains every worker (each
 * closes as `ticketpulse start` does: clients told to reconnect with 1012),
 * then exits. Workers share changes over the configured bus and pick the
 * leader of single-leader jobs through PostgreSQL (LeaderLease), as separate
 * machines would. GET /metrics and GET /api/realtime/stats, whichever
 * worker takes them, answer for all of them (cluster/worker-gather.ts).
 */
export async function superviseWorkers(count: number, logger: Logger): Promise<Supervisor> {
  const slots = new Map<Worker, { slot: number; startedAt: number }>();
  const delays = new Map<number, number>();
  let stopping = false;
  let serving = false;
  serveWorkerGathers();

  const fork = (slot: number) => {
    const worker = cluster.fork({ [WORKER_SLOT_ENV]: String(slot) });
    slots.set(worker, { slot, startedAt: Date.now() });
    return worker;
  };

  cluster.on('exit', (worker, code, signal) => {
    const info = slots.get(worker);
    slots.delete(worker);
    if (!info || stopping) return;
    if (!serving) {
      // A worker that cannot start (a bad setting, the port taken) fails them all alike: give up rather than loop.
      stopping = true;
      for (const other of slots.keys()) other.process.kill('SIGTERM');
      // One line, as for a bad setting: the worker's own reason is in its output, just above.
      failed(new ConfigError(`worker ${info.slot} could not start (exit code ${code ?? signal}; its error is above): the other workers are stopped`));
      return;
    }
    const lived = Date.now() - info.startedAt;
    const delay = lived >= STABLE_AFTER_MS ? 0 : Math.min(MAX_RESTART_DELAY_MS, Math.max(500, 2 * (delays.get(info.slot) ?? 250)));
    delays.set(info.slot, delay);
    logger.warn({ slot: info.slot, pid: worker.process.pid, code, signal, restartInMs: delay }, 'worker exited; replacing it');
    setTimeout(() => {
      if (!stopping) fork(info.slot);
    }, delay).unref();
  });

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal}: draining ${slots.size} workers`);
    const killer = setTimeout(() => {
      logger.warn({ slots: [...slots.values()].map((info) => info.slot) }, `workers still draining after ${DRAIN_MS / 1000} s: killed`);
      for (const worker of slots.keys()) worker.process.kill('SIGKILL');
    }, DRAIN_MS);
    for (const worker of slots.keys()) worker.process.kill('SIGTERM');
    const done = () => {
      if (slots.size > 0) return;
      clearTimeout(killer);
      process.exit(0);
    };
    cluster.on('exit', done);
    done();
  };
  // Before the first fork: a worker serves (and takes clients) before the others are up, and a signal then must drain it too.
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));

  let failed: (error: Error) => void = () => {};
  const url = await new Promise<string>((resolve, reject) => {
    failed = reject;
    const listening = new Set<number>();
    const onListening = (worker: Worker, address: { address: string | null; port: number }) => {
      const info = slots.get(worker);
      if (!info) return;
      listening.add(info.slot);
      if (listening.size < count) return;
      cluster.off('listening', onListening);
      serving = true;
      const host = !address.address || address.address === '0.0.0.0' || address.address === '::' ? '127.0.0.1' : address.address;
      resolve(`http://${host.includes(':') ? `[${host}]` : host}:${address.port}`);
    };
    cluster.on('listening', onListening);
    for (let slot = 0; slot < count; slot++) fork(slot);
  });

  return { url };
}
