import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { loadConfig, type BusSetting } from '../../src/config.ts';
import { type HoldSettings } from '../../src/inventory/holds.ts';
import type { Database } from '../../src/db/database.ts';
import type { HttpTimeouts } from '../../src/http/app.ts';
import type { Role } from '../../src/auth/principal.ts';
import type { HttpRateLimits } from '../../src/http/rate-limit.ts';
import type { RealtimeSettings } from '../../src/realtime/gateway.ts';
import type { SimulatorPace } from '../../src/simulator/buyer-simulator.ts';
import { createService, type Service } from '../../src/service.ts';
import type { AdmissionSettings } from '../../src/waiting-room/admission-driver.ts';
import { holdSettings } from './fixtures.ts';
import { createTestDatabase } from './database.ts';

export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256!';

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  /** Sent as-is instead of JSON-encoding `body`. */
  rawBody?: string;
  headers?: Record<string, string>;
}

export interface TestServer {
  url: string;
  service: Service;
  /** A token for a user in a role (a fresh user id unless given). */
  token(role?: Role, userId?: string): Promise<string>;
  request<T = any>(method: string, path: string, options?: RequestOptions): Promise<ApiResponse<T>>;
  close(): Promise<void>;
}

/** The real service on a real port (127.0.0.1, ephemeral), over the given database. */
export interface TestServerOptions {
  holds?: HoldSettings;
  devAuth?: boolean;
  sweepIntervalMs?: number;
  /** How often the sales velocity is refreshed; once a minute unless given. */
  velocityRefreshMs?: number;
  realtime?: Partial<RealtimeSettings>;
  /** Per-address HTTP limits; lifted unless given, since every test client comes from 127.0.0.1. */
  httpRateLimits?: Partial<HttpRateLimits>;
  httpTimeouts?: Partial<HttpTimeouts>;
  bus?: BusSetting;
  /** A fixed port, to restart "the same" node; ephemeral by default. */
  port?: number;
  /** A built storefront to serve; none by default, whatever apps/storefront/dist holds. */
  storefrontDir?: string;
  /** Demo mode: the buyer simulator and /api/simulator exist (off by default, as in production). */
  demo?: boolean;
  simulatorPace?: Partial<SimulatorPace>;
  /** Origins allowed cross-origin; none by default. */
  corsOrigins?: readonly string[];
  /** Redis to share the per-address limits through (TICKETPULSE_REDIS_URL). */
  redisUrl?: string;
  /** The waiting room's admission tick and leader lease. */
  admission?: Partial<AdmissionSettings>;
}

const UNLIMITED_HTTP: HttpRateLimits = { holdsPerMinute: 1e9, queueJoinsPerMinute: 1e9, writesPerMinute: 1e9, readsPerMinute: 1e9 };

export async function startTestServer(db: Database, options: TestServerOptions = {}): Promise<TestServer> {
  const service = await createService({
    db,
    jwtSecret: TEST_JWT_SECRET,
    holds: options.holds ?? holdSettings,
    sweepIntervalMs: options.sweepIntervalMs ?? 60_000,
    // Rarely, unless a test asks: a refresh gives an event a new version, which tests of versions do not expect.
    velocityRefreshMs: options.velocityRefreshMs ?? 60_000,
    devAuth: options.devAuth ?? false,
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    realtime: { ...loadConfig({}).realtime, ...options.realtime },
    httpRateLimits: { ...UNLIMITED_HTTP, ...options.httpRateLimits },
    ...(options.httpTimeouts && { httpTimeouts: options.httpTimeouts }),
    bus: options.bus ?? { kind: 'none' },
    processMetrics: false,
    ...(options.storefrontDir && { storefrontDir: options.storefrontDir }),
    ...(options.demo && { demo: true }),
    ...(options.simulatorPace && { simulatorPace: options.simulatorPace }),
    ...(options.corsOrigins && { corsOrigins: options.corsOrigins }),
    ...(options.redisUrl && { redisUrl: options.redisUrl }),
    ...(options.admission && { admission: options.admission }),
  });
  const url = await service.listen(options.port ?? 0, '127.0.0.1');
  return {
    url,
    service,
    async token(role = 'authenticated', userId = randomUUID()) {
      return (await service.verifier.sign({ userId, role }, 3600)).token;
    },
    async request(method, path, { token, body, rawBody, headers = {} } = {}) {
      const init: RequestInit = { method, headers: { ...headers } };
      const h = init.headers as Record<string, string>;
      if (token) h.authorization = `Bearer ${token}`;
      if (rawBody !== undefined || body !== undefined) {
        h['content-type'] ??= 'application/json';
        init.body = rawBody ?? JSON.stringify(body);
      }
      const response = await fetch(url + path, init);
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // Not JSON: tests assert on the text.
      }
      return { status: response.status, headers: response.headers, body: parsed as any };
    },
    close: () => service.close(),
  };
}

/** The NATS server for tests across nodes over NATS; they are skipped without it (.ci/run sets it). */
export const natsUrl = process.env.TEST_NATS_URL;

/**
 * Two nodes of the service on one fresh PostgreSQL database, each with its
 * own connection (as two machines would have), for `run`; both nodes and
 * the database are closed after it, whether it passed or not. Node B takes
 * `bOptions` when given (a node set up differently), `options` otherwise.
 */
export async function withTwoNodes(
  options: TestServerOptions,
  run: (a: TestServer, b: TestServer) => Promise<void>,
  bOptions: TestServerOptions = options,
): Promise<void> {
  const t = await createTestDatabase('postgres');
  const a = await startTestServer(t.db, options);
  const bDatabase = await t.connectAgain();
  const b = await startTestServer(bDatabase, bOptions);
  try {
    await run(a, b);
  } finally {
    await b.close();
    await a.close();
    await bDatabase.close();
    await t.dispose();
  }
}
