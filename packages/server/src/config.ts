import { isIP } from 'node:net';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { isProxyList, type ProxyTrust } from './limits/client-address.ts';
import type { HttpRateLimits } from './http/rate-limit.ts';
import { LOG_FORMATS, type LogFormat } from './logger.ts';
import type { HoldSettings } from './inventory/holds.ts';
import { DEFAULT_VELOCITY_REFRESH_MS } from './inventory/sales-velocity.ts';
import type { RealtimeSettings } from './realtime/gateway.ts';
import { DEFAULT_ENDPOINT_HOSTS, parseEndpointHosts } from './push/endpoint-hosts.ts';
import { DEFAULT_PUSH_SETTINGS, type PushSettings } from './push/push-settings.ts';

/** Raised for invalid configuration, or a start the settings make impossible (the port taken); its message is one line naming the variable. */
export class ConfigError extends Error {}

const flag = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'])
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));
/** A whole number in a range; one message for every way to miss it (not zod's "expected number, received NaN"). */
const int = (min: number, max: number) => {
  const error = `must be a whole number from ${min} to ${max}`;
  return z.coerce.number({ error }).int({ error }).min(min, { error }).max(max, { error });
};
/** A TCP port: PORT, and `ticketpulse start --port`. */
export const portNumber = int(0, 65535);

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);
const PROXY_TRUST_FORMAT = 'must be a hop count (1, 2) or a comma-separated list of proxy addresses and CIDRs (10.0.0.0/8,127.0.0.1,::1)';

/**
 * TICKETPULSE_TRUST_PROXY: off, a hop count, or the proxies' addresses.
 * `true` is refused: trusting every hop believes whatever the client wrote.
 */
function proxyTrust(value: string, context: z.RefinementCtx): ProxyTrust {
  const trimmed = value.trim();
  if (['0', 'false', 'no', 'off'].includes(trimmed)) return false;
  if (/^\d+$/.test(trimmed) && Number(trimmed) <= 20) return Number(trimmed);
  const entries = trimmed.split(',').map((entry) => entry.trim());
  // proxy-addr itself refuses bad ranges (10.0.0.0/33) but reads shorthand such as 1.2.3: addresses must be written out.
  if (entries.every((entry) => PROXY_NAMES.has(entry) || isIP(entry.split('/')[0]!) !== 0) && isProxyList(entries)) return entries;
  context.addIssue({ code: 'custom', message: PROXY_TRUST_FORMAT });
  return z.NEVER;
}

const envSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  PORT: portNumber.default(3000),
  HOST: z.string().min(1).default('localhost'),
  TICKETPULSE_JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  TICKETPULSE_DEV_AUTH: flag.optional(),
  TICKETPULSE_DATA_DIR: z.string().min(1).default('.data'),
  TICKETPULSE_HOLD_SECONDS: int(1, 86_400).default(900),
  TICKETPULSE_HOLD_EXTENSION_SECONDS: int(1, 86_400).default(300),
  TICKETPULSE_MAX_HOLD_EXTENSIONS: int(0, 100).default(2),
  TICKETPULSE_SWEEP_INTERVAL_MS: int(50, 3_600_000).default(1000),
  TICKETPULSE_VELOCITY_REFRESH_MS: int(100, 600_000).default(DEFAULT_VELOCITY_REFRESH_MS),
  TICKETPULSE_DB_POOL_SIZE: int(1, 1000).default(10),
  TICKETPULSE_DB_QUERY_TIMEOUT_MS: int(100, 3_600_000).default(60_000),
  TICKETPULSE_DB_CONNECT_TIMEOUT_MS: int(100, 600_000).default(10_000),
  TICKETPULSE_DB_APP_ROLE: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a PostgreSQL role name (lower case letters, digits, _)')
    .optional(),
  TICKETPULSE_STOREFRONT_DIR: z.string().min(1).optional(),
  TICKETPULSE_BUS: z
    .string()
    .regex(/^(postgres|none|nats:\/\/.+)$/, 'must be postgres, none or a nats:// URL')
    .optional(),
  TICKETPULSE_REDIS_URL: z
    .string()
    .refine((v) => URL.canParse(v) && /^rediss?:$/.test(new URL(v).protocol), 'must be a redis:// or rediss:// URL')
    .optional(),
  TICKETPULSE_TRUST_PROXY: z.string().transform(proxyTrust).optional(),
  TICKETPULSE_CORS_ORIGINS: z
    .string()
    .transform((v) => v.split(',').map((o) => o.trim()).filter((o) => o !== ''))
    .pipe(z.array(z.string().regex(/^https?:\/\/[^/\s*]+$/, 'must list origins (scheme://host[:port], no path, no wildcard), comma-separated')))
    .optional(),
  TICKETPULSE_HTTP_HOLDS_PER_MINUTE: int(1, 100_000_000).default(60),
  TICKETPULSE_HTTP_QUEUE_JOINS_PER_MINUTE: int(1, 100_000_000).default(60),
  TICKETPULSE_HTTP_WRITES_PER_MINUTE: int(1, 100_000_000).default(300),
  TICKETPULSE_HTTP_READS_PER_MINUTE: int(1, 100_000_000).default(1200),
  TICKETPULSE_TICK_MS: int(10, 5000).default(100),
  TICKETPULSE_RECONCILE_MS: int(100, 600_000).default(2000),
  TICKETPULSE_TICK_LEADING_EDGE: flag.default(true),
  TICKETPULSE_HEARTBEAT_MS: int(100, 600_000).default(15_000),
  TICKETPULSE_WS_AUTH_TIMEOUT_MS: int(100, 60_000).default(5000),
  TICKETPULSE_WS_MAX_SUBSCRIPTIONS: int(1, 1000).default(10),
  TICKETPULSE_WS_MAX_CONNECTIONS_PER_USER: int(1, 100_000).default(10),
  TICKETPULSE_WS_MAX_CONNECTIONS_PER_IP: int(1, 1_000_000).default(1000),
  TICKETPULSE_WS_CONNECTS_PER_IP_PER_SECOND: int(1, 1_000_000).default(50),
  TICKETPULSE_WS_MESSAGES_PER_SECOND: int(1, 10_000).default(20),
  TICKETPULSE_WS_MAX_FRAME_BYTES: int(256, 16 * 1024 * 1024).default(16 * 1024),
  TICKETPULSE_WS_SOFT_BUFFER_BYTES: int(1024, 1024 * 1024 * 1024).default(256 * 1024),
  TICKETPULSE_WS_HARD_BUFFER_BYTES: int(1024, 1024 * 1024 * 1024).default(4 * 1024 * 1024),
  TICKETPULSE_VAPID_PUBLIC_KEY: z.string().regex(/^[A-Za-z0-9_-]{87}$/, 'must be an uncompressed P-256 public key, URL-safe base64 (87 characters)').optional(),
  TICKETPULSE_VAPID_PRIVATE_KEY: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be a P-256 private key, URL-safe base64 (43 characters)').optional(),
  TICKETPULSE_VAPID_SUBJECT: z.string().regex(/^(mailto:[^\s@]+@[^\s@]+|https:\/\/[^\s]+)$/, 'must be a mailto: address or an https:// URL').default(DEFAULT_PUSH_SETTINGS.subject),
  TICKETPULSE_PUSH_ENDPOINT_HOSTS: z
    .string()
    .default(DEFAULT_ENDPOINT_HOSTS)
    .transform((value, context) => parseEndpointHosts(value) ?? (context.addIssue({ code: 'custom', message: 'must list push-service hosts (host, *.domain, host:port), comma-separated' }), z.NEVER)),
  TICKETPULSE_PUSH_INTERVAL_MS: int(50, 3_600_000).default(DEFAULT_PUSH_SETTINGS.intervalMs),
  TICKETPULSE_PUSH_TIMEOUT_MS: int(100, 120_000).default(DEFAULT_PUSH_SETTINGS.timeoutMs),
  TICKETPULSE_PUSH_EXPIRY_WARNING_SECONDS: int(1, 86_400).default(DEFAULT_PUSH_SETTINGS.expiryWarningSeconds),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(LOG_FORMATS).optional(),
});

/**
 * The built storefront, found from this file (src/ or dist/) so the working directory does not matter:
 * apps/storefront/dist in a checkout of the repository, else the copy the npm package carries (storefront/).
 */
const DEFAULT_STOREFRONT_DIR = [
  fileURLToPath(new URL('../../../apps/storefront/dist', import.meta.url)),
  fileURLToPath(new URL('../storefront', import.meta.url)),
].find((dir) => existsSync(join(dir, 'index.html')));

/** How nodes tell each other about changes: the database (LISTEN/NOTIFY), NATS, or nobody (one node). */
export type BusSetting = { kind: 'postgres' } | { kind: 'nats'; url: string } | { kind: 'none' };

export interface Config {
  databaseUrl: string | undefined;
  /** Embedded PGlite only: keep the database in memory instead of under dataDir. */
  inMemory: boolean;
  port: number;
  host: string;
  jwtSecret: string | undefined;
  devAuth: boolean;
  dataDir: string;
  holds: HoldSettings;
  sweepIntervalMs: number;
  /** How often the published sales velocity is refreshed. */
  velocityRefreshMs: number;
  poolSize: number;
  /** A query with no answer this long fails (503) and its connection is closed. */
  dbQueryTimeoutMs: number;
  dbConnectTimeoutMs: number;
  /** The non-owner role the service's connections switch to, so row-level security applies (PostgreSQL only). */
  dbAppRole: string | undefined;
  /** The built storefront, served when it exists. */
  storefrontDir: string | undefined;
  logLevel: string;
  /** LOG_FORMAT; unset: pretty for a person (a terminal, or the demo), JSON lines for machines. */
  logFormat: LogFormat;
  bus: BusSetting;
  realtime: RealtimeSettings;
  /** Browser origins allowed to call the API cross-origin; empty: same origin only. */
  corsOrigins: string[];
  /** Per client address (realtime.trustProxy decides which), per minute. */
  httpRateLimits: HttpRateLimits;
  /** Redis shared by every node for the per-address limits; unset: limits per node. */
  redisUrl: string | undefined;
  push: PushSettings;
}

export interface ConfigDefaults {
  /** Demo mode (--demo): dev tokens are on unless TICKETPULSE_DEV_AUTH says otherwise, and allowed only then. */
  demo?: boolean;
  inMemory?: boolean;
  /** Standard output is a terminal: a person reads the log. */
  terminal?: boolean;
}

/** Reads configuration from environment variables (empty ones count as unset). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, defaults: ConfigDefaults = {}): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`Invalid configuration: ${issue.path.join('.')} ${issue.message}`);
  }
  const e = parsed.data;
  // A dev token is any role for anyone: never on a service that is not a demo.
  if (e.TICKETPULSE_DEV_AUTH && !defaults.demo) throw new ConfigError('Invalid configuration: TICKETPULSE_DEV_AUTH needs --demo (dev tokens let anyone sign in as an organizer)');
  if ((e.TICKETPULSE_VAPID_PUBLIC_KEY === undefined) !== (e.TICKETPULSE_VAPID_PRIVATE_KEY === undefined)) {
    throw new ConfigError('Invalid configuration: TICKETPULSE_VAPID_PUBLIC_KEY and TICKETPULSE_VAPID_PRIVATE_KEY are set together or not at all');
  }
  if (e.TICKETPULSE_DB_APP_ROLE && !e.DATABASE_URL) throw new ConfigError('Invalid configuration: TICKETPULSE_DB_APP_ROLE needs DATABASE_URL');
  return {
    databaseUrl: e.DATABASE_URL,
    inMemory: defaults.inMemory ?? false,
    port: e.PORT,
    host: e.HOST,
    jwtSecret: e.TICKETPULSE_JWT_SECRET,
    devAuth: e.TICKETPULSE_DEV_AUTH ?? defaults.demo ?? false,
    dataDir: e.TICKETPULSE_DATA_DIR,
    holds: {
      holdSeconds: e.TICKETPULSE_HOLD_SECONDS,
      extensionSeconds: e.TICKETPULSE_HOLD_EXTENSION_SECONDS,
      maxExtensions: e.TICKETPULSE_MAX_HOLD_EXTENSIONS,
    },
    sweepIntervalMs: e.TICKETPULSE_SWEEP_INTERVAL_MS,
    velocityRefreshMs: e.TICKETPULSE_VELOCITY_REFRESH_MS,
    poolSize: e.TICKETPULSE_DB_POOL_SIZE,
    dbQueryTimeoutMs: e.TICKETPULSE_DB_QUERY_TIMEOUT_MS,
    dbConnectTimeoutMs: e.TICKETPULSE_DB_CONNECT_TIMEOUT_MS,
    dbAppRole: e.TICKETPULSE_DB_APP_ROLE,
    storefrontDir: e.TICKETPULSE_STOREFRONT_DIR ? resolve(e.TICKETPULSE_STOREFRONT_DIR) : DEFAULT_STOREFRONT_DIR,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT ?? (defaults.demo || defaults.terminal ? 'pretty' : 'json'),
    bus: busSetting(e.TICKETPULSE_BUS, e.DATABASE_URL),
    corsOrigins: e.TICKETPULSE_CORS_ORIGINS ?? [],
    realtime: {
      tickMs: e.TICKETPULSE_TICK_MS,
      reconcileMs: e.TICKETPULSE_RECONCILE_MS,
      leadingEdge: e.TICKETPULSE_TICK_LEADING_EDGE,
      heartbeatMs: e.TICKETPULSE_HEARTBEAT_MS,
      authTimeoutMs: e.TICKETPULSE_WS_AUTH_TIMEOUT_MS,
      maxSubscriptions: e.TICKETPULSE_WS_MAX_SUBSCRIPTIONS,
      maxConnectionsPerUser: e.TICKETPULSE_WS_MAX_CONNECTIONS_PER_USER,
      maxConnectionsPerIp: e.TICKETPULSE_WS_MAX_CONNECTIONS_PER_IP,
      connectAttemptsPerIpPerSecond: e.TICKETPULSE_WS_CONNECTS_PER_IP_PER_SECOND,
      messagesPerSecond: e.TICKETPULSE_WS_MESSAGES_PER_SECOND,
      maxFrameBytes: e.TICKETPULSE_WS_MAX_FRAME_BYTES,
      softBufferBytes: e.TICKETPULSE_WS_SOFT_BUFFER_BYTES,
      hardBufferBytes: e.TICKETPULSE_WS_HARD_BUFFER_BYTES,
      trustProxy: e.TICKETPULSE_TRUST_PROXY ?? false,
    },
    redisUrl: e.TICKETPULSE_REDIS_URL,
    push: {
      vapid:
        e.TICKETPULSE_VAPID_PUBLIC_KEY && e.TICKETPULSE_VAPID_PRIVATE_KEY
          ? { publicKey: e.TICKETPULSE_VAPID_PUBLIC_KEY, privateKey: e.TICKETPULSE_VAPID_PRIVATE_KEY }
          : undefined,
      subject: e.TICKETPULSE_VAPID_SUBJECT,
      endpointHosts: e.TICKETPULSE_PUSH_ENDPOINT_HOSTS,
      intervalMs: e.TICKETPULSE_PUSH_INTERVAL_MS,
      timeoutMs: e.TICKETPULSE_PUSH_TIMEOUT_MS,
      expiryWarningSeconds: e.TICKETPULSE_PUSH_EXPIRY_WARNING_SECONDS,
    },
    httpRateLimits: {
      holdsPerMinute: e.TICKETPULSE_HTTP_HOLDS_PER_MINUTE,
      queueJoinsPerMinute: e.TICKETPULSE_HTTP_QUEUE_JOINS_PER_MINUTE,
      writesPerMinute: e.TICKETPULSE_HTTP_WRITES_PER_MINUTE,
      readsPerMinute: e.TICKETPULSE_HTTP_READS_PER_MINUTE,
    },
  };
}

/** Real PostgreSQL signals through itself by default; the embedded database serves one process. */
function busSetting(value: string | undefined, databaseUrl: string | undefined): BusSetting {
  if (value?.startsWith('nats://')) return { kind: 'nats', url: value };
  if (value === 'none') return { kind: 'none' };
  if (value === 'postgres' && !databaseUrl) throw new ConfigError('Invalid configuration: TICKETPULSE_BUS=postgres needs DATABASE_URL');
  return databaseUrl ? { kind: 'postgres' } : { kind: 'none' };
}
