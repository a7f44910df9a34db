import { randomUUID } from 'node:crypto';

/** What one hold request got: its status, or what went wrong on the way. */
export interface HoldOutcome {
  holderId: string;
  idempotencyKey: string;
  /** HTTP status; 'network' when no response arrived, 'timeout' when none arrived within the request timeout (a hang). */
  status: number | 'network' | 'timeout';
  code?: string;
  retryAfter?: string | null;
  reservationId?: string;
  /** The Idempotency-Key had already made this hold: the answer is a replay. */
  replayed?: boolean;
  startedAt: number;
  /** When the answer (or the failure) arrived. */
  finishedAt: number;
}

export interface Buyer {
  holderId: string;
  token: string;
}

/**
 * Buyers holding one seat at a time through the real HTTP API, each request
 * with its own Idempotency-Key so every reservation in the database can be
 * matched to the request that made it.
 */
export class HoldTraffic {
  readonly outcomes: HoldOutcome[] = [];
  private running = false;
  private loops: Array<Promise<void>> = [];

  constructor(
    private readonly baseUrl: string,
    private readonly eventId: string,
    private readonly ticketTypeId: string,
    private readonly buyers: Buyer[],
    /** Longer than any answer should take; a request still open then counts as a hang. */
    private readonly requestTimeoutMs = 15_000,
  ) {}

  start(): void {
    this.running = true;
    this.loops = this.buyers.map((buyer) => this.loop(buyer));
  }

  /** Stops issuing requests and waits for those in flight. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  count(match: (outcome: HoldOutcome) => boolean): number {
    return this.outcomes.filter(match).length;
  }

  private async loop(buyer: Buyer): Promise<void> {
    while (this.running) {
      this.outcomes.push(await this.hold(buyer));
      // A little jitter so the buyers do not move in lockstep.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20));
    }
  }

  /** The buyer's retry of a failed request, with the same Idempotency-Key, as docs/troubleshooting.md advises. */
  retry(failed: HoldOutcome): Promise<HoldOutcome> {
    const buyer = this.buyers.find((b) => b.holderId === failed.holderId);
    if (!buyer) throw new Error(`no buyer ${failed.holderId}`);
    return this.hold(buyer, failed.idempotencyKey);
  }

  private async hold(buyer: Buyer, idempotencyKey: string = randomUUID()): Promise<HoldOutcome> {
    const base = { holderId: buyer.holderId, idempotencyKey, startedAt: Date.now() };
    try {
      const response = await fetch(`${this.baseUrl}/api/events/${this.eventId}/reservations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${buyer.token}`, 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
        body: JSON.stringify({ items: [{ ticketTypeId: this.ticketTypeId, quantity: 1 }] }),
        signal: AbortSignal.timeout(this.requestTimeoutMs),
      });
      const body = (await response.json()) as { reservation?: { id: string }; error?: { code: string } };
      return {
        ...base,
        finishedAt: Date.now(),
        status: response.status,
        retryAfter: response.headers.get('retry-after'),
        replayed: response.headers.get('idempotent-replayed') === 'true',
        ...(body.reservation && { reservationId: body.reservation.id }),
        ...(body.error && { code: body.error.code }),
      };
    } catch (error) {
      return { ...base, finishedAt: Date.now(), status: (error as Error).name === 'TimeoutError' ? 'timeout' : 'network' };
    }
  }
}
