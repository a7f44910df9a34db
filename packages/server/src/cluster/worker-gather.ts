import cluster, { type Worker } from 'node:cluster';

/**
 * Figures for the whole of `ticketpulse start --workers N`, whichever worker
 * is asked. The kernel hands a request to any one worker; that worker asks
 * the primary, which asks every serving worker for its part of `kind` over
 * the cluster's IPC channel and hands all the parts back. A worker that does
 * not answer within COLLECT_MS is left out of that one answer rather than
 * failing it. Used by GET /metrics (cluster/metrics.ts), GET
 * /api/realtime/stats, and the demo's /api/simulator, which worker 0 alone
 * answers (the request then says what to do).
 */

/** Worker to primary: gather `kind`; primary to worker: here are the parts. */
const GATHER = 'ticketpulse:gather';
const GATHERED = 'ticketpulse:gathered';
/** Primary to every worker: your part of `kind`; worker to primary: here it is. */
const COLLECT = 'ticketpulse:gather-collect';
const COLLECTED = 'ticketpulse:gather-collected';

const COLLECT_MS = 3_000;
/** Longer than COLLECT_MS: the primary answers even when a worker does not. */
const GATHER_MS = 10_000;

type Message =
  | { type: typeof GATHER; id: number; kind: string; request: unknown }
  | { type: typeof GATHERED; id: number; parts: unknown[] }
  | { type: typeof COLLECT; id: number; kind: string; request: unknown }
  | { type: typeof COLLECTED; id: number; part: unknown };

/** A worker gone meanwhile is skipped: sending on a closed channel would raise an error event. */
const toWorker = (worker: Worker, message: Message) => {
  if (worker.isConnected()) worker.send(message);
};
const toPrimary = (message: Message) => {
  if (process.connected) process.send?.(message);
};

const isMessage = (message: unknown): message is Message =>
  typeof message === 'object' && message !== null && typeof (message as { type?: unknown }).type === 'string' && (message as { type: string }).type.startsWith(GATHER);

/** In the primary: answers workers' gathers with every serving worker's part. */
export function serveWorkerGathers(): void {
  const serving = new Set<Worker>();
  const collecting = new Map<number, (worker: Worker, part: unknown) => void>();
  let nextId = 0;
  cluster.on('listening', (worker) => serving.add(worker));
  cluster.on('exit', (worker) => serving.delete(worker));

  const collect = (kind: string, request: unknown): Promise<unknown[]> =>
    new Promise((resolve) => {
      const id = nextId++;
      const parts = new Map<Worker, unknown>();
      const asked = [...serving].filter((w) => w.isConnected());
      const finish = () => {
        clearTimeout(timer);
        collecting.delete(id);
        resolve([...parts.values()]);
      };
      const timer = setTimeout(finish, COLLECT_MS);
      collecting.set(id, (worker, part) => {
        parts.set(worker, part);
        if (parts.size === asked.length) finish();
      });
      for (const worker of asked) toWorker(worker, { type: COLLECT, id, kind, request });
      if (asked.length === 0) finish();
    });

  cluster.on('message', (worker, message: unknown) => {
    if (!isMessage(message)) return;
    if (message.type === COLLECTED) collecting.get(message.id)?.(worker, message.part);
    if (message.type === GATHER) void collect(message.kind, message.request).then((parts) => toWorker(worker, { type: GATHERED, id: message.id, parts }));
  });
}

/** In a worker: answers the primary's collections with its own parts, and gathers every worker's. */
export class WorkerGather {
  private readonly parts = new Map<string, (request: unknown) => unknown>();
  private readonly waiting = new Map<number, (parts: unknown[]) => void>();
  private nextId = 0;

  constructor() {
    process.on('message', (message: unknown) => {
      if (!isMessage(message)) return;
      if (message.type === COLLECT) {
        const part = this.parts.get(message.kind);
        // A kind this worker does not provide (yet) is an answer too: nothing to add.
        void Promise.resolve()
          .then(() => part?.(message.request))
          // A part that fails is no part: the asker sees that worker as not answering.
          .catch(() => undefined)
          .then((value) => toPrimary({ type: COLLECTED, id: message.id, part: value }));
      }
      if (message.type === GATHERED) {
        this.waiting.get(message.id)?.(message.parts);
        this.waiting.delete(message.id);
      }
    });
  }

  /** This worker's part of `kind` (given the asker's request), when another asks. */
  provide(kind: string, part: (request: unknown) => unknown): void {
    this.parts.set(kind, part);
  }

  /** Every serving worker's part of `kind` (this one's included), undefined where a worker provides none. */
  gather(kind: string, request?: unknown): Promise<unknown[]> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${kind}: the primary process did not answer`));
      }, GATHER_MS);
      this.waiting.set(id, (parts) => {
        clearTimeout(timer);
        resolve(parts);
      });
      toPrimary({ type: GATHER, id, kind, request });
    });
  }
}
