import { randomBytes } from 'node:crypto';
import type { Catalog, EventWithTicketTypes, NewEvent, NewTicketType } from '../../src/inventory/catalog.ts';

export const uniqueSlug = (prefix = 'event') => `${prefix}-${randomBytes(4).toString('hex')}`;

export const holdSettings = { holdSeconds: 900, extensionSeconds: 300, maxExtensions: 2 };

/** An on-sale event; by default "General" (capacity 10, max 4 per order) and "VIP" (capacity 2). */
export function createEvent(
  catalog: Catalog,
  overrides: Partial<Omit<NewEvent, 'ticketTypes'>> & { ticketTypes?: NewTicketType[] } = {},
): Promise<EventWithTicketTypes> {
  return catalog.createEvent({
    slug: uniqueSlug(),
    name: 'Test Event',
    startsAt: new Date(Date.now() + 86_400_000).toISOString(),
    ticketTypes: [
      { name: 'General', price: '20.00', totalCapacity: 10, maxPerOrder: 4 },
      { name: 'VIP', price: '90.00', totalCapacity: 2, maxPerOrder: 2 },
    ],
    ...overrides,
  });
}

/** The ticket type with this name; fails loudly if the fixture has none. */
export function typeId(event: EventWithTicketTypes, name: string): string {
  const type = event.ticketTypes.find((t) => t.name === name);
  if (!type) throw new Error(`No ticket type ${name} in ${event.slug}`);
  return type.id;
}
