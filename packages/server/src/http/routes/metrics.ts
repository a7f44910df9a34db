import type { FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';

export interface MetricsSource {
  contentType: string;
  /** Every metric in Prometheus text format, sampled ones refreshed. */
  scrape(): Promise<string>;
}

/** This process's registry; `beforeScrape` refreshes sampled metrics (distributions) right before they are read. */
export function registryMetrics(registry: Registry, beforeScrape: () => void = () => {}): MetricsSource {
  return {
    contentType: registry.contentType,
    scrape: () => {
      beforeScrape();
      return registry.metrics();
    },
  };
}

/** GET /metrics in Prometheus text format. Expose it to your monitoring network only. */
export const metricsRoutes: FastifyPluginAsync<MetricsSource> = async (app, source) => {
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => reply.header('content-type', source.contentType).send(await source.scrape()));
};
