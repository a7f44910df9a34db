import type { Database } from '../db/database.ts';
import type { Catalog, NewEvent } from '../inventory/catalog.ts';
import { InventoryError } from '../inventory/errors.ts';
import { WaitingList, type WaitlistSettingsChange } from '../inventory/waiting-list.ts';
import { configureQueue, type QueueSettingsChange } from '../waiting-room/waiting-room.ts';

const DAY_MS = 86_400_000;
const inDays = (days: number) => new Date(Date.now() + days * DAY_MS).toISOString();

/** The demo's waiting-room event: its queue opens this long after seeding (a fresh `npm start`), its pre-queue already running. */
export const DEMO_QUEUE_OPENS_IN_MS = 60_000;
export const WAITING_ROOM_DEMO_SLUG = 'neon-skyline-arena';
/** The demo's sold-out ticket type (of the nearly-sold-out event): the simulator's buyers wait on its list. */
export const WAITLIST_DEMO_TYPE = 'Bar Stool';

interface DemoEvent extends NewEvent {
  /** Seats sold before the demo starts, per ticket type name. */
  alreadySold?: Record<string, number>;
  /** A waiting room in front of it (PUT .../queue), opensAt set when seeded. */
  queue?: Omit<QueueSettingsChange, 'opensAt'>;
  /** Its waiting lists' settings (PATCH .../waitlist); on with the defaults when absent. */
  waitlist?: WaitlistSettingsChange;
}

export interface DemoSeedOptions {
  /** When the waiting-room event's queue opens, from now; DEMO_QUEUE_OPENS_IN_MS unless given (tests shorten it). */
  queueOpensInMs?: number;
}

/**
 * One ordinary on-sale, one nearly sold out (with a sold-out type whose
 * waiting list the simulator's buyers join, and offers that pass on within
 * a minute), one with an unlimited ticket type, and a high-demand on-sale
 * behind a waiting room: a rate and a pass
 * short enough that a newcomer sees the line move and the event sell out
 * within minutes (the simulator sends the crowd, simulator/queue-crowd.ts).
 */
export function demoEvents(): DemoEvent[] {
  return [
    {
      slug: 'summer-sound-festival',
      name: 'Summer Sound Festival',
      description: 'Three stages, one long weekend by the lake.',
      venue: 'Lakeside Park',
      startsAt: inDays(30),
      ticketTypes: [
        { name: 'General Admission', price: '79.00', totalCapacity: 500, maxPerOrder: 8 },
        { name: 'VIP', price: '189.00', totalCapacity: 50, maxPerOrder: 4 },
        { name: 'Camping Pass', price: '35.00', totalCapacity: 120, maxPerOrder: 4 },
      ],
      alreadySold: { 'General Admission': 180, VIP: 21, 'Camping Pass': 40 },
    },
    {
      slug: 'midnight-jazz-session',
      name: 'Midnight Jazz Session',
      description: 'An intimate late set. Almost gone; the bar stools are, but join their waiting list.',
      venue: 'Blue Room',
      startsAt: inDays(9),
      ticketTypes: [
        { name: 'Table Seat', price: '55.00', totalCapacity: 40, maxPerOrder: 4 },
        { name: 'Standing', price: '30.00', totalCapacity: 60, maxPerOrder: 6 },
        { name: WAITLIST_DEMO_TYPE, price: '40.00', totalCapacity: 12, maxPerOrder: 2 },
      ],
      alreadySold: { 'Table Seat': 37, Standing: 55, [WAITLIST_DEMO_TYPE]: 12 },
      waitlist: { offerSeconds: 60 },
    },
    {
      slug: 'open-air-cinema',
      name: 'Open Air Cinema',
      description: 'Free screening on the square; reserved seats up front.',
      venue: 'Market Square',
      startsAt: inDays(14),
      ticketTypes: [
        { name: 'Free RSVP', price: '0.00', totalCapacity: null, maxPerOrder: 10 },
        { name: 'Reserved Deckchair', price: '12.00', totalCapacity: 120, maxPerOrder: 6 },
      ],
      alreadySold: { 'Reserved Deckchair': 64, 'Free RSVP': 312 },
    },
    {
      slug: WAITING_ROOM_DEMO_SLUG,
      name: 'Neon Skyline: Arena Night',
      description: 'The on-sale everyone waits for: a virtual waiting room lets buyers in at a fair pace.',
      venue: 'Harbour Arena',
      startsAt: inDays(45),
      ticketTypes: [
        { name: 'Floor', price: '95.00', totalCapacity: 120, maxPerOrder: 4 },
        { name: 'Tier 1 Seat', price: '75.00', totalCapacity: 120, maxPerOrder: 4 },
      ],
      queue: { admitPerMinute: 30, maxActiveShoppers: 100, passSeconds: 180, abandonAfterSeconds: 30 },
    },
  ];
}

/**
 * Creates the demo events that do not exist yet; returns the slugs it
 * created. The waiting room's opensAt is set now, relative to the clock: it
 * is staged for the first start on a fresh database.
 */
export async function seedDemoEvents(db: Database, catalog: Catalog, options: DemoSeedOptions = {}): Promise<string[]> {
  const created: string[] = [];
  for (const { alreadySold = {}, queue, waitlist, ...input } of demoEvents()) {
    const exists = await db.query('SELECT 1 FROM events WHERE slug = $1', [input.slug]);
    if (exists.rows.length > 0) continue; // rows, not rowCount: PGlite counts no rows for a SELECT
    const event = await catalog.createEvent(input).catch((error: unknown) => {
      // Another node seeding the same fresh database at the same moment created it first: it finishes that event.
      if (error instanceof InventoryError && error.code === 'event_slug_taken') return undefined;
      throw error;
    });
    if (!event) continue;
    if (queue) {
      const opensAt = new Date(Date.now() + (options.queueOpensInMs ?? DEMO_QUEUE_OPENS_IN_MS)).toISOString();
      await configureQueue(db, event.id, { ...queue, opensAt });
    }
    if (waitlist) await new WaitingList(db).configure(event.id, waitlist);
    for (const type of event.ticketTypes) {
      const sold = alreadySold[type.name] ?? 0;
      if (sold === 0) continue;
      // Past sales, one row per seat, as a completed checkout would leave them.
      await db.query(
        `INSERT INTO tickets (event_id, event_ticket_id, status, holder_id, purchased_at)
         SELECT $1, $2, 'sold', 'demo-past-buyer', now() - make_interval(mins => n) FROM generate_series(1, $3::integer) AS n`,
        [event.id, type.id, sold],
      );
    }
    created.push(input.slug);
  }
  return created;
}
