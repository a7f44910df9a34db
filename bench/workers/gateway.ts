/**
 * The gateway under test, in a process of its own: the product's service
 * (HTTP API and realtime gateway, wired by createService exactly as
 * `ticketpulse start` wires it) on a bench schema. Over IPC it answers what
 * only this process can measure: its CPU time and memory, the statements it
 * sent to the database, and the HTTP requests it served. SIGTERM shuts it
 * down the way the CLI does (clients are told 1012; their sockets close at the exit).
 */
import pino from 'pino';
import { loadConfig } from '../../packages/server/src/config.ts';
import type { Database, Queryable } from '../../packages/server/src/db/database.ts';
import { openPostgres } from '../../packages/server/src/db/postgres.ts';
import { createService } from '../../packages/server/src/service.ts';
import { serve, type Command } from '../harness/ipc.ts';
import { sampleProcess, type ProcessSample } from '../harness/process-sample.ts';
import { workerInit } from '../harness/workers.ts';

export interface GatewayInit {
  url: string;
  options: string;
  jwtSecret: string;
  /** TICKETPULSE_* settings, as the CLI would read them. */
  env: Record<string, string>;
  /** Listen on this port at once (0: any); null: boot, then wait for a `listen` command. */
  port: number | null;
}

export interface GatewaySample extends ProcessSample {
  /** Statements sent to PostgreSQL by this process (a transaction counts BEGIN and COMMIT too). */
  queries: number;
  httpRequests: number;
  connections: number;
  /** ticketpulse_ws_connection_attempts_total by result. */
  attempts: Record<string, number>;
  /** ticketpulse_commit_to_send_seconds: cumulative counts by upper bound in seconds (Infinity last). */
  commitToSend: Array<[le: number, count: number]>;
  /** ticketpulse_realtime_tick_interval_seconds: ticks measured and their total seconds (the effective tick is the mean between two samples). */
  tickInterval: { count: number; sum: number };
  /** Unsent bytes across connections, and on the worst one (ticketpulse_ws_buffered_bytes, ticketpulse_ws_max_buffered_bytes). */
  bufferedBytes: number;
  maxBufferedBytes: number;
}

export type GatewayCommand = (Command & { type: 'sample'; gc?: boolean }) | (Command & { type: 'listen'; port: number });

let queries = 0;

function counted(q: Queryable): Queryable {
  return {
    query: (sql, params) => {
      queries += 1;
      return q.query(sql, params);
    },
    exec: (sql) => {
      queries += 1;
      return q.exec(sql);
    },
  };
}

/** The same database, counting every statement the service sends through it. */
function counting(db: Database): Database {
  return {
    ...db,
    ...counted(db),
    transaction: (fn) => {
      queries += 2;
      return db.transaction((tx) => fn(counted(tx)));
    },
    notify: (channel, payload) => {
      queries += 1;
      return db.notify(channel, payload);
    },
  };
}

const init = await workerInit<GatewayInit>();
const config = loadConfig({ DATABASE_URL: init.url, TICKETPULSE_JWT_SECRET: init.jwtSecret, ...init.env });
const logger = pino({ level: 'warn' });
const raw = await openPostgres({ connectionString: init.url, options: init.options, maxConnections: config.poolSize, onError: () => {} });
const service = await createService({
  db: counting(raw),
  jwtSecret: init.jwtSecret,
  holds: config.holds,
  sweepIntervalMs: config.sweepIntervalMs,
  devAuth: false,
  logger,
  realtime: config.realtime,
  httpRateLimits: config.httpRateLimits,
  bus: config.bus,
});
let httpRequests = 0;
service.app.server.on('request', () => (httpRequests += 1));
const listen = (port: number) => service.listen(port, '127.0.0.1');
const url = init.port === null ? undefined : await listen(init.port);

serve<GatewayCommand>(async (command) => {
  if (command.type === 'listen') return { url: await listen(command.port) };
  const attempts: Record<string, number> = {};
  for (const v of (await service.metrics.connectionAttempts.get()).values) attempts[String(v.labels.result)] = v.value;
  const commitToSend: GatewaySample['commitToSend'] = (await service.metrics.commitToSend.get()).values
    .filter((v) => v.metricName?.endsWith('_bucket'))
    .map((v) => [v.labels.le === '+Inf' ? Infinity : Number(v.labels.le), v.value]);
  const tick = (await service.metrics.tickInterval.get()).values;
  const tickInterval = { count: tick.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0, sum: tick.find((v) => v.metricName?.endsWith('_sum'))?.value ?? 0 };
  service.gateway.sampleMetrics();
  const bufferedBytes = (await service.metrics.bufferedBytes.get()).values[0]?.value ?? 0;
  const maxBufferedBytes = (await service.metrics.maxBufferedBytes.get()).values[0]?.value ?? 0;
  const sample: GatewaySample = {
    ...sampleProcess(command.gc),
    queries,
    httpRequests,
    connections: service.gateway.stats.connections,
    attempts,
    commitToSend,
    tickInterval,
    bufferedBytes,
    maxBufferedBytes,
  };
  return { sample };
}, url ? { url } : {});

let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  void service
    .close({ exiting: true })
    .then(() => raw.close())
    .finally(() => process.exit(0));
});
