import type { Database } from '../db/database.ts';
import type { Catalog, NewEvent } from '../inventory/catalog.ts';

const DAY_MS = 86_400_000;
const inDays = (days: number) => new Date(Date.now() + days * DAY_MS).toISOString();

interface DemoEvent extends NewEvent {
  /** Seats sold before the demo starts, per ticket type name. */
  alreadySold?: Record<string, number>;
}

/** One ordinary on-sale, one nearly sold out, one with an unlimited ticket type. */
function demoEvents(): DemoEvent[] {
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
      description: 'An intimate late set. Almost gone.',
      venue: 'Blue Room',
      startsAt: inDays(9),
      ticketTypes: [
        { name: 'Table Seat', price: '55.00', totalCapacity: 40, maxPerOrder: 4 },
        { name: 'Standing', price: '30.00', totalCapacity: 60, maxPerOrder: 6 },
      ],
      alreadySold: { 'Table Seat': 37, Standing: 55 },
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
  ];
}

/** Creates the demo events that do not exist yet; returns the slugs it created. */
export async function seedDemoEvents(db: Database, catalog: Catalog): Promise<string[]> {
  const created: string[] = [];
  for (const { alreadySold = {}, ...input } of demoEvents()) {
    const exists = await db.query('SELECT 1 FROM events WHERE slug = $1', [input.slug]);
    if (exists.rowCount > 0) continue;
    const event = await catalog.createEvent(input);
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
