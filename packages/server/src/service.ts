import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { BusSetting } from './config.ts';
import type { HoldSettings } from './inventory/holds.ts';
import type { Database } from './db/database.ts';
import { buildApp, type HttpTimeouts } from './http/app.ts';
import { RequestsInFlight } from './http/stop-serving.ts';
import { registryMetrics } from './http/routes/metrics.ts';
import { workerMetrics } from './cluster/metrics.ts';
import { workerRealtimeStats } from './cluster/realtime-stats.ts';
import { provideSimulator, workersSimulator } from './cluster/simulator.ts';
import { WorkerGather } from './cluster/worker-gather.ts';
import { clientAddressResolver } from './limits/client-address.ts';
import { TokenVerifier } from './auth/token-verifier.ts';
import { INTERNAL_KEY_HEADER, internalTrafficKey } from './http/internal-traffic.ts';
import type { HttpRateLimits } from './http/rate-limit.ts';
import { Catalog } from './inventory/catalog.ts';
import { EXPIRY_CHUNK, ExpirySweeper } from './inventory/expiry-sweeper.ts';
import { LeaderLease } from './leader-lease.ts';
import { DEFAULT_VELOCITY_REFRESH_MS, SalesVelocityRefresher } from './inventory/sales-velocity.ts';
import { Holds } from './inventory/holds.ts';
import { WaitingList } from './inventory/waiting-list.ts';
import { PushSender } from './push/push-sender.ts';
import { DEFAULT_PUSH_SETTINGS, type PushSettings } from './push/push-settings.ts';
import { PushSubscriptions } from './push/push-subscriptions.ts';
import { resolveVapidKeys } from './push/vapid-keys.ts';
import type { ChangeBus } from './realtime/buses/change-bus.ts';
import { NatsChangeBus } from './realtime/buses/nats-bus.ts';
import { PostgresChangeBus } from './realtime/buses/postgres-bus.ts';
import { Admission } from './realtime/admission.ts';
import { RealtimeGateway, type RealtimeSettings } from './realtime/gateway.ts';
import { SharedRateLimitStore } from './limits/shared-rate-limit-store.ts';
import { RealtimeMetrics } from './realtime/metrics.ts';
import type { CloseOptions } from './realtime/shutdown.ts';
import { SupabaseEndpoint } from './realtime/supabase/supabase-endpoint.ts';
import { UpgradeRouter } from './realtime/upgrade-router.ts';
import { BuyerSimulator, type SimulatorPace } from './simulator/buyer-simulator.ts';
import { AdmissionDriver, DEFAULT_ADMISSION, type AdmissionSettings } from './waiting-room/admission-driver.ts';
import { QueuePasses } from './waiting-room/queue-pass.ts';
import { WaitingRoom } from './waiting-room/waiting-room.ts';

export interface ServiceOptions {
  /** A migrated database; the caller owns it and closes it. */
  db: Database;
  jwtSecret: string;
  holds: HoldSettings;
  sweepIntervalMs: number;
  /** How often the published sales velocity is refreshed; DEFAULT_VELOCITY_REFRESH_MS unless given. */
  velocityRefreshMs?: number;
  devAuth: boolean;
  logger: Logger;
  realtime: RealtimeSettings;
  /** Per-address HTTP request limits; the client address follows realtime.trustProxy. */
  httpRateLimits: HttpRateLimits;
  /** How long a client may take to send a request (tests shorten them). */
  httpTimeouts?: Partial<HttpTimeouts>;
  bus: BusSetting;
  /** Node.js process metrics (event loop, heap) in /metrics; off when several services share a process. */
  processMetrics?: boolean;
  /** This service is worker `slot` of `ticketpulse start --workers`: its /metrics answers for every worker (cluster/metrics.ts). */
  workerSlot?: number;
  /** The built storefront to serve; unset or missing: / answers a JSON index. */
  storefrontDir?: string;
  /** Browser origins allowed to call the API cross-origin; none by default (same origin only). */
  corsOrigins?: readonly string[];
  /** Redis, to share the per-address limits with every node (TICKETPULSE_REDIS_URL); per node without it. */
  redisUrl?: string;
  /**
   * Demo mode (`ticketpulse start --demo`): the buyer simulator and its routes
   * exist only then. Off: /api/simulator is an unknown path and nothing can start it.
   */
  demo?: boolean;
  /** The buyer simulator's timings (tests speed it up). */
  simulatorPace?: Partial<SimulatorPace>;
  /** The waiting room's admission tick and leader lease (tests shorten them). */
  admission?: Partial<AdmissionSettings>;
  /** Web Push (TICKETPULSE_VAPID_*, TICKETPULSE_PUSH_*); the defaults without. */
  push?: PushSettings;
}

export interface Service {
  app: FastifyInstance;
  catalog: Catalog;
  holds: Holds;
  sweeper: ExpirySweeper;
  /** Refreshes the sales velocity events publish. */
  salesVelocity: SalesVelocityRefresher;
  waitingRoom: WaitingRoom;
  waitingList: WaitingList;
  /** Web Push (docs/push.md): subscriptions and watches, the VAPID public key, and the outbox's sender (every node runs one; one at a time sends). */
  push: { subscriptions: PushSubscriptions; publicKey: string; sender: PushSender };
  /** Drives queue admission when this node is the leader. */
  queueAdmission: AdmissionDriver;
  verifier: TokenVerifier;
  gateway: RealtimeGateway;
  /** The Supabase Realtime-compatible endpoint, beside the gateway behind the one upgrade router. */
  supabase: SupabaseEndpoint;
  metrics: RealtimeMetrics;
  /** Demo mode only: demo traffic through this service's own API; off until started (after listen). */
  simulator: BuyerSimulator | undefined;
  /** Starts listening, sweeping and publishing; resolves to the base URL. */
  listen(port: number, host: string): Promise<string>;
  /**
   * Tells realtime clients to reconnect elsewhere (1012), stops accepting,
   * finishes in-flight work. `exiting` (the process ends right after): client
   * connections are left for the kernel to close at the exit.
   */
  close(options?: CloseOptions): Promise<void>;
}

/**
 * Connections the kernel may hold for us before we accept them (capped by
 * net.core.somaxconn). Node's default, 511, overflows when thousands of
 * viewers reconnect at once after a restart: the kernel then drops their
 * handshakes and they wait out TCP's own retransmits (1, 3, 7, 15 s...).
 */
const LISTEN_BACKLOG = 65_535;

function createBus(setting: BusSetting, db: Database, node: string, logger: Logger): ChangeBus | undefined {
  switch (setting.kind) {
    case 'postgres':
      return new PostgresChangeBus(db, node);
    case 'nats':
      return new NatsChangeBus(setting.url, node, logger);
    case 'none':
      return undefined;
  }
}

/** Wires the inventory, the HTTP API, the realtime gateway and the expiry sweeper around one database. */
export async function createService(options: ServiceOptions): Promise<Service> {
  const { db, logger } = options;
  const verifier = new TokenVerifier(options.jwtSecret);
  const clientAddress = clientAddressResolver(options.realtime.trustProxy);
  const metrics = new RealtimeMetrics({ processMetrics: options.processMetrics ?? true });
  const sharedLimits =
    options.redisUrl === undefined
      ? undefined
      : new SharedRateLimitStore(options.redisUrl, {
          logger,
          onStoreError: () => metrics.rateLimitStoreErrors.inc(),
          onAvailability: (up) => metrics.rateLimitStoreUp.set(up ? 1 : 0),
        });
  // One set of connection limits for both realtime endpoints; attempts per address shared through Redis when there is one.
  const admission = new Admission(options.realtime, sharedLimits?.connectAttempts(options.realtime.connectAttemptsPerIpPerSecond));
  // A user's own holds, waiting-list entries and waiting-room entries reach their other connections, on any node.
  const onHolderChange = (holderId: string) => gateway.touchHolder(holderId);
  const waitingRoom = new WaitingRoom(db, new QueuePasses(options.jwtSecret), { onHolderChange });
  const gateway = new RealtimeGateway({
    db,
    verifier,
    bus: createBus(options.bus, db, randomUUID(), logger),
    metrics,
    logger,
    settings: options.realtime,
    admission,
    waitingRoom,
  });
  const supabase = new SupabaseEndpoint({ db, verifier, logger, settings: options.realtime, admission, recheck: (eventIds) => gateway.recheck(eventIds) });
  // One change feed and one tick for both endpoints: each changed event is read once, whoever watches it.
  gateway.addTickConsumer(supabase);
  const upgrades = new UpgradeRouter({ admission, clientAddress, metrics, endpoints: [gateway, supabase] });
  const onChange = (eventId: string) => gateway.touch(eventId);
  const catalog = new Catalog(db, onChange);
  const holds = new Holds(db, options.holds, onChange, { onBatch: (size) => metrics.holdBatchSize.observe(size), onHolderChange });
  const waitingList = new WaitingList(db, onChange, onHolderChange);
  // One sweeper leads among all nodes and workers; another takes over within three intervals (at least 1.5 s) of its death.
  const sweeperLease = new LeaderLease(db, 'expiry-sweeper', Math.max(1500, 3 * options.sweepIntervalMs), logger);
  const sweeper = new ExpirySweeper(holds, options.sweepIntervalMs, logger, EXPIRY_CHUNK, sweeperLease);
  const pushSettings = options.push ?? DEFAULT_PUSH_SETTINGS;
  const vapid = await resolveVapidKeys(db, pushSettings);
  const pushSender = new PushSender(db, pushSettings, vapid, logger);
  const pushSubscriptions = new PushSubscriptions(db, pushSettings.endpointHosts, onChange);
  const salesVelocity = new SalesVelocityRefresher(db, options.velocityRefreshMs ?? DEFAULT_VELOCITY_REFRESH_MS, onChange, logger);
  // Viewers get each admission's frame at once: the leader's own, and (over the bus) every other node's.
  const queueAdmission = new AdmissionDriver(db, { ...DEFAULT_ADMISSION, ...options.admission }, logger, ({ moved }) =>
    gateway.queuesAdmitted(moved),
  );
  let shuttingDown = false;
  let address: string | undefined;
  // A worker of `start --workers`: /metrics, /api/realtime/stats and /api/simulator answer for every worker.
  const worker = options.workerSlot === undefined ? undefined : { slot: options.workerSlot, gather: new WorkerGather() };
  // Only in demo mode: lets the simulator past the per-address limits, on whichever worker its requests land.
  const internalKey = options.demo ? internalTrafficKey(options.jwtSecret) : undefined;
  // The simulated buyers are one crowd, whatever the number of workers: worker 0's.
  const simulator =
    internalKey && (worker?.slot ?? 0) === 0
      ? new BuyerSimulator({
          baseUrl: () => address,
          verifier,
          logger,
          headers: { [INTERNAL_KEY_HEADER]: internalKey },
          waitingRoom,
          ...(options.simulatorPace && { pace: options.simulatorPace }),
        })
      : undefined;
  if (worker && simulator) provideSimulator(worker.gather, simulator);
  const simulatorControl = worker && options.demo ? workersSimulator(worker.gather) : simulator;
  const app = await buildApp({
    db,
    catalog,
    holds,
    waitingRoom,
    waitingList,
    push: { subscriptions: pushSubscriptions, publicKey: vapid.publicKey },
    verifier,
    devAuth: options.devAuth,
    logger,
    metrics: worker
      ? workerMetrics(metrics.registry, () => gateway.sampleMetrics(), worker.slot, worker.gather)
      : registryMetrics(metrics.registry, () => gateway.sampleMetrics()),
    realtimeStats: worker ? workerRealtimeStats(worker.gather, () => gateway.watching) : () => gateway.stats,
    ...(simulatorControl && { simulator: simulatorControl }),
    storefrontDir: options.storefrontDir,
    ...(options.corsOrigins && { corsOrigins: options.corsOrigins }),
    isShuttingDown: () => shuttingDown,
    rateLimit: { limits: options.httpRateLimits, clientAddress, ...(sharedLimits && { store: sharedLimits.storeClass }) },
    ...(internalKey && { internalKey }),
    ...(options.httpTimeouts && { timeouts: options.httpTimeouts }),
  });
  upgrades.attach(app.server);
  const requests = new RequestsInFlight(app.server);
  return {
    app,
    catalog,
    holds,
    sweeper,
    salesVelocity,
    waitingRoom,
    waitingList,
    push: { subscriptions: pushSubscriptions, publicKey: vapid.publicKey, sender: pushSender },
    queueAdmission,
    verifier,
    gateway,
    supabase,
    metrics,
    simulator,
    async listen(port, host) {
      await gateway.start();
      await supabase.start();
      address = await app.listen({ port, host, backlog: LISTEN_BACKLOG });
      sweeper.start();
      salesVelocity.start();
      queueAdmission.start();
      pushSender.start();
      return address;
    },
    async close({ exiting = false } = {}) {
      // First, while the API still answers it: the simulator gives back the holds it was deciding on.
      await simulator?.stop();
      shuttingDown = true;
      upgrades.drain();
      // Nothing more is fanned out to either endpoint: their close frames are the last thing clients get.
      await gateway.quiesce();
      // All at once: the jobs, the HTTP server, the frames (written at once, then up to half a second for the kernel to take them) and the change feed.
      // The jobs' last database round trips (a lease given up) are sent before the frames' write loop, which holds the event loop, so that they overlap.
      await Promise.all([
        sweeper.stop(),
        salesVelocity.stop(),
        queueAdmission.stop(),
        pushSender.stop(),
        exiting ? requests.stop(app.server) : app.close(),
        new Promise<void>((sent) => setImmediate(sent)).then(() => Promise.all([gateway.close({ exiting }), supabase.close({ exiting })])),
      ]);
      upgrades.close();
      await sharedLimits?.close();
    },
  };
}
