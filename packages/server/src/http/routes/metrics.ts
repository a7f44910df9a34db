import type { FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';

export interface MetricsSource {
  registry: Registry;
  /** Refreshes sampled metrics (distributions) right before they are read. */
  beforeScrape(): void;
}

/** GET /metrics in Prometheus text format. Expose it to your monitoring network only. */
export const metricsRoutes: FastifyPluginAsync<MetricsSource> = async (app, { registry, beforeScrape }) => {
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    beforeScrape();
    return reply.header('content-type', registry.contentType).send(await registry.metrics());
  });
};
