import { randomUUID } from 'node:crypto';
import { isBuyable, QUEUE_PASS_HEADER, type SimulatorStats, type SimulatorStatus, type TicketAvailability } from '@ticketpulse/protocol';
import { availabilitySnapshot, event, reservationEnvelope, waitlistEntries, waitlistEntryEnvelope } from '@ticketpulse/protocol/schemas';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { TokenVerifier } from '../auth/token-verifier.ts';
import type { WaitingRoom } from '../waiting-room/waiting-room.ts';
import { DEFAULT_CROWD, QueueCrowd, type CrowdSize, type QueuedEvent } from './queue-crowd.ts';

/** Timings, each a [min, max] range in milliseconds picked from uniformly. */
export interface SimulatorPace {
  /** Between two buyers' holds. */
  holdEveryMs: readonly [number, number];
  /** How long a buyer thinks before confirming or releasing. */
  decideAfterMs: readonly [number, number];
  /** Between two rounds of the crowd in front of queued events (joins, presence, admitted visitors buying). */
  queueStepMs: readonly [number, number];
}

export interface BuyerSimulatorOptions {
  /** The service's own address; undefined until it listens. */
  baseUrl: () => string | undefined;
  verifier: TokenVerifier;
  logger: Logger;
  pace?: Partial<SimulatorPace>;
  /** Sent with every request (the service's internal key, so demo traffic is not rate limited). */
  headers?: Record<string, string>;
  /** The waiting rooms: which events are queued, and the crowd's entries (read in-process, one statement per event). */
  waitingRoom: Pick<WaitingRoom, 'live' | 'entriesOf'>;
  crowd?: Partial<CrowdSize>;
}

// About two buyers a second: lively to watch, and slow enough to read.
const DEFAULT_PACE: SimulatorPace = { holdEveryMs: [300, 800], decideAfterMs: [1000, 5000], queueStepMs: [800, 1200] };
/** Requests it may have open at once; past it, the buyer of the moment gives up. */
export const MAX_IN_FLIGHT = 20;
/** Ordinary ticket types are never taken below this share of their capacity. */
export const FLOOR_SHARE = 0.1;
/** The demo's nearly-sold-out event: allowed to sell out, and kept moving by releases. */
export const NEARLY_SOLD_OUT_SLUG = 'midnight-jazz-session';
const MAX_SEATS_PER_HOLD = 4;
const CONFIRM_SHARE = 0.6;
const RELEASE_SHARE = 0.25;
/** How much capacity a restock adds. */
const RESTOCK_SHARE = 0.2;
/** Simulated buyers on the nearly-sold-out event's waiting lists at most, all lists together. */
const MAX_WAITING = 4;
/** A sold-out type with simulated buyers waiting and nothing held gets this many more seats (offered to them)... */
const WAITLIST_RESTOCK_SEATS = 2;
/** ...at most this often per type, so the demo keeps making offers without the event growing fast. */
const WAITLIST_RESTOCK_EVERY_MS = 30_000;
/** The event list changes rarely; availability is read fresh for every buyer. */
const EVENTS_REFRESH_MS = 5000;
const BUYER_TOKEN_TTL_SECONDS = 3600;

const eventList = z.object({ events: z.array(event) });
/** An on-sale event; `queue` when a waiting room is in front of it (its holds need a pass: only the crowd holds there). */
interface OnSaleEvent {
  id: string;
  slug: string;
  queue: QueuedEvent | undefined;
}
type Decision = 'confirm' | 'release';

const between = ([min, max]: readonly [number, number]): number => min + Math.floor(Math.random() * (max - min + 1));
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

/**
 * Demo traffic: simulated buyers hold, buy and release seats on every public
 * on-sale event, through the public HTTP API like any client, so viewers see
 * the same updates real buyers would cause. Holds are made one at a time, so
 * each buyer sees what the previous one left and the floor below holds.
 * Events behind a waiting room get a crowd instead (QueueCrowd): only the
 * visitors it admits hold, and those events may sell out.
 */
export class BuyerSimulator {
  private readonly pace: SimulatorPace;
  private readonly stats: SimulatorStats = { holds: 0, purchases: 0, releases: 0, restocks: 0, expiries: 0, refusals: 0, queueJoins: 0 };
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Holds waiting for their buyer's decision, by reservation id. */
  private readonly pending = new Map<string, { token: string; timer: NodeJS.Timeout }>();
  /** Simulated buyers in a waiting list, by entry id, looked at in turn until they get an offer. */
  private readonly waiting = new Map<string, { token: string; ticketTypeId: string }>();
  /** When each type last got seats for its waiting list. */
  private readonly waitlistRestocks = new Map<string, number>();
  private events: { readAt: number; list: OnSaleEvent[] } | undefined;
  private running = false;
  /** The traffic loop while started, with the address it sends to. */
  private session: { baseUrl: string; loop: Promise<void> } | undefined;
  private stopping: Promise<void> | undefined;
  /** The loops' sleeps, which stop() cuts short. */
  private readonly wakers = new Set<() => void>();
  private readonly crowd: QueueCrowd;

  constructor(private readonly options: BuyerSimulatorOptions) {
    this.pace = { ...DEFAULT_PACE, ...options.pace };
    this.crowd = new QueueCrowd(
      options.waitingRoom,
      {
        hasRoom: () => this.inFlight.size < MAX_IN_FLIGHT,
        newVisitor: () => options.verifier.signForNewUser('authenticated', BUYER_TOKEN_TTL_SECONDS),
        call: (method, path, token) => this.call(this.session!.baseUrl, method, path, token),
        holdSeats: async (eventId, token, pass) => {
          await this.holdSeats(this.session!.baseUrl, eventId, token, { mayRunOut: true, pass });
        },
        joined: () => (this.stats.queueJoins += 1),
      },
      { ...DEFAULT_CROWD, ...options.crowd },
    );
  }

  status(): SimulatorStatus {
    return { running: this.running, stats: { ...this.stats } };
  }

  /** Starts the traffic (no-op when running); the service must be listening. */
  async start(): Promise<void> {
    await this.stopping;
    if (this.session) return;
    const baseUrl = this.options.baseUrl();
    if (!baseUrl) throw new Error('The buyer simulator needs the service to be listening');
    this.running = true;
    this.session = { baseUrl, loop: Promise.all([this.run(baseUrl), this.runCrowd(baseUrl)]).then(() => undefined) };
    this.options.logger.info('buyer simulator started');
  }

  /** Stops the traffic, gives back the holds still awaiting a decision, and waits for open requests. */
  stop(): Promise<void> {
    this.stopping ??= this.halt().finally(() => (this.stopping = undefined));
    return this.stopping;
  }

  private async halt(): Promise<void> {
    if (!this.session) return;
    const { baseUrl, loop } = this.session;
    this.running = false;
    for (const wake of this.wakers) wake();
    await loop;
    this.session = undefined;
    this.crowd.clear();
    const undecided = [...this.pending];
    this.pending.clear();
    for (const [, { timer }] of undecided) clearTimeout(timer);
    // Released one by one: switching the simulator off must not burst past its request budget.
    for (const [id, { token }] of undecided) await this.settle(baseUrl, id, token, 'release');
    // Off the lists too, giving back any offer made since the last look: nothing of the simulator's moves once stopped.
    const waiting = [...this.waiting];
    this.waiting.clear();
    for (const [entryId, { token }] of waiting) await this.call(baseUrl, 'DELETE', `/api/waitlist/${entryId}`, token).catch(() => undefined);
    await Promise.allSettled(this.inFlight);
    this.options.logger.info({ stats: this.stats }, 'buyer simulator stopped');
  }

  private async run(baseUrl: string): Promise<void> {
    while (this.running) {
      await this.pause(between(this.pace.holdEveryMs));
      if (!this.running || this.inFlight.size >= MAX_IN_FLIGHT) continue;
      await this.buyOnce(baseUrl).catch((error: unknown) => this.options.logger.warn({ err: error }, 'simulated buyer failed'));
      await this.lookForOffer(baseUrl).catch((error: unknown) => this.options.logger.warn({ err: error }, 'simulated waiting buyer failed'));
    }
  }

  /** The crowd in front of queued events, a round at a time. */
  private async runCrowd(baseUrl: string): Promise<void> {
    while (this.running) {
      await this.pause(between(this.pace.queueStepMs));
      if (!this.running) continue;
      try {
        const queued = (await this.onSaleEvents(baseUrl)).flatMap((e) => (e.queue ? [e.queue] : []));
        await this.crowd.step(queued);
      } catch (error) {
        this.options.logger.warn({ err: error }, 'simulated queue crowd failed');
      }
    }
  }

  /** A sleep that stop() cuts short. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.wakers.add(wake);
    });
  }

  /** One buyer: looks at an event without a waiting room, holds a few seats, and decides later. */
  private async buyOnce(baseUrl: string): Promise<void> {
    const events = (await this.onSaleEvents(baseUrl)).filter((e) => !e.queue);
    if (events.length === 0) return;
    const target = pick(events);
    const nearlySoldOut = target.slug === NEARLY_SOLD_OUT_SLUG;
    const buyer = await this.options.verifier.signForNewUser('authenticated', BUYER_TOKEN_TTL_SECONDS);
    const snapshot = await this.holdSeats(baseUrl, target.id, buyer.token, { mayRunOut: nearlySoldOut, pass: null });
    if (!snapshot) return;
    if (nearlySoldOut) await this.waitForSeats(baseUrl, snapshot.tickets, buyer.token);
    else await this.restock(baseUrl, snapshot.tickets);
  }

  /**
   * Nothing to hold on the nearly-sold-out event: the buyer joins a sold-out
   * type's waiting list (docs/waiting-list.md). The seats its holders release
   * are then offered to them; the types with people waiting that are sold
   * for good (nothing held) get a couple more seats from the organizer now
   * and then, which go to their lists too.
   */
  private async waitForSeats(baseUrl: string, tickets: TicketAvailability[], token: string): Promise<void> {
    const soldOut = tickets.filter((t) => t.isSoldOut && t.totalCapacity !== null && t.status !== 'paused' && t.status !== 'off_sale');
    if (soldOut.length === 0) return;
    if (this.waiting.size < MAX_WAITING) {
      const ticket = pick(soldOut);
      const joined = await this.call(baseUrl, 'POST', `/api/event-tickets/${ticket.ticketTypeId}/waitlist`, token, { quantity: between([1, Math.min(2, ticket.maxPerOrder)]) });
      if (joined.status === 201) this.waiting.set(waitlistEntryEnvelope.parse(joined.body).entry.id, { token, ticketTypeId: ticket.ticketTypeId });
      return;
    }
    const waitedFor = new Set([...this.waiting.values()].map((w) => w.ticketTypeId));
    const due = (t: TicketAvailability) => Date.now() - (this.waitlistRestocks.get(t.ticketTypeId) ?? 0) >= WAITLIST_RESTOCK_EVERY_MS;
    const stuck = soldOut.filter((t) => waitedFor.has(t.ticketTypeId) && t.reservedCount === 0 && due(t));
    if (stuck.length === 0) return;
    const ticket = pick(stuck);
    this.waitlistRestocks.set(ticket.ticketTypeId, Date.now());
    const organizer = await this.options.verifier.signForNewUser('organizer', BUYER_TOKEN_TTL_SECONDS);
    const answer = await this.call(baseUrl, 'PATCH', `/api/event-tickets/${ticket.ticketTypeId}`, organizer.token, { totalCapacity: ticket.totalCapacity! + WAITLIST_RESTOCK_SEATS });
    if (answer.status === 200) this.stats.restocks += 1;
  }

  /**
   * One waiting buyer (in turn) reads their entry; an offer is a hold in
   * their name, decided like any buyer's hold: bought, released (offered to
   * the next), or left to expire after the event's offerSeconds.
   */
  private async lookForOffer(baseUrl: string): Promise<void> {
    const next = this.waiting.entries().next();
    if (next.done || !this.running || this.inFlight.size >= MAX_IN_FLIGHT) return;
    const [entryId, waiter] = next.value;
    // To the back of the turn.
    this.waiting.delete(entryId);
    this.waiting.set(entryId, waiter);
    const answer = await this.read(baseUrl, '/api/waitlist/me', waitlistEntries, waiter.token);
    const entry = answer?.entries.find((e) => e.id === entryId);
    if (!answer || entry?.status === 'waiting' || !this.waiting.has(entryId)) return;
    this.waiting.delete(entryId);
    if (entry?.status !== 'offered' || !entry.offer) return;
    this.stats.holds += 1;
    this.decideLater(baseUrl, entry.offer.reservationId, waiter.token, false);
  }

  /**
   * A buyer holds a few seats of a type they may take, and decides later.
   * With `mayRunOut`, the last seats may go (the floor is not kept) and every
   * hold is bought or released rather than left to expire: left holds would
   * pin the last seats for the whole hold time. Returns the availability read
   * when nothing could be taken (for a restock), else undefined.
   */
  private async holdSeats(
    baseUrl: string,
    eventId: string,
    token: string,
    { mayRunOut, pass }: { mayRunOut: boolean; pass: string | null },
  ): Promise<{ tickets: TicketAvailability[] } | undefined> {
    const snapshot = await this.read(baseUrl, `/api/events/${eventId}/availability`, availabilitySnapshot);
    const choices = (snapshot?.tickets ?? []).flatMap((ticket) => {
      const most = Math.min(MAX_SEATS_PER_HOLD, ticket.maxPerOrder, spareSeats(ticket, mayRunOut));
      return most >= 1 ? [{ ticketTypeId: ticket.ticketTypeId, most }] : [];
    });
    if (choices.length === 0) return snapshot;
    const choice = pick(choices);
    const held = await this.call(
      baseUrl,
      'POST',
      `/api/events/${eventId}/reservations`,
      token,
      { items: [{ ticketTypeId: choice.ticketTypeId, quantity: between([1, choice.most]) }] },
      // As the SDK does: the pass goes along, so an edge could check it too.
      pass === null ? {} : { [QUEUE_PASS_HEADER]: pass },
    );
    if (held.status !== 201) return undefined;
    this.stats.holds += 1;
    const { reservation } = reservationEnvelope.parse(held.body);
    this.decideLater(baseUrl, reservation.id, token, mayRunOut);
    return undefined;
  }

  /**
   * Every type at its floor: the organizer releases more seats, as on a real
   * on-sale, so a demo left running keeps moving instead of going quiet.
   */
  private async restock(baseUrl: string, tickets: TicketAvailability[]): Promise<void> {
    const limited = tickets.filter((t) => t.totalCapacity !== null && t.status !== 'paused' && t.status !== 'off_sale');
    if (limited.length === 0) return;
    const ticket = pick(limited);
    const organizer = await this.options.verifier.signForNewUser('organizer', BUYER_TOKEN_TTL_SECONDS);
    const capacity = ticket.totalCapacity! + Math.max(MAX_SEATS_PER_HOLD, Math.ceil(ticket.totalCapacity! * RESTOCK_SHARE));
    const answer = await this.call(baseUrl, 'PATCH', `/api/event-tickets/${ticket.ticketTypeId}`, organizer.token, { totalCapacity: capacity });
    if (answer.status === 200) this.stats.restocks += 1;
  }

  private decideLater(baseUrl: string, reservationId: string, token: string, mayRunOut: boolean): void {
    const roll = Math.random();
    // Where the last seats may go, an abandoned hold would pin them for the whole hold time.
    const decision: Decision | undefined =
      roll < CONFIRM_SHARE ? 'confirm' : roll < CONFIRM_SHARE + RELEASE_SHARE || mayRunOut ? 'release' : undefined;
    if (!decision) {
      this.stats.expiries += 1;
      return;
    }
    const timer = setTimeout(() => {
      this.pending.delete(reservationId);
      if (this.inFlight.size >= MAX_IN_FLIGHT) {
        this.stats.expiries += 1;
        return;
      }
      void this.settle(baseUrl, reservationId, token, decision);
    }, between(this.pace.decideAfterMs));
    this.pending.set(reservationId, { token, timer });
  }

  private async settle(baseUrl: string, reservationId: string, token: string, decision: Decision): Promise<void> {
    try {
      const answer =
        decision === 'confirm'
          ? await this.call(baseUrl, 'POST', `/api/reservations/${reservationId}/confirm`, token)
          : await this.call(baseUrl, 'DELETE', `/api/reservations/${reservationId}`, token);
      if (answer.status === 200) this.stats[decision === 'confirm' ? 'purchases' : 'releases'] += 1;
    } catch (error) {
      this.options.logger.warn({ err: error, reservationId }, `simulated ${decision} failed`);
    }
  }

  private async onSaleEvents(baseUrl: string): Promise<OnSaleEvent[]> {
    if (this.events && Date.now() - this.events.readAt < EVENTS_REFRESH_MS) return this.events.list;
    const body = await this.read(baseUrl, '/api/events', eventList);
    const onSale = (body?.events ?? []).filter((e) => e.status === 'on_sale');
    // A waiting room turned off (closed) no longer queues holds: ordinary buyers are back.
    const queues = new Map(
      (await this.options.waitingRoom.live(onSale.map((e) => e.id))).flatMap(({ live }) => (live.status === 'closed' ? [] : [[live.eventId, live] as const])),
    );
    const list = onSale.map(({ id, slug }) => {
      const queue = queues.get(id);
      return { id, slug, queue: queue && { id, status: queue.status } };
    });
    this.events = { readAt: Date.now(), list };
    return list;
  }

  /** A read, anonymous like a visitor's first page view unless a token is given; undefined unless 200. */
  private async read<T>(baseUrl: string, path: string, schema: z.ZodType<T>, token?: string): Promise<T | undefined> {
    const answer = await this.call(baseUrl, 'GET', path, token);
    return answer.status === 200 ? schema.parse(answer.body) : undefined;
  }

  /** One request, counted while open; 4xx answers are refusals, 5xx are logged. */
  private async call(
    baseUrl: string,
    method: string,
    path: string,
    token?: string,
    body?: unknown,
    extraHeaders: Record<string, string> = {},
  ): Promise<{ status: number; body: unknown }> {
    const headers: Record<string, string> = { ...this.options.headers, ...extraHeaders };
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    // Holds carry an Idempotency-Key, as any careful client's do.
    if (method === 'POST' && body !== undefined) headers['idempotency-key'] = randomUUID();
    const request = fetch(baseUrl + path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }).then(
      async (response) => ({ status: response.status, body: (await response.json()) as unknown }),
    );
    this.inFlight.add(request);
    try {
      const answer = await request;
      if (answer.status >= 400 && answer.status < 500) this.stats.refusals += 1;
      if (answer.status >= 500) this.options.logger.warn({ status: answer.status, path, body: answer.body }, 'simulated buyer got a server error');
      return answer;
    } finally {
      this.inFlight.delete(request);
    }
  }
}

/**
 * Seats a buyer may take from this ticket type without going under the floor.
 * Unlimited types have no floor, nor those that may run out (no more than is
 * left, where that is shown); banded ones (no counts shown) are left alone,
 * since nothing tells how close to the floor they are.
 */
function spareSeats(ticket: TicketAvailability, mayRunOut: boolean): number {
  if (!isBuyable(ticket.status)) return 0;
  if (ticket.isUnlimited) return ticket.maxPerOrder;
  if (mayRunOut) return Math.min(ticket.maxPerOrder, ticket.actualAvailable ?? ticket.maxPerOrder);
  if (ticket.actualAvailable === null || ticket.totalCapacity === null) return 0;
  return ticket.actualAvailable - Math.ceil(ticket.totalCapacity * FLOOR_SHARE);
}
