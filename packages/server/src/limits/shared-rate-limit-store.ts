import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import LocalStore from '@fastify/rate-limit/store/LocalStore.js';
import RedisStore from '@fastify/rate-limit/store/RedisStore.js';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ConnectAttemptLimiter } from '../realtime/limits.ts';

/** Past this, a count is taken on this node instead: a limit must never hold a request up. */
const COMMAND_TIMEOUT_MS = 250;
const KEY_PREFIX = 'ticketpulse:ratelimit:';

export interface SharedRateLimitHooks {
  logger: Logger;
  /** Each count Redis could not take (and this node took instead). */
  onStoreError: () => void;
  /** Whether the Redis connection is up. */
  onAvailability: (up: boolean) => void;
}

type Count = { current: number; ttl: number };
type CountCallback = (error: Error | null, result?: Count) => void;

/**
 * Per-address counts shared by every node through Redis
 * (TICKETPULSE_REDIS_URL), on @fastify/rate-limit's own Redis store. While
 * Redis does not answer, within a short command timeout, each count is
 * taken by this node's local store instead: limits become per node, nothing
 * waits and nothing fails. One warning per outage.
 */
export class SharedRateLimitStore {
  private readonly redis: Redis;
  private readonly root: FallbackStore;
  private failing = false;

  constructor(url: string, private readonly hooks: SharedRateLimitHooks) {
    this.redis = new Redis(url, {
      commandTimeout: COMMAND_TIMEOUT_MS,
      connectTimeout: 2000,
      // Fail at once while disconnected rather than queue: the local count answers instead.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (attempt) => Math.min(100 * attempt, 1000),
    });
    // Connection errors are expected while Redis is away; the failed counts say so (warn, metric).
    this.redis.on('error', (error: Error) => hooks.logger.debug({ err: error }, 'rate-limit store: redis connection error'));
    this.redis.on('ready', () => hooks.onAvailability(true));
    this.redis.on('close', () => hooks.onAvailability(false));
    hooks.onAvailability(false);
    this.root = new FallbackStore(new RedisStore(false, false, this.redis, KEY_PREFIX), new LocalStore(false, false), (error) => this.recordOutcome(error));
  }

  /** A store class for @fastify/rate-limit's `store` option: the HTTP limits. */
  get storeClass(): FastifyRateLimitStoreCtor {
    const root = this.root;
    // The plugin constructs its store itself; every instance is this one pair of stores.
    return function SharedStore() {
      return root;
    } as unknown as FastifyRateLimitStoreCtor;
  }

  /** Counts one hit of `key` in a window of `windowMs` that starts with its first hit. */
  count(key: string, windowMs: number, max: number): Promise<Count> {
    return new Promise((resolve, reject) => this.root.incr(key, (error, result) => (error || !result ? reject(error ?? new Error('no count')) : resolve(result)), windowMs, max));
  }

  /**
   * The WebSocket connection-attempt limit on the same counts: at most
   * `perSecond` attempts per address in each second, across every node.
   */
  connectAttempts(perSecond: number): ConnectAttemptLimiter {
    return {
      take: async (address) => (await this.count(`ws:${address}`, 1000, perSecond)).current <= perSecond,
      // Redis expires its own keys; the local fallback store is a bounded LRU.
      prune: () => {},
    };
  }

  /** Each count's outcome: warn once per outage, and say when it is over. */
  private recordOutcome(error: Error | null): void {
    if (error) {
      this.hooks.onStoreError();
      if (!this.failing) this.hooks.logger.warn({ err: error }, 'rate-limit store: Redis is not answering; limits are per node until it is back');
      this.failing = true;
    } else if (this.failing) {
      this.failing = false;
      this.hooks.logger.info('rate-limit store: Redis answers again; limits are shared by every node');
    }
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}

/** Redis first; this node's own count when Redis fails. */
class FallbackStore implements FastifyRateLimitStore {
  constructor(
    private readonly shared: FastifyRateLimitStore,
    private readonly local: FastifyRateLimitStore,
    private readonly onOutcome: (error: Error | null) => void,
  ) {}

  incr(key: string, callback: CountCallback, timeWindow: number, max: number): void {
    this.shared.incr(
      key,
      (error, result) => {
        this.onOutcome(error);
        if (error) this.local.incr(key, callback, timeWindow, max);
        else callback(null, result);
      },
      timeWindow,
      max,
    );
  }

  child(routeOptions: Parameters<FastifyRateLimitStore['child']>[0]): FastifyRateLimitStore {
    return new FallbackStore(this.shared.child(routeOptions), this.local.child(routeOptions), this.onOutcome);
  }
}
