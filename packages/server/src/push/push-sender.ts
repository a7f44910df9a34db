import webpush, { WebPushError } from 'web-push';
import type { Logger } from 'pino';
import type { Queryable } from '../db/database.ts';
import { PeriodicTask } from '../periodic-task.ts';
import type { PushSettings, VapidKeys } from './push-settings.ts';
import { isoTime } from '../iso-time.ts';

/** Most notifications one turn claims and sends. */
const BATCH = 100;
/** Sends a sender has claimed are its own for this many send timeouts; after that (it died) another turn sends them again. */
const CLAIM_TIMEOUTS = 2;
/** Retries after 5xx, 429 and network errors: 1 s, 2 s, 4 s... at most this; then given up after MAX_ATTEMPTS. */
const MAX_BACKOFF_SECONDS = 300;
const MAX_ATTEMPTS = 10;
/** Sent and given-up rows are forgotten after a day; the purge runs this often. */
const PURGE_EVERY_MS = 60_000;

interface ClaimedRow {
  id: string;
  subscription_id: string;
  endpoint: string;
  p256dh: string;
  auth: string;
  payload: Record<string, unknown>;
  expires_at: Date | string;
  attempts: number;
}

type Outcome = { outcome: 'sent' | 'gone' | 'failed'; status: number } | { outcome: 'retry'; status: number; retrySeconds: number };

/** What one send's answer means: 2xx sent, 404/410 the browser unsubscribed, 429/5xx/no answer later, other 4xx never. */
export function outcomeOf(error: unknown, attempts: number): Outcome {
  const status = error instanceof WebPushError ? error.statusCode : 0;
  if (status === 404 || status === 410) return { outcome: 'gone', status };
  if ((status === 0 || status === 429 || status >= 500) && attempts < MAX_ATTEMPTS) {
    const retryAfter = error instanceof WebPushError ? Number(error.headers['retry-after']) : NaN;
    const backoff = Math.min(2 ** (attempts - 1), MAX_BACKOFF_SECONDS);
    return { outcome: 'retry', status, retrySeconds: Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter, MAX_BACKOFF_SECONDS) : backoff };
  }
  return { outcome: 'failed', status };
}

/**
 * Drains the push outbox (db/repeatable/80_push.sql, docs/push.md). Every
 * node runs one; each turn, the node that gets the advisory lock queues the
 * "about to expire" pushes and claims the due rows, then sends them outside
 * the transaction and marks each. A row is marked sent only after the push
 * service accepted it, so a crash loses none; a crash between acceptance and
 * the mark sends it again with the same id and Topic, which the push service
 * and the service worker (notification tag) collapse into one.
 */
export class PushSender {
  private readonly task: PeriodicTask;
  private lastPurge = 0;

  constructor(
    private readonly db: Queryable,
    private readonly settings: PushSettings,
    private readonly vapid: VapidKeys,
    private readonly logger: Logger,
  ) {
    this.task = new PeriodicTask(settings.intervalMs, () => this.turn());
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /** One turn; returns how many notifications the push services accepted. Errors are logged, not thrown. */
  async turn(): Promise<number> {
    try {
      const { rows } = await this.db.query<ClaimedRow>('SELECT * FROM push_sender_tick($1, $2, $3)', [
        BATCH,
        (CLAIM_TIMEOUTS * this.settings.timeoutMs) / 1000,
        this.settings.expiryWarningSeconds,
      ]);
      const outcomes = await Promise.all(rows.map((row) => this.send(row)));
      await this.purge();
      return outcomes.filter((outcome) => outcome === 'sent').length;
    } catch (error) {
      this.logger.warn({ err: error }, 'push sender turn failed; retrying next interval');
      return 0;
    }
  }

  private async send(row: ClaimedRow): Promise<Outcome['outcome']> {
    const id = `n${row.id}`;
    const { payload: stored } = row;
    // PostgreSQL writes timestamps its own way; the wire says ISO 8601 (PushMessage).
    const payload = { ...stored, id, ...(typeof stored['expiresAt'] === 'string' && { expiresAt: isoTime(stored['expiresAt']) }) };
    const ttl = Math.max(0, Math.floor((new Date(row.expires_at).getTime() - Date.now()) / 1000));
    let result: Outcome;
    try {
      const response = await webpush.sendNotification({ endpoint: row.endpoint, keys: { p256dh: row.p256dh, auth: row.auth } }, JSON.stringify(payload), {
        vapidDetails: { subject: this.settings.subject, publicKey: this.vapid.publicKey, privateKey: this.vapid.privateKey },
        TTL: ttl,
        // A resend after a crash replaces the first at the push service while it is undelivered.
        topic: id,
        urgency: stored['kind'] === 'ticket_type_back' ? 'normal' : 'high',
        timeout: this.settings.timeoutMs,
      });
      result = { outcome: 'sent', status: response.statusCode };
    } catch (error) {
      result = outcomeOf(error, row.attempts);
      // The endpoint is a capability URL: log the subscription's id, never the endpoint.
      const level = result.outcome === 'retry' || result.outcome === 'gone' ? 'info' : 'warn';
      this.logger[level]({ subscription: row.subscription_id, status: result.status, outcome: result.outcome, err: result.status === 0 ? error : undefined }, 'push not delivered');
    }
    await this.db.query('SELECT push_mark($1, $2, $3, $4)', [row.id, result.outcome, result.status, result.outcome === 'retry' ? result.retrySeconds : 0]);
    return result.outcome;
  }

  private async purge(): Promise<void> {
    if (Date.now() - this.lastPurge < PURGE_EVERY_MS) return;
    this.lastPurge = Date.now();
    await this.db.query('SELECT push_purge()');
  }
}
