import { AggregatorRegistry, type Registry } from 'prom-client';
import type { MetricsSource } from '../http/routes/metrics.ts';
import type { WorkerGather } from './worker-gather.ts';

const METRICS = 'metrics';

/**
 * GET /metrics for the whole of `ticketpulse start --workers N`, whichever
 * worker takes the scrape: every serving worker's registry (gathered by the
 * primary, cluster/worker-gather.ts), merged with prom-client's
 * AggregatorRegistry.aggregate. Each worker labels its series
 * `worker="<slot>"`, so they stay apart (sum them in Prometheus for the
 * service's totals); a worker that does not answer in time is left out of
 * that one scrape rather than failing it.
 */
export function workerMetrics(registry: Registry, beforeScrape: () => void, slot: number, gather: WorkerGather): MetricsSource {
  registry.setDefaultLabels({ worker: String(slot) });
  gather.provide(METRICS, () => {
    beforeScrape();
    return registry.getMetricsAsJSON();
  });
  return {
    contentType: registry.contentType,
    scrape: async () => {
      const parts = await gather.gather(METRICS);
      return AggregatorRegistry.aggregate(parts.filter((part): part is object[] => Array.isArray(part))).metrics();
    },
  };
}
