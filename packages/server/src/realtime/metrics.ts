import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The realtime metrics the design names: connection success rate, average
 * reconnection time, subscriptions per user, message latency and error rates
 * by type. Exposed at GET /metrics in Prometheus format.
 */
export class RealtimeMetrics {
  readonly registry = new Registry();

  readonly connections = new Gauge({ name: 'ticketpulse_ws_connections', help: 'Open, authenticated WebSocket connections', registers: [this.registry] });
  readonly connectionAttempts = new Counter({
    name: 'ticketpulse_ws_connection_attempts_total',
    help: 'WebSocket connection attempts by result (accepted, or why not)',
    labelNames: ['result'],
    registers: [this.registry],
  });
  readonly subscriptions = new Gauge({ name: 'ticketpulse_ws_subscriptions', help: 'Event subscriptions across all connections', registers: [this.registry] });
  readonly subscriptionsPerConnection = new Histogram({
    name: 'ticketpulse_ws_subscriptions_per_connection',
    help: 'Subscriptions held by each open connection, sampled at scrape time',
    buckets: [0, 1, 2, 3, 5, 10, 20],
    registers: [this.registry],
  });
  readonly subscriptionsPerUser = new Histogram({
    name: 'ticketpulse_ws_subscriptions_per_user',
    help: 'Subscriptions held by each connected user across their connections, sampled at scrape time',
    buckets: [0, 1, 2, 3, 5, 10, 20, 50],
    registers: [this.registry],
  });
  // Not realtime, but the same registry: how well group commit batches holds in an on-sale.
  readonly holdBatchSize = new Histogram({
    name: 'ticketpulse_hold_batch_size',
    help: 'Holds decided together in one transaction (group commit)',
    buckets: [1, 2, 5, 10, 25, 50, 100, 256],
    registers: [this.registry],
  });
  // Not realtime either: the per-address limits' shared store (TICKETPULSE_REDIS_URL).
  readonly rateLimitStoreErrors = new Counter({
    name: 'ticketpulse_rate_limit_store_errors_total',
    help: 'Rate-limit counts Redis did not take in time (taken by this node instead: limits per node meanwhile)',
    registers: [this.registry],
  });
  readonly rateLimitStoreUp = new Gauge({
    name: 'ticketpulse_rate_limit_store_up',
    help: '1 while the connection to the shared rate-limit store (Redis) is up; 0 while limits are per node',
    registers: [this.registry],
  });
  readonly messagesSent = new Counter({ name: 'ticketpulse_ws_messages_sent_total', help: 'Frames sent to clients', registers: [this.registry] });
  readonly bytesSent = new Counter({ name: 'ticketpulse_ws_bytes_sent_total', help: 'Bytes sent to clients', registers: [this.registry] });
  readonly bufferedBytes = new Gauge({
    name: 'ticketpulse_ws_buffered_bytes',
    help: 'Bytes written to clients but not yet sent (kernel buffers full), across open connections, sampled at scrape time',
    registers: [this.registry],
  });
  readonly maxBufferedBytes = new Gauge({
    name: 'ticketpulse_ws_max_buffered_bytes',
    help: 'The most unsent bytes on any one open connection, sampled at scrape time (past TICKETPULSE_WS_SOFT_BUFFER_BYTES it skips updates)',
    registers: [this.registry],
  });
  readonly commitToSend = new Histogram({
    name: 'ticketpulse_commit_to_send_seconds',
    help: 'From a change in the database to its update leaving the gateway',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: 'ticketpulse_ws_errors_total',
    help: 'Errors sent or closes made, by code',
    labelNames: ['code'],
    registers: [this.registry],
  });
  readonly reconnections = new Counter({
    name: 'ticketpulse_ws_reconnections_total',
    help: 'Connections from a client session seen before',
    registers: [this.registry],
  });
  readonly reconnectGap = new Histogram({
    name: 'ticketpulse_ws_reconnect_gap_seconds',
    help: "Time from a client session's disconnect to its reconnect",
    buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });
  readonly tickInterval = new Histogram({
    name: 'ticketpulse_realtime_tick_interval_seconds',
    help: 'From one tick to the next: the configured tick, or longer when a tick (read and fan-out) took longer (the effective tick)',
    buckets: [0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2, 5],
    registers: [this.registry],
  });
  readonly ticks = new Counter({ name: 'ticketpulse_realtime_ticks_total', help: 'Ticks that found at least one changed event', registers: [this.registry] });

  constructor(options: { processMetrics: boolean }) {
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'ticketpulse_' });
  }

  /** Frames written to clients: one call per fan-out rather than per frame. */
  sent(frames: number, bytes: number): void {
    if (frames === 0) return;
    this.messagesSent.inc(frames);
    this.bytesSent.inc(bytes);
  }

  /** Samples the per-connection and per-user distributions; call right before a scrape. */
  sampleSubscriptions(perConnection: Iterable<number>, perUser: Iterable<number>): void {
    this.subscriptionsPerConnection.reset();
    this.subscriptionsPerUser.reset();
    for (const n of perConnection) this.subscriptionsPerConnection.observe(n);
    for (const n of perUser) this.subscriptionsPerUser.observe(n);
  }
}
