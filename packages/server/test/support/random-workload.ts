import type { Reservation } from '@ticketpulse/protocol';

export interface WorkloadTarget {
  baseUrl: string;
  eventId: string;
  ticketTypeIds: string[];
  buyerTokens: string[];
  organizerToken: string;
  /** Every ticket type's capacity when the event was created. */
  initialCapacity: number;
}

/** The last thing the API said about a reservation with a 2xx. */
export interface Acknowledged {
  reservation: Reservation;
  action: 'hold' | 'confirm' | 'release' | 'extend';
}

/**
 * Buyers holding, then confirming, releasing, extending or abandoning
 * (so holds expire), and an organizer editing capacities, all at random
 * through the real HTTP API. It keeps every 2xx, to be checked against the
 * database afterwards, and counts every answer by action and status.
 */
export class RandomWorkload {
  readonly acknowledged = new Map<string, Acknowledged>();
  /** Capacity per ticket type from the organizer's last successful edit. */
  readonly capacities = new Map<string, number | null>();
  readonly answers = new Map<string, number>();
  private running = false;
  private loops: Array<Promise<void>> = [];

  constructor(private readonly target: WorkloadTarget) {}

  start(): void {
    this.running = true;
    this.loops = [...this.target.buyerTokens.map((token) => this.buyer(token)), this.organizer()];
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  get requests(): number {
    return [...this.answers.values()].reduce((a, b) => a + b, 0);
  }

  private async buyer(token: string): Promise<void> {
    while (this.running) {
      const types = shuffle(this.target.ticketTypeIds).slice(0, 1 + Math.floor(Math.random() * 2));
      const held = await this.call('hold', 'POST', `/api/events/${this.target.eventId}/reservations`, token, {
        items: types.map((ticketTypeId) => ({ ticketTypeId, quantity: 1 + Math.floor(Math.random() * 3) })),
      });
      if (!held) {
        // Sold out or refused: come back a little later, as a person would.
        await pause(100 + Math.random() * 200);
        continue;
      }
      const id = held.id;
      await pause(Math.random() * 300);
      const roll = Math.random();
      if (roll < 0.2 && (await this.call('extend', 'POST', `/api/reservations/${id}/extend`, token))) await pause(Math.random() * 300);
      if (roll < 0.55) await this.call('confirm', 'POST', `/api/reservations/${id}/confirm`, token);
      else if (roll < 0.75) await this.call('release', 'DELETE', `/api/reservations/${id}`, token);
      // Otherwise abandoned: it expires on its own.
    }
  }

  private async organizer(): Promise<void> {
    while (this.running) {
      await pause(200 + Math.random() * 300);
      const id = shuffle(this.target.ticketTypeIds)[0]!;
      // Drifts upwards, so the sale goes on; sometimes below what is sold and held, which must be refused.
      const totalCapacity = Math.max(0, (this.capacities.get(id) ?? this.target.initialCapacity) + Math.floor(Math.random() * 55) - 15);
      const answer = await this.request('capacity', 'PATCH', `/api/event-tickets/${id}`, this.target.organizerToken, { totalCapacity });
      if (answer?.status === 200) this.capacities.set(id, totalCapacity);
    }
  }

  /** A buyer's action; the reservation it answered with on a 2xx. */
  private async call(action: Acknowledged['action'], method: string, path: string, token: string, body?: unknown): Promise<Reservation | undefined> {
    const answer = await this.request(action, method, path, token, body);
    if (!answer || answer.status >= 300) return undefined;
    const { reservation } = answer.body as { reservation: Reservation };
    this.acknowledged.set(reservation.id, { reservation, action });
    return reservation;
  }

  private async request(action: string, method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: unknown } | undefined> {
    let key = `${action} network`;
    try {
      const response = await fetch(this.target.baseUrl + path, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(15_000),
      });
      const parsed = (await response.json()) as { error?: { code: string } };
      key = `${action} ${response.status}${parsed.error ? ` ${parsed.error.code}` : ''}`;
      return { status: response.status, body: parsed };
    } catch {
      return undefined;
    } finally {
      this.answers.set(key, (this.answers.get(key) ?? 0) + 1);
    }
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function shuffle<T>(items: readonly T[]): T[] {
  return items
    .map((item) => [Math.random(), item] as const)
    .sort((a, b) => a[0] - b[0])
    .map(([, item]) => item);
}
