import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { MetricsSource } from '../http/routes/metrics.ts';

/**
 * GET /metrics for the whole of `ticketpulse start --workers N`. The kernel
 * hands a scrape to any one worker; that worker asks the primary, which
 * collects every serving worker's registry over the cluster's IPC channel and
 * merges them with prom-client's AggregatorRegistry.aggregate. Each worker
 * labels its series `worker="<slot>"`, so they stay apart (sum them in
 * Prometheus for the service's totals); a worker that does not answer within
 * COLLECT_MS is left out of that one scrape rather than failing it.
 */

/** Worker to primary: a client scraped me; primary to worker: the merged text (or why not). */
const SCRAPE = 'ticketpulse:metrics-scrape';
const SCRAPED = 'ticketpulse:metrics-scraped';
/** Primary to every worker: send your registry; worker to primary: here it is (prom-client's JSON form). */
const COLLECT = 'ticketpulse:metrics-collect';
const COLLECTED = 'ticketpulse:metrics-collected';

const COLLECT_MS = 3_000;
/** Longer than COLLECT_MS: the primary answers even when a worker does not. */
const SCRAPE_MS = 10_000;

type Message =
  | { type: typeof SCRAPE; id: number }
  | { type: typeof SCRAPED; id: number; text?: string; error?: string }
  | { type: typeof COLLECT; id: number }
  | { type: typeof COLLECTED; id: number; metrics: object[] };

/** A worker gone meanwhile is skipped: sending on a closed channel would raise an error event. */
const toWorker = (worker: Worker, message: Message) => {
  if (worker.isConnected()) worker.send(message);
};
const toPrimary = (message: Message) => {
  if (process.connected) process.send?.(message);
};

const isMessage = (message: unknown): message is Message =>
  typeof message === 'object' && message !== null && typeof (message as { type?: unknown }).type === 'string' && (message as { type: string }).type.startsWith('ticketpulse:metrics-');

/** In the primary: answers workers' scrapes with every serving worker's metrics. */
export function serveClusterMetrics(): void {
  const serving = new Set<Worker>();
  const collecting = new Map<number, (worker: Worker, metrics: object[]) => void>();
  let nextId = 0;
  cluster.on('listening', (worker) => serving.add(worker));
  cluster.on('exit', (worker) => serving.delete(worker));

  const collect = (): Promise<object[][]> =>
    new Promise((resolve) => {
      const id = nextId++;
      const answers = new Map<Worker, object[]>();
      const asked = [...serving].filter((w) => w.isConnected());
      const finish = () => {
        clearTimeout(timer);
        collecting.delete(id);
        resolve([...answers.values()]);
      };
      const timer = setTimeout(finish, COLLECT_MS);
      collecting.set(id, (worker, metrics) => {
        answers.set(worker, metrics);
        if (answers.size === asked.length) finish();
      });
      for (const worker of asked) toWorker(worker, { type: COLLECT, id });
      if (asked.length === 0) finish();
    });

  cluster.on('message', (worker, message: unknown) => {
    if (!isMessage(message)) return;
    if (message.type === COLLECTED) collecting.get(message.id)?.(worker, message.metrics);
    if (message.type !== SCRAPE) return;
    collect()
      .then((registries) => AggregatorRegistry.aggregate(registries).metrics())
      .then(
        (text) => toWorker(worker, { type: SCRAPED, id: message.id, text }),
        (error: unknown) => toWorker(worker, { type: SCRAPED, id: message.id, error: String(error) }),
      );
  });
}

/**
 * In worker `slot`: /metrics answers for every worker (asking the primary),
 * and this worker answers the primary's collections with its own registry,
 * its series labelled with its slot.
 */
export function workerMetrics(registry: Registry, beforeScrape: () => void, slot: number): MetricsSource {
  registry.setDefaultLabels({ worker: String(slot) });
  const scrapes = new Map<number, { resolve: (text: string) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  process.on('message', (message: unknown) => {
    if (!isMessage(message)) return;
    if (message.type === COLLECT) {
      beforeScrape();
      void registry.getMetricsAsJSON().then((metrics) => toPrimary({ type: COLLECTED, id: message.id, metrics }));
    }
    if (message.type === SCRAPED) {
      const scrape = scrapes.get(message.id);
      scrapes.delete(message.id);
      if (message.text !== undefined) scrape?.resolve(message.text);
      else scrape?.reject(new Error(`metrics from the other workers: ${message.error ?? 'no answer'}`));
    }
  });
  return {
    contentType: registry.contentType,
    scrape: () =>
      new Promise<string>((resolve, reject) => {
        const id = nextId++;
        const timer = setTimeout(() => {
          scrapes.delete(id);
          reject(new Error('metrics: the primary process did not answer'));
        }, SCRAPE_MS);
        scrapes.set(id, {
          resolve: (text) => (clearTimeout(timer), resolve(text)),
          reject: (error) => (clearTimeout(timer), reject(error)),
        });
        toPrimary({ type: SCRAPE, id });
      }),
  };
}
